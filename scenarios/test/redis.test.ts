import { describe, expect, it } from 'vitest';
import { checkScenario, SCENARIO_TIMEOUT } from './support.js';

describe('delivery scenarios on Redis: 3 nodes, 3 publishers in one room, one subscriber per node', { timeout: SCENARIO_TIMEOUT }, () => {
  it('(a) no fault', async (ctx) => {
    await checkScenario(ctx, { bus: 'redis', fault: 'none' });
  });

  it('(b) kill -9 of a node: its clients move and resume', async (ctx) => {
    const r = await checkScenario(ctx, { bus: 'redis', fault: 'kill' });
    if (r) expect((r.effect.details.moved as unknown[]).length).toBe(2);
  });

  it('(c) the bus restarts (a private Redis with an fsynced append-only file)', async (ctx) => {
    await checkScenario(ctx, { bus: 'redis', fault: 'restart' });
  });

  it('(d1) one node is cut off from Redis for 8 s: connections reset', async (ctx) => {
    await checkScenario(ctx, { bus: 'redis', fault: 'partition-reset' });
  });

  it('(d2) one node is cut off from Redis for 8 s: traffic swallowed (blackhole)', async (ctx) => {
    await checkScenario(ctx, { bus: 'redis', fault: 'partition-blackhole' });
  });

  it('(e) a signed envelope copied from the bus and published again is dropped and counted', async (ctx) => {
    const r = await checkScenario(ctx, { bus: 'redis', fault: 'replay' });
    if (!r) return;
    const dropped = r.effect.details.dropped as Record<string, number>;
    const total = Object.values(dropped).reduce((a, b) => a + b, 0);
    expect(total, `drop counter went up by ${total}: ${r.effect.summary}`).toBeGreaterThanOrEqual(r.effect.details.replayed as number);
  });
});
