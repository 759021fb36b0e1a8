import type { FailoverStrategy, FailoverTiming } from '../strategy/types.js';

export interface DelayedFailoverOptions {
  /** How long a node may be gone before its sessions move, ms (default 10,000). */
  gracePeriodMs?: number;
}

/** Wait for the node to come back (a restart, a network blip); move its sessions only if it does not. */
export class DelayedFailover implements FailoverStrategy {
  readonly name = 'delayed';
  constructor(private readonly options: DelayedFailoverOptions = {}) {}
  timing(): FailoverTiming {
    return { action: 'wait', ms: this.options.gracePeriodMs ?? 10_000, cancelIfBack: true, earlyWhenIdle: false };
  }
}
