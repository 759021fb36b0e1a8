/**
 * The dashboard in headless Chromium against two real nodes: it renders both nodes and their
 * rooms (screenshot: test-results/admin-dashboard.png); "Disconnect" on a connection closes that
 * client; "Drain" on a node moves its clients to the other node and shows it draining
 * (test-results/admin-dashboard-drained.png); a reader sees no action buttons and gets 403 on POST.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { waitFor } from '@switchyard/core/testing';
import type { SwitchyardNode } from '@switchyard/transport-ws';
import { createClient, type SwitchyardClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { attachAdminAgent, mountAdmin, type AdminHandle, type AdminPermissions } from '../src/index.js';
import { httpBase, startNodes } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing and CI=true: install it (apt-get install -y chromium)`);
if (!haveChromium) console.warn(`[admin] skipping the browser test: ${CHROMIUM} not found (apt-get install -y chromium)`);

/** HTTP Basic: `admin:admin-pw` may act, `reader:reader-pw` may only read. */
function authorize(req: IncomingMessage): AdminPermissions | false {
  const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
  const [user, pw] = m ? Buffer.from(m[1] as string, 'base64').toString('utf8').split(':') : [];
  if (user === 'admin' && pw === 'admin-pw') return { read: true, act: true };
  if (user === 'reader' && pw === 'reader-pw') return { read: true, act: false };
  return false;
}

describe.skipIf(!haveChromium)('the admin dashboard in Chromium', () => {
  let a: SwitchyardNode;
  let b: SwitchyardNode;
  let admin: AdminHandle;
  let browser: Browser;
  let userDir: string;
  const contexts: BrowserContext[] = [];
  const clients: SwitchyardClient[] = [];
  let base: string;

  const connect = async (node: SwitchyardNode, user: string, room: string) => {
    const c = createClient({ url: node.url, token: user, maxRedirects: 0, WebSocket: WebSocket as unknown as WebSocketConstructor, reconnect: { baseMs: 50, maxMs: 300, firstRetryMaxMs: 50 } });
    c.on('error', () => undefined);
    clients.push(c);
    const r = c.room(room);
    await c.ready();
    await waitFor(() => r.state === 'subscribed', 5000);
    return c;
  };

  beforeAll(async () => {
    [a, b] = (await startNodes(['node-1', 'node-2'], { authenticate: ({ token }) => (token ? { userId: token } : {}) })) as [SwitchyardNode, SwitchyardNode];
    admin = mountAdmin(a, { authorize, challenge: 'Basic realm="switchyard admin"', refreshMs: 500 });
    attachAdminAgent(b);
    base = `${httpBase(a)}/admin/`;
    userDir = mkdtempSync(join(tmpdir(), 'switchyard-admin-chromium-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    await admin?.close();
    await Promise.all([a?.close({ graceMs: 0 }), b?.close({ graceMs: 0 })]);
  });

  async function open(username: string, password: string): Promise<{ page: Page; errors: string[] }> {
    const ctx = await browser.newContext({ httpCredentials: { username, password }, viewport: { width: 1400, height: 1000 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('dialog', (d) => void d.accept());
    await page.goto(base);
    return { page, errors };
  }

  const attr = (page: Page, selector: string, name: string) => page.locator(selector).first().getAttribute(name);

  it('shows both nodes and their rooms; Disconnect closes a client; Drain moves a node’s clients and shows it draining', async () => {
    const moving: SwitchyardClient[] = [];
    for (let i = 0; i < 4; i++) moving.push(await connect(b, `user-${i}`, 'lobby'));
    const victim = await connect(a, 'mallory', 'ops');
    await connect(a, 'alice', 'lobby');

    const { page, errors } = await open('admin', 'admin-pw');
    await waitFor(async () => (await page.locator('article.node[data-state="ready"]').count()) === 2, 15_000);
    await waitFor(async () => (await attr(page, 'article[data-node="node-2"]', 'data-connections')) === '4', 15_000);
    await waitFor(async () => (await page.locator('tr[data-room="lobby"] [data-testid="members"]').textContent()) === '5', 15_000);
    expect(await page.locator('#access').textContent()).toBe('read + act');
    expect(await page.locator('button[data-action="drain"]').count()).toBe(2);

    // the members of #lobby, then a screenshot of the whole page
    await page.locator('tr[data-room="lobby"]').click();
    await waitFor(async () => (await page.locator('#connections tr[data-connection]').count()) === 5, 15_000);
    await waitFor(async () => (await page.locator('#live').getAttribute('data-state')) === 'live', 15_000);
    mkdirSync(results, { recursive: true });
    await page.screenshot({ path: join(results, 'admin-dashboard.png'), fullPage: true });

    // Disconnect: mallory (in #ops on node-1) is closed and stays away (4003)
    await page.locator('tr[data-room="ops"]').click();
    const id = victim.connection?.conn as string;
    const button = page.locator(`tr[data-connection="${id}"] button[data-action="disconnect"]`);
    await waitFor(async () => (await button.count()) === 1, 15_000);
    await button.click();
    await waitFor(() => victim.state === 'closed', 15_000);
    expect(a.connections.has(id)).toBe(false);
    await waitFor(async () => (await page.locator('#log li[data-kind="disconnect"]').count()) === 1, 15_000);

    // Drain node-2: it shows draining, its four clients land on node-1
    await page.locator('article[data-node="node-2"] button[data-action="drain"]').click();
    await waitFor(async () => (await attr(page, 'article[data-node="node-2"]', 'data-state')) === 'draining', 15_000);
    await waitFor(() => moving.every((c) => c.state === 'connected' && c.connection?.node === 'node-1'), 20_000);
    await waitFor(async () => (await attr(page, 'article[data-node="node-2"]', 'data-connections')) === '0', 15_000);
    await waitFor(async () => (await attr(page, 'article[data-node="node-1"]', 'data-connections')) === '5', 15_000);
    expect(b.connections.size).toBe(0);
    expect(await page.locator('article[data-node="node-2"] button[data-action="drain"]').isDisabled()).toBe(true);
    await waitFor(async () => (await page.locator('#log li', { hasText: 'node-2: ready -> draining' }).count()) === 1, 15_000);
    await page.screenshot({ path: join(results, 'admin-dashboard-drained.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('a reader sees the cluster but no action buttons, and a POST from the page is refused with 403', async () => {
    const { page, errors } = await open('reader', 'reader-pw');
    await waitFor(async () => (await page.locator('article.node').count()) === 2, 15_000);
    expect(await page.locator('#access').textContent()).toBe('read only');
    await page.locator('tr[data-room="lobby"]').click();
    await waitFor(async () => (await page.locator('#connections tr[data-connection]').count()) >= 1, 15_000);
    expect(await page.locator('button[data-action="drain"]').count()).toBe(0);
    expect(await page.locator('button[data-action="disconnect"]').count()).toBe(0);
    const answer = await page.evaluate(async () => {
      const res = await fetch('api/nodes/node-1/drain', { method: 'POST', headers: { 'x-switchyard-admin': '1' } });
      return { status: res.status, body: (await res.json()) as { message: string } };
    });
    expect(answer.status).toBe(403);
    expect(answer.body.message).toMatch(/may view the admin dashboard but not act/);
    expect(a.cluster.state).toBe('ready');
    // the one console error is Chromium reporting the refused request we just made
    expect(errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
  });

  it('without credentials the page is refused with 401 and the Basic challenge', async () => {
    const res = await fetch(base);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="switchyard admin"');
  });
});
