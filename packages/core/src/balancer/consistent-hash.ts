import type { NodeInfo } from '../model/node.js';
import type { BalancerStrategy, PlacementContext } from '../strategy/types.js';
import { rendezvous } from '../util/hash.js';

export interface ConsistentHashOptions {
  /** What to hash: the client IP (default), the user, the session, or the application key. */
  by?: 'ip' | 'user' | 'session' | 'key';
  /** Respect node weights (default true). */
  weighted?: boolean;
}

/**
 * The same client always lands on the same node while the node set is unchanged; when a node
 * joins only about 1/N of the keys move (rendezvous hashing). Clients with no key fall back to
 * an even spread by a counter.
 */
export class ConsistentHashBalancer implements BalancerStrategy {
  readonly name = 'consistent-hash';
  private fallback = 0;

  constructor(private readonly options: ConsistentHashOptions = {}) {}

  keyOf(ctx: PlacementContext): string | undefined {
    switch (this.options.by ?? 'ip') {
      case 'ip':
        return ctx.ip ?? ctx.key;
      case 'user':
        return ctx.userId;
      case 'session':
        return ctx.sessionId;
      case 'key':
        return ctx.key;
    }
  }

  pick(nodes: readonly NodeInfo[], ctx: PlacementContext): NodeInfo {
    const key = this.keyOf(ctx) ?? `#${this.fallback++}`;
    const candidates = this.options.weighted === false ? nodes.map((n) => ({ ...n, weight: 1 })) : nodes;
    const chosen = rendezvous(key, candidates) as NodeInfo;
    return nodes.find((n) => n.id === chosen.id) as NodeInfo;
  }
}
