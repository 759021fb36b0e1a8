/**
 * Rebalance advice never moves connections to or from a node that may be gone: one that is not
 * ready, one suspected, one whose heartbeats stopped (the registry still lists it as ready until
 * the node timeout), one that does not answer a ping, or one just declared dead.
 */
import { describe, expect, it } from 'vitest';
import { MemoryHub, createCluster, type NodeInfo, type RebalanceAdvice } from '../src/index.js';
import { emptyLoad } from '../src/model/node.js';
import { planRebalance } from '../src/cluster/rebalance.js';
import { makeNode, waitFor } from '../src/testing/index.js';

const node = (id: string, connections: number, patch: Partial<NodeInfo> = {}) => makeNode(id, { capacity: 100, load: { ...emptyLoad(), connections }, ...patch });
const involved = (advice: RebalanceAdvice | null) => new Set(advice?.moves.flatMap((m) => [m.from, m.to]) ?? []);

describe('planRebalance leaves out nodes that may be gone', () => {
  const now = 1_000_000;
  const fresh = { updatedAt: now - 100 };

  it('not ready, excluded (suspected) or with a stale heartbeat: neither source nor target, nor in the average', () => {
    const nodes = [
      node('full', 90, fresh),
      node('empty', 10, fresh),
      node('stale', 0, { updatedAt: now - 5_000 }),
      node('suspect', 0, fresh),
      node('draining', 0, { ...fresh, state: 'draining' }),
      node('dead', 0, { ...fresh, state: 'dead' }),
      node('starting', 0, { ...fresh, state: 'starting' }),
    ];
    const advice = planRebalance(nodes, 0.2, { exclude: ['suspect'], maxHeartbeatAgeMs: 1_000, now });
    expect(advice).toEqual({ moves: [{ from: 'full', to: 'empty', connections: 40 }], imbalance: 0.8 });

    // without the options, a node that stopped heartbeating or is suspected still looks like a target
    expect(involved(planRebalance(nodes, 0.2))).toEqual(new Set(['full', 'empty', 'stale', 'suspect']));
  });

  it('a stale or suspected overloaded node is not a source either; with fewer than two eligible nodes there is no advice', () => {
    const nodes = [node('a', 95, { updatedAt: now - 5_000 }), node('b', 95, fresh), node('c', 5, fresh)];
    expect(involved(planRebalance(nodes, 0.2, { maxHeartbeatAgeMs: 1_000, now }))).toEqual(new Set(['b', 'c']));
    expect(planRebalance(nodes, 0.2, { exclude: ['b'], maxHeartbeatAgeMs: 1_000, now })).toBeNull();
  });
});

describe('the coordinator after a crash', () => {
  it('never advises a move onto a node killed a moment ago, before or after it is declared dead', async () => {
    const hub = new MemoryHub();
    // heartbeats every 200 ms, a crash noticed after 3 s: for the first half second only the ping
    // can tell the coordinator that c is gone, then its stale heartbeat can too
    const opts = { hub, heartbeatIntervalMs: 200, nodeTimeoutMs: 3000, capacity: 1000, rebalance: { threshold: 0.2, intervalMs: 50 }, scaling: { enabled: false } };
    const a = createCluster({ ...opts, nodeId: 'a' });
    const b = createCluster({ ...opts, nodeId: 'b' });
    const c = createCluster({ ...opts, nodeId: 'c' });
    try {
      a.setLoadSource(() => ({ connections: 900 }));
      await Promise.all([a.start(), b.start()]);
      const coordinator = await waitFor(() => [a, b].find((n) => n.isCoordinator()), 5000);
      await c.start();
      const advice: RebalanceAdvice[] = [];
      coordinator.on('rebalance', (x) => advice.push(x));
      // c takes part while it lives: 900 on a, nothing on b and c
      await waitFor(() => advice.some((x) => involved(x).has('c')), 5000);

      await c.halt();
      const killedAt = Date.now();
      advice.length = 0;
      let deadAt: number | undefined;
      coordinator.on('node:dead', (n) => n.id === 'c' && (deadAt ??= Date.now()));
      await waitFor(() => deadAt !== undefined && Date.now() - deadAt > 1000, 10_000, 25);

      expect(advice.filter((x) => involved(x).has('c'))).toEqual([]);
      // the cluster did not stop advising: a to b, the only live pair, within the node timeout
      expect(advice.length).toBeGreaterThan(0);
      expect(advice[0]).toMatchObject({ moves: [{ from: 'a', to: 'b', connections: 450 }] });
      expect((deadAt as number) - killedAt).toBeGreaterThan(2000);
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });
});
