import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCluster, MemoryHub } from '@switchyard/core';
import { WebSocketServer } from 'ws';
import WebSocket from 'ws';
import { createNode, type SwitchyardNode } from '../src/index.js';
import { httpGet, metric, startNodes, TestClient } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('HTTP endpoints and attaching', () => {
  it('/health /ready /metrics /cluster /route answer', async () => {
    nodes.push(...(await startNodes(['a', 'b', 'c'])));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const c1 = await TestClient.connect(a.url, { noRedirect: true });
    clients.push(c1.client);
    expect((await httpGet(a.url, '/health')).json()).toEqual({ status: 'ok' });
    expect(await httpGet(a.url, '/ready')).toMatchObject({ status: 200 });
    const m = (await httpGet(a.url, '/metrics')).text;
    expect(metric(m, 'switchyard_ws_connections')).toBe(1);
    expect(m).toContain('switchyard_cluster_healthy_nodes');
    const cluster = (await httpGet(b.url, '/cluster')).json() as { node: string; nodes: Array<{ id: string; url: string }>; totals: Record<string, number> };
    expect(cluster.node).toBe('b');
    expect(cluster.nodes.map((n) => n.id)).toEqual(['a', 'b', 'c']);
    expect(cluster.nodes.find((n) => n.id === 'a')?.url).toBe(a.url);
    expect(cluster.totals).toMatchObject({ nodes: 3, healthy: 3, capacity: 30_000 });
    const route = (await httpGet(b.url, `/route?session=${String(c1.welcome.session)}`)).json();
    expect(route).toEqual({ url: a.url, node: 'a', reason: 'session' });
    const fresh = (await httpGet(b.url, '/route')).json() as { url: string; node: string };
    expect(nodes.map((n) => n.url)).toContain(fresh.url);
    expect((await httpGet(a.url, '/nothing')).status).toBe(404);
  });

  it('attaches to an existing http.Server: other upgrade paths are left alone, endpoints mount under a prefix', async () => {
    const other = new WebSocketServer({ noServer: true });
    const ref: { node?: SwitchyardNode } = {};
    const server = createServer((req, res) => ref.node?.httpHandler(req, res, () => res.writeHead(200).end('app')));
    servers.push(server);
    server.on('upgrade', (req, socket, head) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.send('from other'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const node = createNode({ cluster: createCluster({ hub: new MemoryHub(), nodeId: 'solo' }), server, path: '/live', httpPrefix: '/sy', publicUrl: `ws://127.0.0.1:${port}/live` });
    ref.node = node;
    nodes.push(node);
    await node.start();
    const { client, welcome } = await TestClient.connect(node.url);
    clients.push(client);
    expect(welcome.node).toBe('solo');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
    const text = await new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    expect(text).toBe('from other');
    ws.close();
    await new Promise((r) => ws.once('close', r));
    other.close();
    expect((await httpGet(`ws://127.0.0.1:${port}`, '/sy/health')).json()).toEqual({ status: 'ok' });
    expect((await httpGet(`ws://127.0.0.1:${port}`, '/health')).text).toBe('app');
    await node.close({ graceMs: 1000 });
    expect(server.listening).toBe(true); // a server we were given stays open
  });

  it('start() before listen(): the URL is the cluster url when given, else the address once the server listens', async () => {
    const hub = new MemoryHub();
    const given = createServer();
    servers.push(given);
    const withUrl = createNode({ cluster: createCluster({ hub, nodeId: 'named', url: 'wss://named.example/ws' }), server: given });
    nodes.push(withUrl);
    await withUrl.start(); // the server is not listening yet
    expect(withUrl.url).toBe('wss://named.example/ws');

    const later = createServer();
    servers.push(later);
    const node = createNode({ cluster: createCluster({ hub, nodeId: 'later' }), server: later });
    nodes.push(node);
    const started = node.start();
    await new Promise<void>((r) => later.listen(0, '127.0.0.1', r));
    await started;
    expect(node.url).toBe(`ws://127.0.0.1:${(later.address() as AddressInfo).port}/ws`);
    const { welcome } = await TestClient.connect(node.url).then((c) => (clients.push(c.client), c));
    expect(welcome.node).toBe('later');
  });
});

describe('adaptive batching', () => {
  it('an idle socket gets a plain msg at once; a burst goes out in batch frames, in order', async () => {
    nodes.push(...(await startNodes(['a', 'b'], { batch: { maxMessages: 16, maxDelayMs: 5 } })));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const c = await TestClient.connect(a.url, { noRedirect: true, rooms: { burst: {} } });
    clients.push(c.client);
    await b.to('burst').send('one', 0);
    const single = await c.client.waitFrame((f) => f.event === 'one');
    expect(single.t).toBe('msg');
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => a.to('burst').send('many', i)));
    await c.client.waitMsgs(n + 1);
    expect(c.client.msgs.filter((m) => m.event === 'many').map((m) => m.data)).toEqual(Array.from({ length: n }, (_, i) => i));
    const batches = c.client.frames.filter((f) => f.t === 'batch');
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((f) => (f.m as unknown[]).length <= 16)).toBe(true);
    expect(c.client.frames.filter((f) => f.t === 'msg' || f.t === 'batch').length).toBeLessThan(n / 2);
    const text = await a.cluster.metricsRegistry.metrics();
    expect(metric(text, 'switchyard_ws_batches_total')).toBe(batches.length);
    expect(metric(text, 'switchyard_ws_messages_sent_total')).toBe(n + 1);
  });
});

