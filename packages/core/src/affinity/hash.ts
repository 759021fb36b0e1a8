import type { NodeInfo } from '../model/node.js';
import type { AffinityStrategy, PlacementContext } from '../strategy/types.js';
import { rendezvous } from '../util/hash.js';

export interface HashAffinityOptions {
  /** What to hash (default: the application key, else the IP). */
  by?: 'key' | 'ip' | 'user';
}

/**
 * Stickiness without a store: the client's key is hashed onto the healthy nodes (rendezvous),
 * so every node computes the same answer and only about 1/N of keys move when a node joins.
 */
export class HashAffinity implements AffinityStrategy {
  readonly name = 'hash';
  constructor(private readonly options: HashAffinityOptions = {}) {}

  private raw(ctx: PlacementContext): string | undefined {
    switch (this.options.by) {
      case 'ip':
        return ctx.ip;
      case 'user':
        return ctx.userId;
      case 'key':
        return ctx.key;
      default:
        return ctx.key ?? ctx.ip;
    }
  }

  /** Hash affinity needs no stored pin. */
  key(): null {
    return null;
  }

  candidates(nodes: readonly NodeInfo[], ctx: PlacementContext): readonly NodeInfo[] {
    const k = this.raw(ctx);
    if (k === undefined) return nodes;
    const chosen = rendezvous(k, nodes);
    return chosen ? [chosen] : nodes;
  }
}
