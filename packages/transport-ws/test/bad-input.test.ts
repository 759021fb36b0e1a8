import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { createClient } from '../src/client/index.js';
import { waitFor } from '@switchyard/core/testing';
import type { SwitchyardNode } from '../src/index.js';
import { httpGet, metric, startNodes, TestClient } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

async function connect(node: SwitchyardNode, hello: Record<string, unknown> = {}) {
  const r = await TestClient.connect(node.url, { noRedirect: true, ...hello });
  clients.push(r.client);
  return r.client;
}

/** The node still serves a well-behaved client end to end. */
async function stillHealthy(node: SwitchyardNode, other: SwitchyardNode) {
  expect((await httpGet(node.url, '/health')).status).toBe(200);
  expect((await httpGet(node.url, '/ready')).status).toBe(200);
  const good = await connect(node, { rooms: { ok: {} } });
  await other.to('ok').send('fine', 1);
  await good.waitFrame((f) => f.event === 'fine');
}

describe('bad input gets its documented answer and the node stays healthy', () => {
  it('malformed JSON, unknown types and bad fields get error frames; too many close with 4000', async () => {
    nodes.push(...(await startNodes(['a', 'b'], { limits: { maxBadFrames: 4 } })));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const c = await connect(a);
    c.send('{not json');
    expect(await c.waitFrame((f) => f.t === 'error')).toMatchObject({ code: 'bad_frame' });
    c.send({ t: 'teleport', id: 9 });
    expect(await c.waitFrame((f) => f.t === 'error' && f.code === 'unknown_type')).toMatchObject({ id: 9 });
    expect(await c.request({ t: 'join', room: 'has space' })).toMatchObject({ t: 'error', code: 'bad_frame' });
    c.send('[1,2]');
    await waitFor(() => c.frames.filter((f) => f.t === 'error').length === 4);
    expect(c.closed).toBeUndefined(); // four tolerated, the connection stays open
    expect(await c.request({ t: 'msg', data: 1 })).toMatchObject({ t: 'ack', ok: true });
    c.send('nope');
    await waitFor(() => c.closed);
    expect(c.closed?.code).toBe(4000);

    const before = await TestClient.open(a.url);
    clients.push(before);
    before.send({ t: 'join', room: 'x', id: 1 });
    expect(await before.waitFrame((f) => f.t === 'error')).toMatchObject({ code: 'bad_frame', id: 1, message: 'hello expected first' });
    before.send({ t: 'hello', v: 2 });
    await waitFor(() => before.closed);
    expect(before.closed?.code).toBe(4400);

    const text = (await httpGet(a.url, '/metrics')).text;
    expect(metric(text, 'switchyard_ws_bad_frames_total', 'reason="bad_json"')).toBe(2);
    expect(metric(text, 'switchyard_ws_bad_frames_total', 'reason="unknown_type"')).toBe(1);
    expect(metric(text, 'switchyard_ws_bad_frames_total', 'reason="bad_fields"')).toBe(3);
    expect(metric(text, 'switchyard_ws_connections_closed_total', 'code="4000"')).toBe(1);
    await stillHealthy(a, b);
  });

  it('an oversized frame closes with 1009', async () => {
    nodes.push(...(await startNodes(['a', 'b'], { limits: { maxPayload: 1024 } })));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const c = await connect(a);
    c.send({ t: 'msg', data: 'x'.repeat(2000) });
    await waitFor(() => c.closed);
    expect(c.closed?.code).toBe(1009);
    expect(metric((await httpGet(a.url, '/metrics')).text, 'switchyard_ws_bad_frames_total', 'reason="too_large"')).toBe(1);
    await stillHealthy(a, b);
  });

  it('a flood past the rate limit gets rate_limited errors, then 4008', async () => {
    nodes.push(...(await startNodes(['a', 'b'], { limits: { rateLimit: { messagesPerSecond: 5, burst: 5, maxStrikes: 10 } } })));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const c = await connect(a);
    for (let i = 0; i < 100; i++) c.send({ t: 'ping' });
    await waitFor(() => c.closed);
    expect(c.closed?.code).toBe(4008);
    expect(c.frames.filter((f) => f.t === 'error' && f.code === 'rate_limited').length).toBeGreaterThan(0);
    expect(c.frames.filter((f) => f.t === 'pong').length).toBeLessThanOrEqual(6);
    expect(metric((await httpGet(a.url, '/metrics')).text, 'switchyard_ws_rate_limited_total')).toBeGreaterThan(10);
    await stillHealthy(a, b);
  });

  it('a slow consumer that never reads loses low-priority messages first, then is closed with 4009; the others get everything', async () => {
    nodes.push(...(await startNodes(['a', 'b'], { sendQueue: { maxMessages: 32, highWaterBytes: 16_384 }, timeouts: { closeTimeoutMs: 3000 } })));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const slow = await connect(a, { rooms: { firehose: {} } });
    const fast = await connect(a, { rooms: { firehose: {} } });
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const blob = 'x'.repeat(8192);
    let i = 0;
    // a few MB: more than the loopback socket buffers can hide
    while (i < 1500 && !(metric(await a.cluster.metricsRegistry.metrics(), 'switchyard_ws_slow_consumers_total') >= 1)) {
      for (let k = 0; k < 50; k++, i++) await b.to('firehose').send('blob', { i, blob }, { priority: i % 2 ? 'low' : 'normal' });
      await new Promise((r) => setImmediate(r)); // let socket I/O run between bursts, as a real bus would
    }
    expect(i).toBeLessThan(1500);
    await b.to('firehose').send('last', i);
    await fast.waitFrame((f) => f.event === 'last', 10_000);
    expect(fast.msgs.filter((m) => m.event === 'blob').length).toBe(i);
    const text = await a.cluster.metricsRegistry.metrics();
    expect(metric(text, 'switchyard_ws_slow_consumers_total')).toBe(1);
    expect(metric(text, 'switchyard_ws_frames_dropped_total', 'reason="queue_full"')).toBeGreaterThan(0);
    socket.resume();
    await waitFor(() => slow.closed, 5000);
    expect(slow.closed?.code).toBe(4009);
    await stillHealthy(a, b);
  });

  it('no hello in time, and no pong in time, close with 4010', async () => {
    nodes.push(...(await startNodes(['a', 'b'], { timeouts: { helloTimeoutMs: 150, heartbeatMs: 100 } })));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const silent = await TestClient.open(a.url);
    clients.push(silent);
    const deaf = await connect(a);
    deaf.autoPong = false;
    const polite = await connect(a);
    await waitFor(() => silent.closed && deaf.closed, 3000);
    expect(silent.closed?.code).toBe(4010);
    expect(deaf.closed?.code).toBe(4010);
    expect(deaf.frames.some((f) => f.t === 'ping')).toBe(true);
    expect(polite.closed).toBeUndefined();
    expect(metric((await httpGet(a.url, '/metrics')).text, 'switchyard_ws_heartbeat_timeouts_total')).toBe(2);
    await stillHealthy(a, b);
  });

  it('a frame nested thousands deep is a bad_frame (too_deep), not an internal error', async () => {
    nodes.push(...(await startNodes(['a', 'b'])));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const c = await connect(a, { rooms: { deep: {} } });
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    c.send(`{"t":"pub","id":7,"room":"deep","data":${deep}}`);
    // (the frame is not parsed, so the error cannot name its id)
    expect(await c.waitFrame((f) => f.t === 'error')).toEqual({ t: 'error', code: 'bad_frame', message: 'frame nests deeper than 64 levels' });
    // a string full of brackets is not nesting
    expect(await c.request({ t: 'pub', room: 'deep', data: '['.repeat(500) })).toMatchObject({ t: 'ack', ok: true });
    expect(metric((await httpGet(a.url, '/metrics')).text, 'switchyard_ws_bad_frames_total', 'reason="too_deep"')).toBe(1);
    await stillHealthy(a, b);
  });

  it('a reserved or malformed room name in hello.rooms gets an error for that room in the welcome; the rest is joined', async () => {
    nodes.push(...(await startNodes(['a', 'b'])));
    const [a] = nodes as [SwitchyardNode, SwitchyardNode];
    const c = await TestClient.open(a.url);
    clients.push(c);
    c.send('{"t":"hello","v":1,"noRedirect":true,"rooms":{"__proto__":{},"constructor":{},"has space":{},"fine":{}}}');
    const w = await c.waitFrame((f) => f.t === 'welcome');
    const rooms = w.rooms as Record<string, { error?: { code: string } }>;
    expect(Object.keys(rooms).sort()).toEqual(['__proto__', 'constructor', 'fine', 'has space']);
    for (const r of ['__proto__', 'constructor', 'has space']) expect(rooms[r]?.error?.code).toBe('bad_frame');
    expect(rooms.fine?.error).toBeUndefined();

    // the SDK reports such a room refused, never subscribed
    const sdk = createClient({ url: a.url, WebSocket: WS });
    try {
      const proto = sdk.room('__proto__');
      const fine = sdk.room('fine');
      const refused = new Promise<{ error?: { serverCode?: string } }>((resolve) => proto.once('unsubscribed', resolve));
      await sdk.ready();
      expect((await refused).error?.serverCode).toBe('bad_frame');
      await waitFor(() => fine.state === 'subscribed');
      expect(proto.state).toBe('unsubscribed');
    } finally {
      sdk.close();
    }
  });

  it('an upgrade whose headers never finish is cut after timeouts.headersTimeoutMs (slowloris)', async () => {
    nodes.push(...(await startNodes(['a'], { timeouts: { headersTimeoutMs: 300 } })));
    const [a] = nodes as [SwitchyardNode];
    const { port } = new URL(a.url);
    const socket = createConnection({ host: '127.0.0.1', port: Number(port) });
    let closed = false;
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'); // and never the rest
    const drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
    try {
      await waitFor(() => closed, 20_000);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
    expect(closed).toBe(true);
  });
});
