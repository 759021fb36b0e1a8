/**
 * The plugin on an in-memory cluster: decoration, routes (inject and real HTTP), the URL it
 * publishes, the WebSocket path and other paths' upgrades, app.close(), and bad options.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createCluster, MemoryHub } from '@switchyard/core';
import { waitFor } from '@switchyard/core/testing';
import { createClient, type SwitchyardClient } from '@switchyard/transport-ws/client';
import { switchyard, type SwitchyardPluginOptions } from '../src/index.js';
import { baseUrl, get, refused } from './helpers.js';

const apps: FastifyInstance[] = [];
const clients: SwitchyardClient[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const fn of cleanups.splice(0)) fn();
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function appWith(options: SwitchyardPluginOptions): Promise<FastifyInstance> {
  const app = Fastify();
  apps.push(app);
  await app.register(switchyard, { graceMs: 2000, ...options });
  return app;
}

const memoryCluster = (nodeId = 'n1', extra: { url?: string } = {}) => createCluster({ hub: new MemoryHub(), nodeId, heartbeatIntervalMs: 50, ...extra });

describe('@switchyard/fastify on an in-memory cluster', () => {
  it('decorates app.switchyard and answers /health, /ready, /metrics, /cluster, /route through app.inject (URL known: started at ready)', async () => {
    const app = await appWith({ cluster: memoryCluster('n1', { url: 'ws://chat.example/ws' }), path: '/ws' });
    await app.ready();
    await app.switchyardStarted;
    expect(app.switchyard.id).toBe('n1');
    expect(app.switchyard.url).toBe('ws://chat.example/ws');

    const health = await app.inject('/health');
    expect([health.statusCode, health.json()]).toEqual([200, { status: 'ok' }]);
    expect(health.headers['cache-control']).toBe('no-store');
    const ready = await app.inject('/ready');
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready' }]);
    const metrics = await app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/^switchyard_ws_connections(\{[^}]*\})? 0$/m);
    const cluster = await app.inject('/cluster');
    expect(cluster.json()).toMatchObject({ node: 'n1', totals: { nodes: 1, healthy: 1, connections: 0 } });
    const route = await app.inject('/route?user=ada');
    expect(route.json()).toEqual({ url: 'ws://chat.example/ws', node: 'n1', reason: expect.any(String) });
    expect((await app.inject({ method: 'HEAD', url: '/ready' })).statusCode).toBe(200);
  });

  it('serves the routes under httpPrefix, or not at all with http: false', async () => {
    const prefixed = await appWith({ cluster: memoryCluster('p', { url: 'ws://p.example/ws' }), httpPrefix: '/switchyard' });
    expect((await prefixed.inject('/switchyard/health')).statusCode).toBe(200);
    expect((await prefixed.inject('/switchyard/ready')).json()).toEqual({ status: 'ready' });
    expect((await prefixed.inject('/health')).statusCode).toBe(404);

    const none = await appWith({ cluster: memoryCluster('q', { url: 'ws://q.example/ws' }), http: false });
    none.get('/health', async () => ({ mine: true })); // the app's own route, no clash
    expect((await none.inject('/health')).json()).toEqual({ mine: true });
    expect((await none.inject('/metrics')).statusCode).toBe(404);
  });

  it('logLevel applies to the plugin\'s routes only (probes kept out of the request log)', async () => {
    const lines: string[] = [];
    const stream = { write: (line: string) => void lines.push(line) };
    const app = Fastify({ logger: { level: 'info', stream } });
    apps.push(app);
    await app.register(switchyard, { cluster: memoryCluster('l', { url: 'ws://l.example/ws' }), logLevel: 'warn' });
    app.get('/mine', async () => ({ ok: true }));
    await app.inject('/ready');
    await app.inject('/mine');
    const urls = lines.map((l) => (JSON.parse(l) as { req?: { url?: string } }).req?.url).filter(Boolean);
    expect(urls).toContain('/mine');
    expect(urls).not.toContain('/ready');
  });

  it('without a known URL starts once the app listens, publishes the address it listens on, and answers over real HTTP', async () => {
    const app = await appWith({ cluster: memoryCluster('n2'), path: '/live' });
    await app.ready();
    expect((await app.inject('/ready')).json()).toEqual({ status: 'starting' }); // not listening yet: not started
    await app.listen({ port: 0, host: '127.0.0.1' });
    await app.switchyardStarted;
    const { port } = app.server.address() as { port: number };
    expect(app.switchyard.url).toBe(`ws://127.0.0.1:${port}/live`);
    expect(app.switchyard.cluster.self.url).toBe(app.switchyard.url);

    expect(await get(app, '/health')).toMatchObject({ status: 200, text: '{"status":"ok"}' });
    expect(await get(app, '/ready')).toMatchObject({ status: 200, text: '{"status":"ready"}' });
    const metrics = await get(app, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    expect(metrics.text).toContain('switchyard_ws_connections_accepted_total');
  });

  it('an SDK client connects on the path and gets room messages; an upgrade on another path goes to its own server', async () => {
    const app = await appWith({ cluster: memoryCluster('n3'), path: '/ws' });
    // another WebSocket server on the same http.Server, for /other
    const other = new WebSocketServer({ noServer: true });
    const onUpgrade = (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.send('from the other server'));
    };
    app.server.on('upgrade', onUpgrade);
    cleanups.push(() => {
      app.server.off('upgrade', onUpgrade);
      other.close();
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    await app.switchyardStarted;

    const client = createClient({ url: app.switchyard.url, WebSocket });
    clients.push(client);
    const got: unknown[] = [];
    const lobby = client.room('lobby');
    lobby.on('message', (m) => got.push(m.data));
    await client.ready();
    await waitFor(() => lobby.state === 'subscribed', 10_000);
    await app.switchyard.to('lobby').send('chat', { text: 'hello' });
    await waitFor(() => got.length === 1, 10_000);
    expect(got).toEqual([{ text: 'hello' }]);

    const foreign = new WebSocket(`${baseUrl(app).replace('http', 'ws')}/other`);
    const text = await new Promise<string>((resolve, reject) => {
      foreign.once('message', (d) => resolve(String(d)));
      foreign.once('error', reject);
    });
    foreign.close();
    expect(text).toBe('from the other server');
    expect(app.switchyard.connections.size).toBe(1); // only the SDK client
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).not.toMatch(/^switchyard_ws_upgrades_refused_total\{/m);
  });

  it('app.close() drains the node: a lone node closes its client with 1001 (no other node to suggest), the cluster stops, the port is free', async () => {
    const app = await appWith({ cluster: memoryCluster('n4'), graceMs: 3000 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    await app.switchyardStarted;
    const { port } = app.server.address() as { port: number };
    const client = createClient({ url: app.switchyard.url, WebSocket, reconnect: { baseMs: 60_000, maxMs: 60_000, firstRetryMaxMs: 60_000 } });
    clients.push(client);
    const closes: number[] = [];
    client.on('disconnected', (e) => closes.push(e.code));
    await client.ready();
    expect(app.switchyard.connections.size).toBe(1);

    await app.close();
    await waitFor(() => closes.length > 0, 10_000);
    expect(closes[0]).toBe(1001);
    expect(app.switchyard.readiness).toBe('draining');
    expect(app.switchyard.cluster.phase).toBe('stopped');
    expect(app.switchyard.sockets.size).toBe(0);
    expect(app.server.listening).toBe(false);
    expect(await refused(port)).toBe(true);
  });

  it('app.close() with another node in the cluster moves the client there (1012 with the hint)', async () => {
    const hub = new MemoryHub();
    const [a, b] = await Promise.all(['a', 'b'].map((nodeId) => appWith({ cluster: createCluster({ hub, nodeId, heartbeatIntervalMs: 50 }), graceMs: 3000 })));
    if (!a || !b) throw new Error('two apps');
    for (const app of [a, b]) {
      await app.listen({ port: 0, host: '127.0.0.1' });
      await app.switchyardStarted;
    }
    await waitFor(() => a.switchyard.cluster.healthyNodes().length === 2 && b.switchyard.cluster.healthyNodes().length === 2, 10_000);
    const client = createClient({ url: a.switchyard.url, WebSocket, maxRedirects: 0 });
    clients.push(client);
    const closes: Array<{ code: number; reason: string }> = [];
    client.on('disconnected', (e) => closes.push({ code: e.code, reason: e.reason }));
    const dialed: string[] = [];
    client.on('connecting', (e) => dialed.push(e.url));
    await client.ready();
    expect(client.connection?.node).toBe('a');

    await a.close();
    await waitFor(() => closes.length > 0, 10_000);
    expect(closes[0]?.code).toBe(1012);
    await waitFor(() => client.state === 'connected' && client.connection?.node === 'b', 10_000);
    expect(b.switchyard.connections.size).toBe(1);
    expect(dialed.at(-1)).toBe(b.switchyard.url); // the hint, not a guess
  });

  it('an app closed before it listened closes the node too', async () => {
    const app = await appWith({ cluster: memoryCluster('n5') });
    await app.ready();
    await app.close();
    expect(app.switchyard.cluster.phase).not.toBe('running');
    expect(app.switchyard.readiness).toBe('draining');
    await expect(app.switchyardStarted).rejects.toMatchObject({ code: 'CLOSED' }); // never left pending
    expect(app.switchyard.httpServer).toBeUndefined(); // never attached
  });

  it('a node that cannot start fails app.ready() when it starts there', async () => {
    const cluster = memoryCluster('n6', { url: 'ws://x.example/ws' });
    await cluster.start();
    await cluster.stop();
    const app = await appWith({ cluster });
    await expect(app.ready()).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(app.switchyardStarted).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('bad options', () => {
  const fails = async (options: unknown, ...mentions: string[]) => {
    const app = Fastify();
    apps.push(app);
    let err: unknown;
    try {
      await app.register(switchyard, options as SwitchyardPluginOptions);
    } catch (e) {
      err = e;
    }
    expect(err, 'the plugin must refuse these options').toMatchObject({ name: 'SwitchyardError', code: 'CONFIG_INVALID' });
    for (const m of mentions) expect((err as Error).message).toContain(m);
  };

  it('are CONFIG_INVALID naming the option, in plain words', async () => {
    await fails({ port: 3000 }, 'port:', 'app.listen');
    await fails({ server: {} }, 'server:', 'app.server');
    await fails({ limits: { listenBacklog: 8192 } }, 'limits.listenBacklog:', 'app.listen({ port, backlog })');
    await fails({ path: 'ws' }, 'path:', 'must start with /');
    await fails({ graceMs: -5 }, 'graceMs:');
    await fails({ httpPrefix: 'health/' }, 'httpPrefix:');
    await fails({ pth: '/ws' }, 'pth: unknown option (did you mean path?)');
    await fails({ heartbeatMs: 5000 }, 'heartbeatMs: moved to timeouts.heartbeatMs');
    await fails({ prefix: '/api' }, 'prefix:', 'httpPrefix');
    await fails({ cluster: createCluster({ hub: new MemoryHub() }), adapter: {} }, 'adapter:', 'either cluster or adapter');
  });

  it('an HTTP/2 app is refused in plain words (no WebSocket upgrade there)', async () => {
    const app = Fastify({ http2: true });
    let err: unknown;
    try {
      await app.register(switchyard, {});
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('http2: ') });
    await app.close();
  });
});
