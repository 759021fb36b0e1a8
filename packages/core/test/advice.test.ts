import { describe, expect, it } from 'vitest';
import { MemoryHub, createCluster } from '../src/index.js';
import { ScalingAdvisor } from '../src/cluster/scaling-advisor.js';
import { clusterConfigSchema } from '../src/config/schema.js';
import { emptyLoad } from '../src/model/node.js';
import { parseConfig } from '../src/adapter.js';
import { planRebalance } from '../src/cluster/rebalance.js';
import { makeNode, waitFor } from '../src/testing/index.js';

const nodesAt = (fill: number[], capacity = 100) =>
  fill.map((f, i) => makeNode(`n${i}`, { capacity, load: { ...emptyLoad(), connections: Math.round(f * capacity) } }));

describe('scaling advisor', () => {
  const config = parseConfig(clusterConfigSchema, { scaling: { minNodes: 2, maxNodes: 5, scaleUpAt: 0.8, scaleDownAt: 0.3, sustain: 3, cooldownMs: 1000 } }).scaling;

  it('advises scale-up only after utilization stays high (hysteresis), then keeps quiet for the cooldown', () => {
    const a = new ScalingAdvisor(config);
    const hot = nodesAt([0.9, 0.95, 0.85]);
    expect(a.evaluate(hot, 0)).toBeNull();
    expect(a.evaluate(hot, 1)).toBeNull();
    const advice = a.evaluate(hot, 2);
    expect(advice).toMatchObject({ direction: 'up', currentNodes: 3 });
    expect(advice!.desiredNodes).toBeGreaterThanOrEqual(4);
    expect(advice!.desiredNodes).toBeLessThanOrEqual(5);
    for (let t = 3; t < 900; t += 100) expect(a.evaluate(hot, t)).toBeNull(); // cooldown
    // still hot after the cooldown: the streak went on, so it advises again at once
    expect(a.evaluate(hot, 1100)?.direction).toBe('up');
  });

  it('a dip resets the streak; between thresholds nothing is advised', () => {
    const a = new ScalingAdvisor(config);
    expect(a.evaluate(nodesAt([0.9, 0.9]), 0)).toBeNull();
    expect(a.evaluate(nodesAt([0.9, 0.9]), 1)).toBeNull();
    expect(a.evaluate(nodesAt([0.5, 0.5]), 2)).toBeNull();
    expect(a.evaluate(nodesAt([0.9, 0.9]), 3)).toBeNull();
    for (let t = 10; t < 20; t++) expect(a.evaluate(nodesAt([0.5, 0.6]), t)).toBeNull();
  });

  it('advises scale-down when quiet, never below minNodes and never above maxNodes', () => {
    const a = new ScalingAdvisor(config);
    const cold = nodesAt([0.05, 0.1, 0.05, 0.1]);
    a.evaluate(cold, 0);
    a.evaluate(cold, 1);
    expect(a.evaluate(cold, 2)).toMatchObject({ direction: 'down', currentNodes: 4, desiredNodes: 2 });
    const atMin = new ScalingAdvisor(config);
    for (let t = 0; t < 10; t++) expect(atMin.evaluate(nodesAt([0.01, 0.01]), t)).toBeNull();
    const atMax = new ScalingAdvisor(config);
    for (let t = 0; t < 10; t++) expect(atMax.evaluate(nodesAt([1, 1, 1, 1, 1]), t)).toBeNull();
  });
});

describe('rebalance advice', () => {
  it('recommends moves from full nodes to empty ones when load is uneven', () => {
    const advice = planRebalance(nodesAt([0.9, 0.1, 0.2]), 0.2);
    expect(advice).not.toBeNull();
    const moved = advice!.moves.reduce((s, m) => s + m.connections, 0);
    expect(advice!.moves.every((m) => m.from === 'n0')).toBe(true);
    expect(moved).toBe(50); // 90 -> 40 (the average fill)
    expect(planRebalance(nodesAt([0.5, 0.45, 0.55]), 0.2)).toBeNull();
    expect(planRebalance(nodesAt([0.9]), 0.2)).toBeNull();
  });
});

describe('rebalance and scaling advice in a running cluster', () => {
  it('the coordinator advises moving connections off a full node, tells that node, and waits while membership settles', async () => {
    const hub = new MemoryHub();
    const opts = { hub, heartbeatIntervalMs: 50, nodeTimeoutMs: 300, capacity: 1000, rebalance: { threshold: 0.2, intervalMs: 50 }, scaling: { enabled: false } };
    const a = createCluster({ ...opts, nodeId: 'a' });
    const b = createCluster({ ...opts, nodeId: 'b' });
    const c = createCluster({ ...opts, nodeId: 'c' });
    try {
      a.setLoadSource(() => ({ connections: 900 }));
      await Promise.all([a.start(), b.start(), c.start()]);
      await c.drain();
      const coordinator = await waitFor(() => [a, b].find((n) => n.isCoordinator()), 3000);
      const advice: unknown[] = [];
      coordinator.on('rebalance', (x) => advice.push(x));
      // c is draining: no advice while it is
      const quiet = Date.now() + 300;
      await waitFor(() => Date.now() > quiet, 2000, 25);
      expect(advice).toEqual([]);
      await c.stop();
      const notices: unknown[] = [];
      a.on('control', (e) => e.action === 'rebalance' && notices.push(e.args));
      await waitFor(() => advice.length > 0 && notices.length > 0, 3000);
      expect(advice[0]).toMatchObject({ moves: [{ from: 'a', to: 'b', connections: 450 }] });
      expect(notices[0]).toEqual({ connections: 450, to: 'b' });
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });
});
