/**
 * The demo in a real browser: the dashboard shows three nodes; SDK clients started here sit on
 * one of them; "Stop (drain)" on the page moves them to the other two. The chat page's SDK
 * bundle works in the browser: two tabs exchange a message; its form's pattern is a valid
 * regular expression; a redirect shows as a move and a fenced node's 4011 as such, never as
 * "disconnected (4300)". "Kill (crash)" never shows more healthy nodes than known ones. Saves
 * test-results/dashboard.png, chat-moves.png and dashboard-kill.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { WebSocket, WebSocketServer } from 'ws';
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

  const lines = (page: Page) => page.locator('#messages li').allTextContents();

  it('the chat page: a valid room pattern; a redirect shown as a move, a fenced node as fenced, neither as a lost connection', async () => {
    const page = await ctx.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.goto(`${dashboard}/chat`);
    // Chromium compiles `pattern` with the v flag and ignores (and logs) an invalid one
    const room = page.locator('#room');
    expect(await room.evaluate((el: HTMLInputElement) => el.checkValidity())).toBe(true);
    await room.fill('team/a-b.c:d@e');
    expect(await room.evaluate((el: HTMLInputElement) => el.checkValidity())).toBe(true);
    await room.fill('two words');
    expect(await room.evaluate((el: HTMLInputElement) => el.checkValidity())).toBe(false);
    await room.fill('lobby');

    // A real redirect: the tab dials only the busier of the two nodes left; least connections sends it to the other.
    type View = { nodes: Array<{ id: string; load: { connections: number } }> };
    const view = async (id: string) => (await (await fetch((nodeUrls[id] as string).replace(/^ws/, 'http').replace(/\/ws$/, '/cluster'))).json()) as View;
    const load = (v: View, id: string) => v.nodes.find((n) => n.id === id)?.load.connections ?? 0;
    const first = await view('node-1');
    const [busy, idle] = load(first, 'node-1') >= load(first, 'node-3') ? ['node-1', 'node-3'] : ['node-3', 'node-1'];
    for (let i = 0; i < 4; i++) {
      const c = createClient({ url: nodeUrls[busy] as string, maxRedirects: 0, WebSocket: WebSocket as unknown as WebSocketConstructor, params: { name: `weight-${i}` } });
      c.on('error', () => undefined);
      clients.push(c);
      await c.ready();
    }
    await waitFor(async () => {
      const v = await view(busy);
      return load(v, busy) >= load(v, idle) + 3;
    }, `${busy}'s view of the cluster showing it busier than ${idle}`);
    await page.route('**/api/urls', (r) => r.fulfill({ json: { urls: [nodeUrls[busy]] } }));
    await page.fill('#name', 'mover');
    await page.click('#join button[type=submit]');
    await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'connected', 'the redirected tab connected');
    await waitFor(async () => (await page.locator('#messages li', { hasText: 'joined #lobby' }).count()) > 0, 'the redirected tab in the lobby');
    expect(await page.locator('#conn-text').textContent()).toContain(`on ${idle}`);
    let log = await lines(page);
    expect(log.find((l) => l.startsWith('redirected to'))).toBe(`redirected to ${nodeUrls[idle]} (balancer): a normal move, the cluster placed us there`);
    expect(log.filter((l) => /disconnected|reconnecting/.test(l))).toEqual([]);

    // A fenced node, scripted: it welcomes the tab, closes with 4011, then sends the retry on to a real node.
    const fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    try {
      await new Promise((r) => fake.once('listening', r));
      const fakeUrl = `ws://127.0.0.1:${(fake.address() as { port: number }).port}/ws`;
      let dials = 0;
      fake.on('connection', (ws) => {
        const first = dials++ === 0;
        ws.once('message', () => {
          if (first) {
            ws.send(JSON.stringify({ t: 'welcome', v: 1, session: 'fenced-session', conn: 'c1', node: 'node-fenced', resumed: false, heartbeatMs: 0, maxPayload: 65536, rooms: {} }));
            ws.close(4011, 'fenced');
          } else {
            ws.send(JSON.stringify({ t: 'redirect', url: nodeUrls[idle], reason: 'balancer' }));
          }
        });
      });
      await page.unroute('**/api/urls');
      await page.route('**/api/urls', (r) => r.fulfill({ json: { urls: [fakeUrl] } }));
      await page.click('#join button[type=submit]');
      await waitFor(async () => (await page.locator('#messages li', { hasText: 'fenced itself' }).count()) > 0, 'the fenced close in the log');
      await waitFor(async () => (await page.locator('#messages li', { hasText: `connected to ${idle}` }).count()) > 1, `the tab back on ${idle}`);
      log = await lines(page);
      expect(log).toContain('node-fenced fenced itself (4011: it lost contact with the cluster and serves no one): moving to another node');
      expect(log.filter((l) => /disconnected \((4300|4011)/.test(l))).toEqual([]);
    } finally {
      await new Promise((r) => fake.close(r));
    }
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-results', 'chat-moves.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('after "Kill (crash)" the totals never show more healthy nodes than known ones, and no advice moves connections to the killed node', async () => {
    const page = await ctx.newPage();
    await page.goto(`${dashboard}/`);
    await page.click('#start-node');
    await waitFor(async () => (await page.locator('article.node[data-node="node-4"][data-state="ready"]').count()) === 1, 'node-4 started and ready', 20_000);
    await waitFor(async () => (await page.locator('[data-testid="total-healthy"] .v').textContent()) === '3 / 3', 'three healthy of three');
    const logBefore = await page.locator('.log li').count();

    await page.locator('article[data-node="node-3"] button[data-action="kill"]').click();
    const seen: string[] = [];
    await waitFor(async () => {
      const v = (await page.locator('[data-testid="total-healthy"] .v').textContent()) ?? '';
      if (seen.at(-1) !== v) seen.push(v);
      return (await page.locator('.log li', { hasText: 'node-3 declared dead' }).count()) > 0 && v === '2 / 2';
    }, 'node-3 declared dead and the totals settled', 20_000, 100);
    for (const v of seen) {
      const [healthy, known] = v.split(' / ').map(Number) as [number, number];
      expect(healthy, `"${v}" in ${JSON.stringify(seen)}`).toBeLessThanOrEqual(known);
    }
    // while the registry still listed it, the killed node was known but not healthy
    expect(seen).toContain('2 / 3');
    const after = (await page.locator('.log li').allTextContents()).slice(0, (await page.locator('.log li').count()) - logBefore);
    expect(after.filter((l) => /rebalance advice:.*node-3/.test(l))).toEqual([]);
    await page.screenshot({ path: join(repoRoot, 'test-results', 'dashboard-kill.png'), fullPage: true });
    await page.close();
  });
});
