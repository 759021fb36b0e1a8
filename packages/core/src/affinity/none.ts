import type { AffinityStrategy } from '../strategy/types.js';

/** No stickiness: every connection is placed by the balancer. */
export class NoAffinity implements AffinityStrategy {
  readonly name = 'none';
  key(): null {
    return null;
  }
}
