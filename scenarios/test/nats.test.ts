import { describe, it } from 'vitest';
import { checkScenario, SCENARIO_TIMEOUT } from './support.js';

describe('delivery scenarios on NATS: 3 nodes, 3 publishers in one room, one subscriber per node', { timeout: SCENARIO_TIMEOUT }, () => {
  it('(a) no fault', async (ctx) => {
    await checkScenario(ctx, { bus: 'nats', fault: 'none' });
  });

  it('(b) kill -9 of a node: its clients move and resume', async (ctx) => {
    await checkScenario(ctx, { bus: 'nats', fault: 'kill' });
  });

  it('(c) the bus restarts (a private instance, data kept)', async (ctx) => {
    await checkScenario(ctx, { bus: 'nats', fault: 'restart' });
  });
});
