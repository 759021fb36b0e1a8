import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, MemoryHub } from '@switchyard/core';
import { MemoryBus, MemoryHistory } from '@switchyard/core/adapter';
import { waitFor } from '@switchyard/core/testing';
import { createEmitter, type Emitter } from '@switchyard/transport-ws/emitter';
import { createEmitter as fromMain, createNode, type SwitchyardNode } from '../src/index.js';
import { metric, TestClient, type Frame } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
const emitters: Emitter[] = [];
afterEach(async () => {
  await Promise.all(emitters.splice(0).map((e) => e.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

const authenticate = ({ token }: { token: string | undefined }) => (token ? { userId: token } : {});

/** Two nodes on `hub` (history on), optionally with a cluster key, and all they see each other. */
async function twoNodes(hub: MemoryHub, clusterKey?: string): Promise<[SwitchyardNode, SwitchyardNode]> {
  const list = ['a', 'b'].map((id) =>
    createNode({ cluster: createCluster({ hub, nodeId: id, heartbeatIntervalMs: 50, nodeTimeoutMs: 2000, history: true, ...(clusterKey ? { clusterKey } : {}) }), port: 0, authenticate, rooms: { history: true } }),
  );
  nodes.push(...list);
  await Promise.all(list.map((n) => n.start()));
  await waitFor(() => list.every((n) => n.cluster.healthyNodes().length === 2));
  return list as [SwitchyardNode, SwitchyardNode];
}

const open = async (n: SwitchyardNode, hello: Record<string, unknown>) => {
  const x = await TestClient.connect(n.url, { noRedirect: true, ...hello });
  clients.push(x.client);
  return x;
};

describe('publish-only emitter', () => {
  it('reaches sockets on every node: rooms (with history offsets), users, connections, everyone', async () => {
    const hub = new MemoryHub();
    const [a, b] = await twoNodes(hub);
    const onA = await open(a, { token: 'ann', rooms: { news: {} } });
    const onB = await open(b, { token: 'bob', rooms: { news: {} } });
    const bobElsewhere = await open(a, { token: 'bob' });
    const emitter = createEmitter({ bus: new MemoryBus({ hub }), history: new MemoryHistory({ hub }), id: 'worker-1' });
    emitters.push(emitter);
    expect(fromMain).toBe(createEmitter); // also exported from the main entry

    expect(await emitter.to('news').send('plain', { n: 1 })).toEqual({});
    const withHistory = await emitter.to('news').send('kept', { n: 2 }, { history: true });
    expect(withHistory.offset).toBeGreaterThan(0);
    for (const x of [onA, onB]) {
      expect(await x.client.waitFrame((f) => f.event === 'plain')).toMatchObject({ t: 'msg', room: 'news', data: { n: 1 } });
      expect(await x.client.waitFrame((f) => f.event === 'kept')).toMatchObject({ room: 'news', data: { n: 2 }, o: withHistory.offset, e: withHistory.epoch });
    }
    // the history entry is the same a node writes: a client resuming from before it gets it replayed
    const late = await open(b, { rooms: { news: { offset: Number(withHistory.offset) - 1, epoch: withHistory.epoch } } });
    expect(await late.client.waitFrame((f) => f.event === 'kept')).toMatchObject({ o: withHistory.offset, data: { n: 2 } });

    await emitter.toUser('bob').send('dm', 'hi bob');
    await Promise.all([onB, bobElsewhere].map((x) => x.client.waitFrame((f) => f.event === 'dm')));
    await emitter.toConnection(String(onA.welcome.conn)).send('direct', 1);
    await onA.client.waitFrame((f) => f.event === 'direct');
    await emitter.to('news').except(String(onB.welcome.conn)).send('not-bob', 1);
    await emitter.broadcast('everyone', 2);
    await Promise.all([onA, onB, bobElsewhere, late].map((x) => x.client.waitFrame((f) => f.event === 'everyone')));
    await onA.client.waitFrame((f) => f.event === 'not-bob');
    expect(onA.client.msgs.filter((m) => m.event === 'dm')).toEqual([]);
    expect(onB.client.msgs.filter((m) => m.event === 'direct' || m.event === 'not-bob')).toEqual([]);
    expect(emitter.published).toBe(6);
  });

  it('with the cluster key it is delivered; with another key, or none, every node drops it and counts it', async () => {
    const hub = new MemoryHub();
    const key = 'the-cluster-key-of-this-test';
    const [a, b] = await twoNodes(hub, key);
    const onA = await open(a, { rooms: { news: {} } });
    const onB = await open(b, { rooms: { news: {} } });
    const good = createEmitter({ bus: new MemoryBus({ hub }), clusterKey: key });
    const forged = createEmitter({ bus: new MemoryBus({ hub }), clusterKey: 'another-key-of-enough-length' });
    const unsigned = createEmitter({ bus: new MemoryBus({ hub }) });
    emitters.push(good, forged, unsigned);

    await forged.to('news').send('bad', 1);
    await unsigned.to('news').send('bad', 2);
    await good.to('news').send('good', 3); // same topic, same bus order: once this arrived, the bad ones were handled
    await Promise.all([onA, onB].map((x) => x.client.waitFrame((f) => f.event === 'good')));
    for (const n of [a, b]) {
      const text = await n.cluster.metricsRegistry.metrics();
      expect(metric(text, 'switchyard_envelopes_dropped_total', 'reason="forged"')).toBe(1);
      expect(metric(text, 'switchyard_envelopes_dropped_total', 'reason="unsigned"')).toBe(1);
    }
    expect([...onA.client.msgs, ...onB.client.msgs].filter((m: Frame) => m.event === 'bad')).toEqual([]);
  });

  it('does no I/O until used, refuses sends after close, and closes its ports only when it owns them', async () => {
    const hub = new MemoryHub();
    const bus = new MemoryBus({ hub });
    const emitter = createEmitter({ bus });
    expect(bus.status).toBe('idle');
    await emitter.broadcast('x', 1);
    expect(bus.status).toBe('connected');
    await expect(emitter.to('r').send('x', 1, { history: true })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await emitter.close();
    await emitter.close();
    expect(bus.status).toBe('closed');
    await expect(emitter.broadcast('x', 1)).rejects.toMatchObject({ code: 'CLOSED' });

    const shared = new MemoryBus({ hub });
    const borrower = createEmitter({ bus: shared, closePorts: false });
    await borrower.broadcast('x', 1);
    await borrower.close();
    expect(shared.status).toBe('connected');
    await shared.close();
    expect(() => createEmitter({ bus: shared, id: 'has space' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => createEmitter({ bus: {} as MemoryBus })).toThrow(/bus/);
  });
});
