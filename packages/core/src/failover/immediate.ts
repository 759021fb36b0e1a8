import type { FailoverStrategy, FailoverTiming } from '../strategy/types.js';

/** Move a dead or draining node's sessions at once. */
export class ImmediateFailover implements FailoverStrategy {
  readonly name = 'immediate';
  timing(): FailoverTiming {
    return { action: 'now' };
  }
}
