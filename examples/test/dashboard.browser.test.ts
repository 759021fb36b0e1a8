/**
 * The demo in a real browser: the dashboard shows three nodes; SDK clients started here sit on
 * one of them; "Stop (drain)" on the page moves them to the other two. The chat page's SDK
 * bundle works in the browser: two tabs exchange a message. Saves test-results/dashboard.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { createClient, type SwitchyardClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { CHROMIUM_ARGS, chromiumOrSkip, Program, repoRoot, waitFor } from './helpers.js';

const chromiumPath = chromiumOrSkip();

describe.skipIf(!chromiumPath)('demo dashboard in Chromium', () => {
  let demo: Program;
  let dashboard: string;
  let nodeUrls: Record<string, string>;
  let ctx: BrowserContext;
  let userDir: string;
  const clients: SwitchyardClient[] = [];

  beforeAll(async () => {
    demo = new Program('examples/demo/main.ts', ['--port', '0', '--bots', '3', '--exit-after', '300']);
    dashboard = (await demo.match(/dashboard\s+(http:\/\/\S+?)\/\s/, 'the dashboard URL'))[1] as string;
    await demo.match(/node-3\s+ws:\/\/\S+/, 'node-3 listening');
    nodeUrls = Object.fromEntries([...demo.output.matchAll(/(node-\d)\s+(ws:\/\/\S+)/g)].map((m) => [m[1] as string, m[2] as string]));
    userDir = mkdtempSync(join(tmpdir(), 'switchyard-chromium-'));
    ctx = await chromium.launchPersistentContext(userDir, {
      executablePath: chromiumPath as string,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
    });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await ctx?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    const code = await demo?.stop();
    expect(code, demo?.output).toBe(0);
  });

  const cards = (page: Page) => page.locator('article.node');
  const count = async (page: Page, id: string) => Number(await page.locator(`article[data-node="${id}"]`).getAttribute('data-connections'));

  it('shows three nodes, stops one from the page, and its connections move to the others', async () => {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${dashboard}/`);
    await waitFor(async () => (await page.locator('article.node[data-state="ready"]').count()) === 3, 'three ready nodes on the dashboard');
    expect(await cards(page).count()).toBe(3);

    // Six clients on node-2: maxRedirects 0 keeps each where it connected, whatever the balancer prefers.
    const victim = 'node-2';
    for (let i = 0; i < 6; i++) {
      const c = createClient({ url: nodeUrls[victim] as string, maxRedirects: 0, WebSocket: WebSocket as unknown as WebSocketConstructor, params: { name: `tester-${i}` }, reconnect: { baseMs: 50, maxMs: 500 } });
      c.on('error', () => undefined);
      c.room('lobby');
      clients.push(c);
    }
    await Promise.all(clients.map((c) => c.ready()));
    expect(clients.every((c) => c.connection?.node === victim)).toBe(true);
    await waitFor(async () => (await count(page, victim)) >= 1, `${victim}'s connections on the dashboard`);
    const before = await count(page, victim);

    await page.locator(`article[data-node="${victim}"] button[data-action="stop"]`).click();

    await waitFor(async () => (await page.locator(`article[data-node="${victim}"]`).getAttribute('data-process')) === 'stopped', `${victim} stopped`, 20_000);
    await waitFor(() => clients.every((c) => c.state === 'connected' && c.connection?.node !== victim), 'every client reconnected on another node', 20_000);
    await waitFor(async () => (await count(page, 'node-1')) + (await count(page, 'node-3')) >= 6, 'the six connections shown on node-1 and node-3', 20_000);
    expect(await count(page, victim)).toBe(0);
    expect(before).toBeGreaterThanOrEqual(1);
    const moved = new Set(clients.map((c) => c.connection?.node));
    expect([...moved].every((n) => n === 'node-1' || n === 'node-3')).toBe(true);
    await waitFor(async () => (await page.locator('.log li', { hasText: `${victim}: stopped and deregistered` }).count()) > 0, 'the stop in the event log');
    await waitFor(async () => (await page.locator('article.node[data-state="ready"]').count()) === 2, 'two ready nodes left');

    // Let the simulated users' traffic show in the rates and latencies before the screenshot.
    await waitFor(async () => (await page.locator('[data-testid="total-e2e"] .v').textContent()) !== '– / –', 'latency figures on the page', 20_000, 250);
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-results', 'dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('two chat tabs exchange a message through the SDK bundled for the browser', async () => {
    const [a, b] = [await ctx.newPage(), await ctx.newPage()];
    for (const [page, name] of [[a, 'ada'], [b, 'grace']] as const) {
      await page.goto(`${dashboard}/chat`);
      await page.fill('#name', name);
      await page.click('#join button[type=submit]');
      await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'connected', `${name} connected`);
      await waitFor(async () => (await page.locator('#messages li', { hasText: 'joined #lobby' }).count()) > 0, `${name} in the lobby`);
    }
    await a.fill('#text', 'hello from ada');
    await a.click('#send');
    await waitFor(async () => (await b.locator('#messages li', { hasText: 'hello from ada' }).count()) > 0, 'grace receives the message');
    expect(await b.locator('#messages li', { hasText: 'hello from ada' }).first().textContent()).toContain('ada');
    await a.close();
    await b.close();
  });
});
