import { describe, it } from 'vitest';
import { checkScenario, SCENARIO_TIMEOUT } from './support.js';

describe('delivery scenarios on Kafka (registry and sessions on Redis): 3 nodes, 3 publishers in one room, one subscriber per node', { timeout: SCENARIO_TIMEOUT }, () => {
  it('(a) no fault', async (ctx) => {
    await checkScenario(ctx, { bus: 'kafka', fault: 'none' });
  });

  it('(b) kill -9 of a node: its clients move and resume', async (ctx) => {
    await checkScenario(ctx, { bus: 'kafka', fault: 'kill' });
  });

  // a private broker takes tens of seconds to start, and as long again to restart, on a busy machine
  it('(c) the bus restarts (a private instance, data kept)', { timeout: 300_000 }, async (ctx) => {
    await checkScenario(ctx, { bus: 'kafka', fault: 'restart' });
  });
});
