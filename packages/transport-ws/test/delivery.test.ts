import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, MemoryHub, type MessageBus } from '@switchyard/core';
import { MemoryBus, MemoryHistory } from '@switchyard/core/adapter';
import { deafBus, jitteryBus, waitFor } from '@switchyard/core/testing';
import WebSocket from 'ws';
import { createNode, type SwitchyardNode } from '../src/index.js';
import { createClient, type ClientMessage, type GapInfo, type SwitchyardClient } from '../src/client/index.js';
import { metric, TestClient, type Frame } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
const sdks: SwitchyardClient[] = [];
afterEach(async () => {
  for (const s of sdks.splice(0)) s.close();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

async function start(hub: MemoryHub, id: string, extra: Parameters<typeof createCluster>[0] = {}, history = new MemoryHistory({ hub })): Promise<SwitchyardNode> {
  const node = createNode({
    cluster: createCluster({ hub, nodeId: id, heartbeatIntervalMs: 50, nodeTimeoutMs: 3000, history, ...extra }),
    port: 0,
    rooms: { history: (room: string) => room.startsWith('h-') },
  });
  nodes.push(node);
  await node.start();
  return node;
}

async function connect(node: SwitchyardNode, hello: Record<string, unknown> = {}): Promise<{ client: TestClient; welcome: Frame }> {
  const r = await TestClient.connect(node.url, { noRedirect: true, ...hello });
  clients.push(r.client);
  return r;
}

const offsets = (c: TestClient) => c.msgs.map((m) => m.o as number);

describe('rooms with history: every acknowledged message, once, in offset order', () => {
  it('two nodes publishing to one room at once: subscribers on every node get all of them in order (none dropped as "old")', async () => {
    const hub = new MemoryHub();
    const a = await start(hub, 'a', { bus: jitteryBus(hub) });
    const b = await start(hub, 'b', { bus: jitteryBus(hub) });
    const c = await start(hub, 'c');
    const subs = await Promise.all([a, b, c].map((n) => connect(n, { rooms: { 'h-chat': {} } })));
    const sdk = createClient({ url: c.url, WebSocket });
    sdks.push(sdk);
    const got: ClientMessage[] = [];
    const room = sdk.room('h-chat');
    room.on('message', (m) => got.push(m));
    await waitFor(() => room.state === 'subscribed');

    const sends: Array<Promise<{ offset?: number }>> = [];
    for (let i = 0; i < 150; i++) sends.push(a.to('h-chat').send('m', `a${i}`), b.to('h-chat').send('m', `b${i}`));
    const acked = (await Promise.all(sends)).map((r) => r.offset as number).sort((x, y) => x - y);
    expect(acked).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    for (const s of subs) await s.client.waitMsgs(300, 15_000);
    for (const s of subs) expect(offsets(s.client)).toEqual(acked);
    await waitFor(() => got.length === 300, 15_000);
    expect(got.map((m) => m.offset)).toEqual(acked);
    expect(subs.every((s) => s.client.frames.every((f) => f.t !== 'gap'))).toBe(true);
  });

  it('a node that missed messages on the bus fills them from history; what history no longer has arrives as a gap frame', async () => {
    const hub = new MemoryHub();
    const a = await start(hub, 'a', {}, new MemoryHistory({ hub, maxLength: 3 }));
    const lossy = deafBus(hub);
    const b = await start(hub, 'b', { bus: lossy.bus, delivery: { holdMs: 10 } }, new MemoryHistory({ hub, maxLength: 3 }));
    const sub = await connect(b, { rooms: { 'h-r': {} } });
    await a.to('h-r').send('m', 1);
    await sub.client.waitMsgs(1);

    lossy.deaf(true);
    await a.to('h-r').send('m', 2); // lost on the bus, still in history
    lossy.deaf(false);
    await a.to('h-r').send('m', 3);
    await sub.client.waitMsgs(3);
    expect(sub.client.msgs.map((m) => m.data)).toEqual([1, 2, 3]);

    lossy.deaf(true);
    for (let i = 4; i <= 8; i++) await a.to('h-r').send('m', i);
    lossy.deaf(false);
    await a.to('h-r').send('m', 9); // history keeps 7, 8, 9: 4 to 6 are gone
    await sub.client.waitMsgs(6);
    expect(sub.client.msgs.map((m) => m.data)).toEqual([1, 2, 3, 7, 8, 9]);
    const gap = await sub.client.waitFrame((f) => f.t === 'gap');
    expect(gap).toMatchObject({ room: 'h-r', reason: 'trimmed', from: 3, to: 6 });
    // the gap sits between 3 and 7 in the socket's stream
    const order = sub.client.frames.filter((f) => f.t === 'gap' || f.t === 'msg' || f.t === 'batch').flatMap((f) => (f.t === 'batch' ? (f.m as Frame[]) : [f]));
    expect(order.map((f) => (f.t === 'gap' ? 'gap' : f.data))).toEqual([1, 2, 3, 'gap', 7, 8, 9]);
    const text = await b.cluster.metricsRegistry.metrics();
    expect(metric(text, 'switchyard_room_gaps_total', 'reason="trimmed"')).toBe(1);
    expect(metric(text, 'switchyard_ws_gaps_total', 'reason="trimmed"')).toBe(1);
  });

  it('a resume with an offset beyond the room’s head is refused explicitly, and live messages are not withheld', async () => {
    const hub = new MemoryHub();
    const a = await start(hub, 'a');
    for (let i = 1; i <= 3; i++) await a.to('h-r').send('m', i);
    const first = await connect(a, { rooms: { 'h-r': {} } });
    const epoch = (first.welcome.rooms as Record<string, Frame>)['h-r']?.epoch;
    const ahead = await connect(a, { rooms: { 'h-r': { offset: 50, epoch } } });
    expect((ahead.welcome.rooms as Record<string, Frame>)['h-r']).toMatchObject({ offset: 3, gap: true, recovered: false, reason: 'ahead' });
    await a.to('h-r').send('m', 4);
    expect(await ahead.client.waitFrame((f) => f.t === 'msg')).toMatchObject({ data: 4, o: 4 });
    const join = await connect(a);
    expect(await join.client.request({ t: 'join', room: 'h-r', offset: 99, epoch })).toMatchObject({ ok: true, result: { offset: 4, gap: true, reason: 'ahead' } });
    expect(metric(await a.cluster.metricsRegistry.metrics(), 'switchyard_ws_gaps_total', 'reason="ahead"')).toBe(2);

  });

  it('except leaves a socket out of live messages and replays alike, and its stream still chains without holes', async () => {
    const hub = new MemoryHub();
    const a = await start(hub, 'a');
    const t1 = await connect(a, { rooms: { 'h-x': {} } });
    const me = t1.welcome.conn as string;
    await a.to('h-x').send('m', 1);
    await a.to('h-x').except(me).send('m', 'not for me');
    await a.to('h-x').send('m', 3);
    await t1.client.waitMsgs(2);
    // message 3 names 1 as the previous one this socket got: no hole for the client to chase
    expect(t1.client.msgs.map((m) => [m.data, m.o, m.po])).toEqual([[1, 1, undefined], [3, 3, 1]]);
    // a replay from the start leaves it out the same way
    const epoch = t1.client.msgs[0]?.e;
    expect(await t1.client.request({ t: 'join', room: 'h-x', offset: 0, epoch })).toMatchObject({ ok: true, result: { recovered: true, gap: false } });
    await t1.client.waitMsgs(4);
    expect(t1.client.msgs.slice(2).map((m) => [m.data, m.o, m.po])).toEqual([[1, 1, undefined], [3, 3, 1]]);
    // and the SDK delivers it without chasing a hole
    const sdk = createClient({ url: a.url, WebSocket, holeTimeoutMs: 20 });
    sdks.push(sdk);
    const gaps: GapInfo[] = [];
    const got: ClientMessage[] = [];
    sdk.on('gap', (g) => gaps.push(g));
    const room = sdk.room('h-x');
    room.on('message', (m) => got.push(m));
    await waitFor(() => room.state === 'subscribed');
    const conn = sdk.connection?.conn as string;
    await a.to('h-x').except(conn).send('m', 'skip');
    await a.to('h-x').send('m', 'after');
    await waitFor(() => got.length === 1);
    expect(got.map((m) => [m.data, m.offset])).toEqual([['after', 5]]);
    expect(gaps).toEqual([]);
  });

  it('a plain room (no history) tells its clients when a sender’s message never arrived', async () => {
    const hub = new MemoryHub();
    const inner = new MemoryBus({ hub });
    let drop = false;
    const lossy = Object.assign(Object.create(inner) as MessageBus, {
      publish: async (topic: string, payload: Uint8Array) => (drop ? undefined : inner.publish(topic, payload)),
    });
    const a = await start(hub, 'a', { bus: lossy });
    const b = await start(hub, 'b');
    const sub = await connect(b, { rooms: { plain: {} } });
    await a.to('plain').send('m', 1);
    drop = true;
    await a.to('plain').send('m', 2);
    drop = false;
    await a.to('plain').send('m', 3);
    await sub.client.waitMsgs(2);
    expect(sub.client.msgs.map((m) => m.data)).toEqual([1, 3]);
    expect(await sub.client.waitFrame((f) => f.t === 'gap')).toEqual({ t: 'gap', room: 'plain', reason: 'lost' });
  });
});
