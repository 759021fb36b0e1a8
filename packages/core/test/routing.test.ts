import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHub, createCluster, type ClusterNode, type DeliverEnvelope } from '../src/index.js';
import { Topics, decodeHistoryRecord } from '../src/adapter.js';
import { waitFor } from '../src/testing/index.js';

const nodes: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

async function three(hub = new MemoryHub(), extra: Parameters<typeof createCluster>[0] = {}) {
  const list = ['a', 'b', 'c'].map((id) => createCluster({ hub, nodeId: id, heartbeatIntervalMs: 50, nodeTimeoutMs: 300, ...extra }));
  nodes.push(...list);
  await Promise.all(list.map((n) => n.start()));
  const got: Record<string, DeliverEnvelope[]> = { a: [], b: [], c: [] };
  for (const n of list) n.on('deliver', (e) => got[n.id]!.push(e));
  return { list, got, hub };
}

describe('message routing', () => {
  it('delivers only to nodes with interest, once each, and locally without a round trip', async () => {
    const { list, got } = await three();
    const [a, b, c] = list as [ClusterNode, ClusterNode, ClusterNode];
    await b.acquire(Topics.room('lobby'));
    await a.acquire(Topics.room('lobby'));
    let syncLocal = false;
    a.on('deliver', () => (syncLocal = true));
    const p = a.publish({ kind: 'room', room: 'lobby' }, { text: 'hi' });
    expect(syncLocal).toBe(true); // emitted before any bus round trip
    await p;
    await waitFor(() => got.b!.length === 1);
    await a.publish({ kind: 'node', nodeId: 'c' }, 'for-c');
    await waitFor(() => got.c!.length === 1);
    expect(got.a!.map((e) => e.data)).toEqual([{ text: 'hi' }]);
    expect(got.b!.map((e) => e.data)).toEqual([{ text: 'hi' }]);
    expect(got.c!.map((e) => e.data)).toEqual(['for-c']);
    expect(c.topics()).not.toContain(Topics.room('lobby'));
  });

  it('reference-counts interest: the bus subscription ends with the last release', async () => {
    const { list, got } = await three();
    const [a, b] = list as [ClusterNode, ClusterNode];
    await b.acquire(Topics.room('x'));
    await b.acquire(Topics.room('x'));
    await b.release(Topics.room('x'));
    await a.publish({ kind: 'room', room: 'x' }, 1);
    await waitFor(() => got.b!.length === 1);
    await b.release(Topics.room('x'));
    expect(b.topics()).not.toContain(Topics.room('x'));
    await a.publish({ kind: 'room', room: 'x' }, 2);
    await a.publish({ kind: 'node', nodeId: 'b' }, 'probe');
    await waitFor(() => got.b!.some((e) => e.data === 'probe'));
    expect(got.b!.map((e) => e.data)).toEqual([1, 'probe']);
  });

  it('rooms with history carry offsets and the history holds the messages', async () => {
    const { list, got } = await three(new MemoryHub(), { history: true });
    const [a, b] = list as [ClusterNode, ClusterNode];
    await b.acquire(Topics.room('h'));
    const r1 = await a.publish({ kind: 'room', room: 'h' }, 'one', { history: true });
    const r2 = await a.publish({ kind: 'room', room: 'h' }, 'two', { history: true });
    expect(r2.offset).toBeGreaterThan(r1.offset as number);
    await waitFor(() => got.b!.length === 2);
    expect(got.b!.map((e) => [e.offset, e.epoch])).toEqual([[r1.offset, r1.epoch], [r2.offset, r2.epoch]]);
    const read = await b.history!.read('room.h', r1.offset as number);
    expect(read.entries.map((e) => decodeHistoryRecord(e.payload)?.data)).toEqual(['two']);
  });

  it('while the bus is down, local delivery goes on and publishes wait, then arrive', async () => {
    const hub = new MemoryHub();
    const { list, got } = await three(hub);
    const [a, b] = list as [ClusterNode, ClusterNode];
    await a.acquire(Topics.room('r'));
    await b.acquire(Topics.room('r'));
    const statuses: string[] = [];
    a.on('bus:status', (s) => statuses.push(s));
    hub.setOnline(false);
    await a.publish({ kind: 'room', room: 'r' }, 'during-outage');
    expect(got.a!.map((e) => e.data)).toEqual(['during-outage']);
    expect(got.b).toEqual([]);
    hub.setOnline(true);
    await waitFor(() => got.b!.length === 1);
    expect(statuses).toEqual(['reconnecting', 'connected']);
    const text = await a.metricsRegistry.metrics();
    expect(text).toContain('switchyard_adapter_events_total');
  });

  it('control notices reach one node; drain makes it draining', async () => {
    const { list } = await three();
    const [a, , c] = list as [ClusterNode, ClusterNode, ClusterNode];
    await a.control('drain', {}, 'c');
    await waitFor(() => c.state === 'draining');
    await waitFor(() => a.nodes().find((n) => n.id === 'c')?.state === 'draining', 3000);
  });
});
