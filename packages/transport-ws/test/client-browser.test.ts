/**
 * A real browser (headless Chromium driven by playwright-core) loads a page that uses the SDK
 * (bundled for the browser by esbuild here), joins a room on one node and receives a message
 * sent from ANOTHER node of a 2-node in-memory cluster in this process.
 * Skips when /usr/bin/chromium is missing, unless CI=true (then it fails).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { createCluster, MemoryHub } from '@switchyard/core';
import { waitFor } from '@switchyard/core/testing';
import { createNode, type SwitchyardNode } from '../src/index.js';
import { httpGet, metric } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const ci = process.env.CI === 'true';
if (!present && !ci) console.warn(`[client-browser] SKIPPED: ${CHROMIUM} is missing (install it with: apt-get install -y chromium)`);

const here = fileURLToPath(new URL('.', import.meta.url));

interface PageResults {
  connected: { node: string; session: string; resumed: boolean } | null;
  subscribed: { room: string; recovering: boolean } | null;
  messages: { event?: string; data: unknown; room?: string; offset?: number; from?: string }[];
  states: string[];
  errors: string[];
  hasGlobalWebSocket: boolean;
}

describe.skipIf(!present && !ci)('client SDK in a real browser (headless Chromium)', () => {
  let nodes: SwitchyardNode[] = [];
  let http: Server | undefined;
  let context: BrowserContext | undefined;
  let profile: string | undefined;
  let sdk = '';

  beforeAll(async () => {
    if (!present) throw new Error(`CI=true but ${CHROMIUM} is missing: install chromium on the CI machine`);
    const bundle = await build({ entryPoints: [join(here, 'browser/entry.ts')], bundle: true, minify: true, format: 'iife', globalName: 'Switchyard', platform: 'browser', target: 'es2020', write: false });
    sdk = bundle.outputFiles[0]?.text ?? '';
    const html = await readFile(join(here, 'browser/index.html'), 'utf8');
    http = createServer((req, res) => {
      if (req.url === '/sdk.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
      else if (req.url?.startsWith('/?') || req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => http?.listen(0, '127.0.0.1', resolve));

    const hub = new MemoryHub();
    nodes = ['b1', 'b2'].map((id) => createNode({ cluster: createCluster({ hub, nodeId: id, heartbeatIntervalMs: 50, nodeTimeoutMs: 400, history: true }), port: 0, rooms: { history: true } }));
    await Promise.all(nodes.map((n) => n.start()));
    await waitFor(() => nodes.every((n) => n.cluster.healthyNodes().length === 2));

    profile = await mkdtemp(join(tmpdir(), 'switchyard-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await context?.close();
    await Promise.all(nodes.map((n) => n.close({ graceMs: 0 })));
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('the bundle stays small: minified + gzipped under 20 KB', () => {
    const gz = gzipSync(sdk, { level: 9 }).length;
    console.info(`[client-browser] SDK bundle: ${sdk.length} bytes minified, ${gz} bytes gzipped`);
    expect(gz).toBeGreaterThan(1000);
    expect(gz).toBeLessThan(20 * 1024);
  });

  it('joins a room on one node and receives a message sent from another node', async () => {
    const page = await (context as BrowserContext).newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const [home, remote] = nodes as [SwitchyardNode, SwitchyardNode];
    const { port } = (http as Server).address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/?ws=${encodeURIComponent(home.url)}&room=browser-room`);
    const results = () => page.evaluate(() => (window as unknown as { results: PageResults }).results);
    await waitFor(async () => (await results()).subscribed !== null, 10_000);
    const joined = await results();
    expect(joined.hasGlobalWebSocket).toBe(true);
    expect(joined.connected?.node).toBe(home.id);
    expect(joined.states).toEqual(['connected']);
    // the browser's WebSocket carried the hello in the upgrade (the early hello): no hello frame
    const scraped = await httpGet(home.url, '/metrics');
    expect(metric(scraped.text, 'switchyard_ws_early_hellos_total')).toBe(1);

    await remote.to('browser-room').send('greeting', { text: 'hello from b2' });
    await waitFor(async () => (await results()).messages.length === 1, 10_000);
    const r = await results();
    expect(r.messages[0]).toMatchObject({ event: 'greeting', data: { text: 'hello from b2' }, room: 'browser-room', offset: expect.any(Number) });

    // and the other way: the browser publishes with an ack and gets its own room message back through the bus
    const ack = await page.evaluate(() => (window as unknown as { publish: (d: unknown) => Promise<{ offset?: number }> }).publish({ text: 'hi from the browser' }));
    expect(ack.offset).toEqual(expect.any(Number));
    await waitFor(async () => (await results()).messages.length === 2, 10_000);
    expect((await results()).messages[1]).toMatchObject({ event: 'from-browser', data: { text: 'hi from the browser' } });
    expect(r.errors).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
