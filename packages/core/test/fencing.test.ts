import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, MemoryHub, type ClusterNode, type FailoverEnvelope } from '../src/index.js';
import { EnvelopeCodec, MemoryBus, Topics } from '../src/adapter.js';
import { flakyRegistry, waitFor } from '../src/testing/index.js';

const nodes: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

function node(hub: MemoryHub, id: string, extra: Parameters<typeof createCluster>[0] = {}): ClusterNode {
  const n = createCluster({ hub, nodeId: id, url: `ws://127.0.0.1/${id}`, heartbeatIntervalMs: 100, nodeTimeoutMs: 1500, ...extra });
  nodes.push(n);
  return n;
}

describe('a node cut off from the registry fences itself before the others may take over', () => {
  it('calls that hang count as failures; it fences before anyone declares it dead, and serves again once the registry answers', async () => {
    const hub = new MemoryHub();
    const link = flakyRegistry(hub);
    const [a, b] = [node(hub, 'a', { registry: link.registry }), node(hub, 'b')];
    await Promise.all([a.start(), b.start()]);
    await waitFor(() => b.healthyNodes().length === 2, 5000);
    const events: string[] = [];
    a.on('fence', (fenced, reason) => events.push(fenced ? `a fenced (${reason})` : 'a unfenced'));
    b.on('node:dead', (n) => events.push(`b declared ${n.id} dead`));
    b.on('node:joined', (n) => events.push(`b saw ${n.id} join`));

    link.set('hang');
    await waitFor(() => !a.health().registry, 5000);
    await waitFor(() => events.includes('b declared a dead'), 10_000);
    // the order is what matters: a stopped serving before b could take its sessions
    expect(events.slice(0, 2)).toEqual(['a fenced (registry)', 'b declared a dead']);
    expect(a.fenced).toBe(true);
    expect(a.health()).toMatchObject({ registry: false, fenced: 'registry' });
    expect(await a.metricsRegistry.metrics()).toMatch(/switchyard_heartbeat_failures_total\{[^}]*\} [1-9]/);

    link.set('ok');
    await waitFor(() => !a.fenced, 10_000);
    await waitFor(() => b.healthyNodes().some((n) => n.id === 'a'), 10_000);
    expect(events.slice(2)).toEqual(expect.arrayContaining(['a unfenced', 'b saw a join']));
  });

  it('a node announced dead by the coordinator while alive fences itself', async () => {
    const hub = new MemoryHub();
    const [a, b] = [node(hub, 'a'), node(hub, 'b')];
    await Promise.all([a.start(), b.start()]);
    await waitFor(() => a.healthyNodes().length === 2 && [a, b].some((n) => n.isCoordinator()), 5000);
    const fenced: string[] = [];
    a.on('fence', (f, reason) => f && fenced.push(String(reason)));
    // what a coordinator that lost sight of `a` would announce
    const coordinator = new EnvelopeCodec({ nodeId: 'b' });
    const bus = new MemoryBus({ hub });
    await bus.connect();
    const plan = coordinator.build<FailoverEnvelope>({ type: 'failover', node: 'a', reason: 'dead', strategy: 'immediate', token: 1_000_000, assignments: {} });
    await bus.publish(Topics.clusterEvents, coordinator.encode(plan, Topics.clusterEvents));
    await bus.close();
    await waitFor(() => fenced.length === 1, 5000);
    expect(fenced).toEqual(['declared_dead']);
    // a heartbeat after the announcement lifts it: the registry knows a is alive
    await waitFor(() => !a.fenced, 5000);
  });

  it('after an outage of the registry for everyone (its data lost too), no node declares a live one dead', async () => {
    const hub = new MemoryHub();
    const links = ['a', 'b', 'c'].map(() => flakyRegistry(hub));
    const list = ['a', 'b', 'c'].map((id, i) => node(hub, id, { registry: links[i]!.registry, heartbeatIntervalMs: 100, nodeTimeoutMs: 600 }));
    await Promise.all(list.map((n) => n.start()));
    await waitFor(() => list.every((n) => n.healthyNodes().length === 3), 5000);
    const deaths: string[] = [];
    for (const n of list) n.on('node:dead', (d) => deaths.push(`${n.id} declared ${d.id}`));

    for (const l of links) l.set('fail');
    await waitFor(() => list.every((n) => n.fenced), 5000);
    hub.nodes.clear(); // the registry restarted without its data
    for (const l of links) l.set('ok');
    await waitFor(() => list.every((n) => !n.fenced && n.healthyNodes().length === 3), 10_000);
    // two more node timeouts of normal running: still nobody declared dead
    await waitFor(() => list.every((n) => n.phase === 'running'), 1000);
    await new Promise((r) => setTimeout(r, 1200));
    expect(deaths).toEqual([]);
  });
});
