import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHub, RegionAffinity, HashAffinity, createCluster, type ClusterNode } from '../src/index.js';
import { emptyLoad } from '../src/model/node.js';
import { makeNode, makeSession, waitFor } from '../src/testing/index.js';

const started: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

async function cluster(ids: string[], extra: Parameters<typeof createCluster>[0] = {}) {
  const hub = new MemoryHub();
  const nodes = ids.map((id) => createCluster({ hub, nodeId: id, url: `ws://127.0.0.1/${id}`, heartbeatIntervalMs: 50, nodeTimeoutMs: 300, ...extra }));
  started.push(...nodes);
  await Promise.all(nodes.map((n) => n.start()));
  await waitFor(() => nodes.every((n) => n.healthyNodes().length === ids.length), 3000);
  return nodes;
}

describe('affinity', () => {
  it('keeps a user on one node while that node is healthy, from any node that places it', async () => {
    const [a, b, c] = await cluster(['a', 'b', 'c'], { affinity: 'user', balancer: 'round-robin' });
    const home: Record<string, string> = {};
    for (let i = 0; i < 200; i++) {
      const user = `user-${i % 40}`;
      const via = [a, b, c][i % 3] as ClusterNode;
      const p = await via.place({ userId: user });
      home[user] ??= p.node.id;
      expect(p.node.id).toBe(home[user]);
      if (i >= 40) expect(p.reason).toBe('affinity');
    }
    expect(new Set(Object.values(home)).size).toBe(3); // users spread over all nodes
    // the home of some users dies: they are placed elsewhere, and stick there
    const victim = c as ClusterNode;
    const moved = Object.entries(home).filter(([, n]) => n === victim.id).map(([u]) => u);
    await victim.halt();
    await waitFor(() => a!.healthyNodes().length === 2, 3000);
    for (const user of moved) {
      const p1 = await a!.place({ userId: user });
      expect(p1.node.id).not.toBe(victim.id);
      const p2 = await b!.place({ userId: user });
      expect(p2.node.id).toBe(p1.node.id);
    }
  });

  it('a returning session goes back to its node while it is healthy, and elsewhere once it is not', async () => {
    const [a, b] = await cluster(['a', 'b', 'c']);
    await a!.sessions.put(makeSession('s-1', 'b'), 60_000);
    const back = await a!.place({ sessionId: 's-1' });
    expect([back.node.id, back.reason]).toEqual(['b', 'session']);
    await b!.drain();
    await waitFor(() => a!.nodes().find((n) => n.id === 'b')?.state === 'draining', 3000);
    const moved = await a!.place({ sessionId: 's-1' });
    expect(moved.node.id).not.toBe('b');
    expect(moved.reason).toBe('balancer');
  });

  it('a suspected node is skipped until it heartbeats again, and a crashed one until it is declared dead', async () => {
    const [a, b, c] = await cluster(['a', 'b', 'c']);
    await a!.sessions.put(makeSession('s-2', 'c'), 60_000);
    await c!.halt();
    a!.suspect('c');
    const p = await a!.place({ sessionId: 's-2' });
    expect(p.node.id).not.toBe('c');
    expect(a!.healthyNodes().map((n) => n.id)).toEqual(['a', 'b']);
    a!.suspect('b'); // b is alive: its next heartbeat clears the suspicion
    expect(a!.healthyNodes().map((n) => n.id)).toEqual(['a']);
    await waitFor(() => a!.healthyNodes().some((n) => n.id === 'b'), 3000);
    expect(b!.state).toBe('ready');
  });

  it('probe() confirms a live node and suspects a silent one, with one question per node at a time', async () => {
    const [a, , c] = await cluster(['a', 'b', 'c']);
    expect(await a!.probe('b')).toBe(true); // answers through the bus
    await c!.halt();
    const answers = await Promise.all([a!.probe('c', 150), a!.probe('c', 150), a!.probe('c', 150)]);
    expect(answers).toEqual([false, false, false]);
    expect(a!.healthyNodes().map((n) => n.id)).toEqual(['a', 'b']);
  });

  it('placement skips excluded nodes and ignores a session that belongs to another user', async () => {
    const [a] = await cluster(['a', 'b', 'c'], { balancer: 'round-robin' });
    for (let i = 0; i < 20; i++) expect((await a!.place({ exclude: ['b', 'c'] })).node.id).toBe('a');
    await a!.sessions.put(makeSession('s-3', 'c', { userId: 'alice' }), 60_000);
    expect((await a!.place({ sessionId: 's-3', userId: 'alice' })).reason).toBe('session');
    expect((await a!.place({ sessionId: 's-3', userId: 'mallory' })).reason).toBe('balancer');
    expect((await a!.place({ sessionId: 's-3' })).reason).toBe('balancer');
    expect((await a!.place({ sessionId: 's-3', userId: 'alice', session: null })).reason).toBe('balancer');
  });

  it('whenRunning() waits for a start in progress', async () => {
    const hub = new MemoryHub();
    const n = createCluster({ hub, nodeId: 'w' });
    started.push(n);
    await expect(n.whenRunning()).rejects.toMatchObject({ code: 'CONFLICT' });
    const s = n.start();
    await n.whenRunning();
    expect(n.phase).toBe('running');
    await s;
  });

  it('region affinity prefers the region, then the nearest, then any', () => {
    const aff = new RegionAffinity({ nearest: { 'eu-west': ['eu-central', 'us-east'] } });
    const nodes = [makeNode('e1', { region: 'eu-central' }), makeNode('u1', { region: 'us-east' }), makeNode('w1', { region: 'eu-west' })];
    expect(aff.candidates(nodes, { region: 'eu-west' }).map((n) => n.id)).toEqual(['w1']);
    expect(aff.candidates(nodes.filter((n) => n.id !== 'w1'), { region: 'eu-west' }).map((n) => n.id)).toEqual(['e1']);
    expect(aff.candidates([nodes[1]!], { region: 'eu-west' }).map((n) => n.id)).toEqual(['u1']);
    expect(aff.candidates([nodes[1]!], { region: 'ap-south' }).map((n) => n.id)).toEqual(['u1']);
    expect(aff.candidates(nodes, {}).length).toBe(3);
  });

  it('hash affinity gives the same node for a key on every node, without a store', async () => {
    const [a, b] = await cluster(['a', 'b', 'c'], { affinity: 'hash' });
    for (let i = 0; i < 100; i++) {
      const key = `doc-${i}`;
      expect((await a!.place({ key })).node.id).toBe((await b!.place({ key })).node.id);
    }
    const h = new HashAffinity({ by: 'ip' });
    const nodes = ['x', 'y'].map((id) => makeNode(id));
    expect(h.candidates(nodes, { ip: '10.0.0.1' })).toHaveLength(1);
  });

  it('never places on a draining or dead node, and least-connections spreads a burst between heartbeats', async () => {
    const [a, b, c] = await cluster(['a', 'b', 'c'], { balancer: 'least-connections' });
    await b!.drain();
    await waitFor(() => a!.nodes().find((n) => n.id === 'b')?.state === 'draining', 3000);
    const picks = await Promise.all(Array.from({ length: 100 }, () => a!.place({})));
    expect(picks.every((p) => p.node.id !== 'b')).toBe(true);
    const onC = picks.filter((p) => p.node.id === 'c').length;
    expect(Math.abs(onC - 50)).toBeLessThanOrEqual(1);
    expect(c!.state).toBe('ready');
  });
});

describe('balancer metrics', () => {
  it('counts placements and records pick latency', async () => {
    const [a] = await cluster(['a', 'b']);
    for (let i = 0; i < 10; i++) await a!.place({});
    const text = await a!.metricsRegistry.metrics();
    expect(text).toMatch(/switchyard_balancer_assignments_total\{strategy="least-connections",reason="balancer",local="(true|false)",node="a"\} \d+/);
    expect(text).toMatch(/switchyard_balancer_pick_duration_seconds_count\{node="a"\} 10/);
    expect(text).toMatch(/switchyard_cluster_healthy_nodes\{node="a"\} 2/);
    expect(emptyLoad().connections).toBe(0);
  });
});