describe('room-level batching', () => {
  it('the messages of a room in one turn go to every member as one frame, encoded once, in order (history and plain rooms)', async () => {
    nodes.push(...(await startNodes(['a'], { rooms: { history: (r: string) => r.startsWith('h-') } })));
    const [a] = nodes as [SwitchyardNode];
    for (const room of ['h-busy', 'busy']) {
      const members = await Promise.all(Array.from({ length: 10 }, () => TestClient.connect(a.url, { rooms: { [room]: {} } })));
      for (const m of members) clients.push(m.client);
      const before = metric(await a.cluster.metricsRegistry.metrics(), 'switchyard_ws_shared_writes_total');
      const spy = vi.spyOn(Buffer, 'from');
      try {
        // one turn: 30 sends (the history appends resolve together, in one later turn)
        await Promise.all(Array.from({ length: 30 }, (_, i) => a.to(room).send('m', i)));
        for (const m of members) await m.client.waitMsgs(30);
      } finally {
        spy.mockRestore();
      }
      for (const m of members) {
        expect(m.client.msgs.map((x) => x.data)).toEqual(Array.from({ length: 30 }, (_, i) => i));
        // a few frames for 30 messages, not 30
        expect(m.client.frames.filter((f) => f.t === 'msg' || f.t === 'batch').length).toBeLessThan(10);
      }
      const shared = metric(await a.cluster.metricsRegistry.metrics(), 'switchyard_ws_shared_writes_total') - before;
      expect(shared).toBeGreaterThanOrEqual(10);
      // the batch frames were encoded per batch, not per socket
      expect(spy.mock.calls.filter((c) => typeof c[0] === 'string' && String(c[0]).includes('"t":"batch"')).length).toBeLessThanOrEqual(shared / 10);
    }
  });
});

describe('fan-out', () => {
  it('encodes a message once per node, not once per socket', async () => {
    nodes.push(...(await startNodes(['a'])));
    const [a] = nodes as [SwitchyardNode];
    const many = await Promise.all(Array.from({ length: 20 }, () => TestClient.connect(a.url, { rooms: { fan: {} } })));
    for (const m of many) clients.push(m.client);
    const spy = vi.spyOn(JSON, 'stringify');
    try {
      await a.to('fan').send('wide', { payload: 'same for all' });
      // one for the client frame, one for the bus envelope: independent of the 20 sockets
      expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      spy.mockRestore();
    }
    await Promise.all(many.map((m) => m.client.waitFrame((f) => f.event === 'wide')));
  });
});
