/**
 * p50 / p99 from a real prom-client histogram of a cluster's registry: estimated inside the
 * buckets, over the window since an earlier snapshot, null when nothing was measured.
 */
import { describe, expect, it } from 'vitest';
import { createCluster } from '@switchyard/core';
import { LatencyWindow, summarise } from '../src/latency.js';

describe('latency summaries', () => {
  it('interpolates inside the bucket holding the rank; an empty histogram says null', () => {
    expect(summarise([{ le: 0.001, count: 0 }, { le: Infinity, count: 0 }])).toEqual({ p50: null, p99: null, samples: 0 });
    // 100 samples: 50 up to 1 ms, 40 more up to 2 ms, 10 more up to 10 ms
    const s = summarise([{ le: 0.001, count: 50 }, { le: 0.002, count: 90 }, { le: 0.01, count: 100 }, { le: Infinity, count: 100 }]);
    expect(s.samples).toBe(100);
    expect(s.p50).toBeCloseTo(1, 6);
    expect(s.p99).toBeCloseTo(2 + 8 * 0.9, 6);
    // everything above the last finite bound: the bound is the best we can say
    expect(summarise([{ le: 0.005, count: 0 }, { le: Infinity, count: 3 }]).p99).toBe(5);
  });

  it("a window compares with an earlier snapshot of the node's histogram", async () => {
    const cluster = createCluster({ nodeId: 'lat' });
    const w = new LatencyWindow(cluster.metricsRegistry, 'switchyard_bus_latency_seconds', 1000);
    const t0 = 1_000_000;
    expect((await w.summary(t0))?.samples).toBe(0);
    const h = cluster.metricsRegistry.getSingleMetric('switchyard_bus_latency_seconds') as unknown as { observe(v: number): void };
    for (let i = 0; i < 10; i++) h.observe(0.0004);
    expect((await w.summary(t0 + 500))?.samples).toBe(10);
    // two seconds on: the base is the snapshot of t0 + 500, so only what came after counts
    h.observe(0.2);
    const later = await w.summary(t0 + 2500);
    expect(later?.samples).toBe(1);
    expect(later?.p50).toBeGreaterThan(100);
    expect(await new LatencyWindow(cluster.metricsRegistry, 'no_such_metric').summary()).toBeNull();
  });
});
