import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, MemoryHub, type ClusterNode, type DeliverEnvelope, type MessageBus } from '../src/index.js';
import { EnvelopeCodec, MemoryBus, Topics } from '../src/adapter.js';
import { jitteryBus, waitFor } from '../src/testing/index.js';

const KEY = 'a-very-secret-cluster-key';
const nodes: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

function node(hub: MemoryHub, id: string, extra: Parameters<typeof createCluster>[0] = {}): ClusterNode {
  const n = createCluster({ hub, nodeId: id, heartbeatIntervalMs: 50, nodeTimeoutMs: 3000, history: true, ...extra });
  nodes.push(n);
  return n;
}

describe('rooms with history across nodes', () => {
  it('two nodes publishing to one room at once: a third node delivers every message once, in offset order', async () => {
    const hub = new MemoryHub();
    const [a, b, c] = [node(hub, 'a', { bus: jitteryBus(hub) }), node(hub, 'b', { bus: jitteryBus(hub) }), node(hub, 'c')];
    await Promise.all([a.start(), b.start(), c.start()]);
    const got: DeliverEnvelope[] = [];
    c.on('deliver', (e) => got.push(e));
    const start = await c.followRoom('chat');
    expect(start).toMatchObject({ offset: 0 });
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < 200; i++) {
      sends.push(a.publish({ kind: 'room', room: 'chat' }, `a${i}`, { history: true }));
      sends.push(b.publish({ kind: 'room', room: 'chat' }, `b${i}`, { history: true }));
    }
    await Promise.all(sends);
    await waitFor(() => got.length >= 400, 10_000);
    expect(got.map((e) => e.offset)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const text = await c.metricsRegistry.metrics();
    // the interleaving did reorder envelopes (else this test proved nothing)
    expect(Number(/switchyard_room_reordered_total\{[^}]*\} (\d+)/.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/switchyard_room_gaps_total\{reason="trimmed"[^}]*\} 0/);
  });
});

describe('a message in history is committed', () => {
  it('a bus that refuses it does not fail the publish; the other node reads it from history once its bus is back', async () => {
    const hub = new MemoryHub();
    const a = node(hub, 'a', { bus: new MemoryBus({ hub, bufferSize: 0 }) });
    const b = node(hub, 'b', { fenceOnBusLoss: false });
    await Promise.all([a.start(), b.start()]);
    const got: unknown[] = [];
    b.on('deliver', (e) => got.push(e.data));
    await b.followRoom('h');
    hub.setOnline(false);
    const r = await a.publish({ kind: 'room', room: 'h' }, 'while the bus was down', { history: true });
    expect(r.offset).toBe(1);
    hub.setOnline(true);
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['while the bus was down']);
  });
});

describe('replays and losses on the bus', () => {
  it('with a cluster key, a copied envelope put on the bus again is dropped and counted, every time', async () => {
    const hub = new MemoryHub();
    const [a, b] = [node(hub, 'a', { clusterKey: KEY }), node(hub, 'b', { clusterKey: KEY })];
    await Promise.all([a.start(), b.start()]);
    const got: unknown[] = [];
    b.on('deliver', (e) => got.push(e.data));
    await b.acquire(Topics.room('plain'));
    const spy = new MemoryBus({ hub });
    await spy.connect();
    const captured: Uint8Array[] = [];
    await spy.subscribe(Topics.room('plain'), (p) => captured.push(p));
    await a.publish({ kind: 'room', room: 'plain' }, 'once');
    await waitFor(() => got.length === 1 && captured.length === 1);
    for (let i = 0; i < 3; i++) await spy.publish(Topics.room('plain'), captured[0] as Uint8Array);
    // the same bytes on another topic: the signature covers the topic
    await b.acquire(Topics.room('other'));
    await spy.publish(Topics.room('other'), captured[0] as Uint8Array);
    await a.publish({ kind: 'room', room: 'plain' }, 'twice');
    await waitFor(() => got.length === 2);
    await spy.close();
    expect(got).toEqual(['once', 'twice']);
    const text = await b.metricsRegistry.metrics();
    expect(text).toContain('switchyard_envelopes_dropped_total{reason="duplicate",node="b"} 3');
    expect(text).toContain('switchyard_envelopes_dropped_total{reason="forged",node="b"} 1');
  });

  it('with a cluster key, an envelope without a sender sequence is refused; a restarted sender (a new run) is accepted', async () => {
    const hub = new MemoryHub();
    const b = node(hub, 'b', { clusterKey: KEY });
    await b.start();
    const got: unknown[] = [];
    b.on('deliver', (e) => got.push(e.data));
    await b.acquire(Topics.all);
    const bus = new MemoryBus({ hub });
    await bus.connect();
    const send = (codec: EnvelopeCodec, data: string) => bus.publish(Topics.all, codec.encode(codec.build<DeliverEnvelope>({ type: 'deliver', to: { kind: 'all' }, data }), Topics.all));
    const first = new EnvelopeCodec({ nodeId: 'w', clusterKey: KEY });
    await send(first, 'run-1');
    const restarted = new EnvelopeCodec({ nodeId: 'w', clusterKey: KEY });
    await send(restarted, 'run-2');
    // signed with the key but with no sender sequence (as an older build wrote them): a copy could not be told apart
    const json = JSON.stringify(first.build<DeliverEnvelope>({ type: 'deliver', to: { kind: 'all' }, data: 'unsequenced' }));
    const sig = createHmac('sha256', KEY).update(`${Topics.all}\n${json}`).digest('base64url');
    await bus.publish(Topics.all, new TextEncoder().encode(`SY1.${sig}.${json}`));
    await send(first, 'run-1 again');
    await waitFor(() => got.length === 3);
    await bus.close();
    expect(got).toEqual(['run-1', 'run-2', 'run-1 again']);
    expect(await b.metricsRegistry.metrics()).toContain('switchyard_envelopes_dropped_total{reason="unsequenced",node="b"} 1');
  });

  it('a sender’s envelope that never arrived is noticed on the next one (at-most-once traffic is lost loudly)', async () => {
    const hub = new MemoryHub();
    const inner = new MemoryBus({ hub });
    let dropNext = false;
    const lossy = Object.assign(Object.create(inner) as MessageBus, {
      publish: async (topic: string, payload: Uint8Array) => {
        if (dropNext && topic === Topics.room('plain')) {
          dropNext = false;
          return;
        }
        await inner.publish(topic, payload);
      },
    });
    const [a, b] = [node(hub, 'a', { bus: lossy }), node(hub, 'b')];
    await Promise.all([a.start(), b.start()]);
    const lost: string[] = [];
    b.on('envelope:lost', (topic, from) => lost.push(`${topic} from ${from}`));
    const got: unknown[] = [];
    b.on('deliver', (e) => got.push(e.data));
    await b.acquire(Topics.room('plain'));
    await a.publish({ kind: 'room', room: 'plain' }, 1);
    dropNext = true;
    await a.publish({ kind: 'room', room: 'plain' }, 2);
    await a.publish({ kind: 'room', room: 'plain' }, 3);
    await waitFor(() => got.length === 2);
    expect(got).toEqual([1, 3]);
    expect(lost).toEqual(['room.plain from a']);
    expect(await b.metricsRegistry.metrics()).toContain('switchyard_envelope_gaps_total{node="b"} 1');
  });
});
