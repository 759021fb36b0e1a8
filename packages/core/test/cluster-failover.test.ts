import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHub, createCluster, type ClusterNode, type FailoverEnvelope } from '../src/index.js';
import { makeSession, waitFor } from '../src/testing/index.js';

const nodes: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

function start(hub: MemoryHub, id: string, extra: Parameters<typeof createCluster>[0] = {}) {
  const node = createCluster({
    hub,
    nodeId: id,
    url: `ws://127.0.0.1/${id}`,
    heartbeatIntervalMs: 50,
    nodeTimeoutMs: 300,
    failover: 'immediate',
    balancer: 'least-connections',
    ...extra,
  });
  nodes.push(node);
  return node;
}

describe('three cluster nodes in one process', () => {
  it('declare a silent node dead within its timeout, one coordinator plans the failover, and its sessions move to healthy nodes', async () => {
    const hub = new MemoryHub();
    const [a, b, c] = [start(hub, 'a'), start(hub, 'b'), start(hub, 'c')];
    await Promise.all([a.start(), b.start(), c.start()]);
    await waitFor(() => [a, b, c].every((n) => n.healthyNodes().length === 3), 3000);
    await waitFor(() => [a, b, c].filter((n) => n.isCoordinator()).length === 1, 3000);

    const sessions = Array.from({ length: 30 }, (_, i) => makeSession(`s${i}`, 'c', { userId: `u${i}` }));
    for (const s of sessions) await c.sessions.put(s, 60_000);

    const deadAt: Record<string, number> = {};
    const failovers: Array<{ on: string; env: FailoverEnvelope }> = [];
    for (const n of [a, b]) {
      n.on('node:dead', () => (deadAt[n.id] = Date.now()));
      n.on('failover', (env) => failovers.push({ on: n.id, env }));
    }
    const coordinatorsBefore = [a, b, c].filter((n) => n.isCoordinator()).map((n) => n.id);
    const haltedAt = Date.now();
    await c.halt();

    await waitFor(() => deadAt.a && deadAt.b, 3000);
    // never before the node timeout could have run out (its last heartbeat was at most one interval before the halt)
    expect((deadAt.a as number) - haltedAt).toBeGreaterThanOrEqual(300 - 50);
    expect((deadAt.b as number) - haltedAt).toBeGreaterThanOrEqual(300 - 50);

    await waitFor(() => failovers.filter((f) => f.on === 'a').length >= 1 && failovers.filter((f) => f.on === 'b').length >= 1, 3000);
    const planners = new Set(failovers.map((f) => f.env.from));
    expect(planners.size).toBe(1);
    const planner = [...planners][0] as string;
    expect(['a', 'b']).toContain(planner);
    if (coordinatorsBefore[0] !== 'c') expect(planner).toBe(coordinatorsBefore[0]);
    expect([a, b].filter((n) => n.isCoordinator()).map((n) => n.id)).toEqual([planner]);
    const env = failovers[0]!.env;
    expect(env.node).toBe('c');
    expect(env.strategy).toBe('immediate');
    expect(Object.keys(env.assignments)).toHaveLength(30);

    // the failover runs once, not on every tick
    const settle = Date.now() + 400;
    await waitFor(() => Date.now() > settle, 2000, 50);
    expect(failovers.filter((f) => f.on === 'a')).toHaveLength(1);
    const moved = await a.sessions.byNode('c');
    expect(moved).toEqual([]);
    const onA = await a.sessions.byNode('a');
    const onB = await a.sessions.byNode('b');
    expect(onA.length + onB.length).toBe(30);
    // least-connections spreads them evenly over the two survivors
    expect(Math.abs(onA.length - onB.length)).toBeLessThanOrEqual(1);
    expect(a.nodes().find((n) => n.id === 'c')?.state).toBe('dead');
    const text = await a.metricsRegistry.metrics();
    expect(text).toMatch(/switchyard_node_deaths_total\{node="a"\} 1/);
  });

  it('delayed failover waits for the node to come back and then leaves its sessions alone', async () => {
    const hub = new MemoryHub();
    const opts = { failover: { name: 'delayed', options: { gracePeriodMs: 1500 } } };
    const [a, b] = [start(hub, 'a', opts), start(hub, 'b', opts)];
    await Promise.all([a.start(), b.start()]);
    let c = start(hub, 'c', opts);
    await c.start();
    await waitFor(() => a.healthyNodes().length === 3 && [a, b, c].some((n) => n.isCoordinator()));
    await c.sessions.put(makeSession('keep', 'c'), 60_000);
    const failovers: FailoverEnvelope[] = [];
    a.on('failover', (e) => failovers.push(e));
    b.on('failover', (e) => failovers.push(e));
    let dead = false;
    a.on('node:dead', () => (dead = true));
    await c.halt();
    await waitFor(() => dead, 3000);
    c = start(hub, 'c', opts); // the same node id restarts
    await c.start();
    await waitFor(() => a.nodes().find((n) => n.id === 'c')?.state === 'ready', 3000);
    // a negative check: wait until well past the grace period, then nothing may have moved
    const graceEnds = Date.now() + 1700;
    await waitFor(() => Date.now() > graceEnds, 3000, 50);
    expect(failovers).toEqual([]);
    expect((await a.sessions.get('keep'))?.nodeId).toBe('c');
  });

  it('graceful failover moves a draining node\'s sessions once it has no connections left', async () => {
    const hub = new MemoryHub();
    const opts = { failover: { name: 'graceful', options: { gracePeriodMs: 10_000 } } };
    const [a, b] = [start(hub, 'a', opts), start(hub, 'b', opts)];
    await Promise.all([a.start(), b.start()]);
    await waitFor(() => a.healthyNodes().length === 2 && [a, b].some((n) => n.isCoordinator()));
    const coordinator = a.isCoordinator() ? a : b;
    const other = coordinator === a ? b : a;
    let connections = 5;
    other.setLoadSource(() => ({ connections }));
    for (let i = 0; i < 5; i++) await other.sessions.put(makeSession(`g${i}`, other.id), 60_000);
    const failovers: FailoverEnvelope[] = [];
    coordinator.on('failover', (e) => failovers.push(e));
    await other.drain();
    await waitFor(() => coordinator.nodes().find((n) => n.id === other.id)?.state === 'draining', 3000);
    expect(failovers).toEqual([]);
    expect((await coordinator.sessions.byNode(other.id)).length).toBe(5);
    connections = 0; // in-flight work finished
    await waitFor(() => failovers.length === 1, 3000);
    expect(failovers[0]?.reason).toBe('draining');
    expect((await coordinator.sessions.byNode(coordinator.id)).length).toBe(5);
  });
});
