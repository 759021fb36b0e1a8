import type { FailoverInput, FailoverStrategy, FailoverTiming } from '../strategy/types.js';

export interface GracefulFailoverOptions {
  /** Longest wait for in-flight work on a draining node, ms (default 30,000). */
  gracePeriodMs?: number;
}

/**
 * A draining node keeps its sessions until its connections are gone or the grace period
 * ends, so in-flight work finishes; a dead node has nothing in flight and moves at once.
 */
export class GracefulFailover implements FailoverStrategy {
  readonly name = 'graceful';
  constructor(private readonly options: GracefulFailoverOptions = {}) {}
  timing(input: FailoverInput): FailoverTiming {
    if (input.reason === 'dead') return { action: 'now' };
    return { action: 'wait', ms: this.options.gracePeriodMs ?? 30_000, cancelIfBack: false, earlyWhenIdle: true };
  }
}
