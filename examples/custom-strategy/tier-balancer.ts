/**
 * A balancer plugin of our own: premium users go to nodes labelled `tier=premium`, everyone
 * else to the other nodes; inside a tier, the least-filled node wins. If a tier has no
 * healthy node, any node will do (a balancer must always answer).
 */
import type { BalancerStrategy, NodeInfo, PlacementContext } from '@switchyard/core';

export interface TierBalancerOptions {
  /** User ids starting with this prefix are premium. Default `vip-`. */
  premiumPrefix?: string;
  /** The node label (`meta`) that names a node's tier. Default `tier`. */
  label?: string;
}

export class TierBalancer implements BalancerStrategy {
  readonly name = 'tier';
  private readonly prefix: string;
  private readonly label: string;

  constructor(options: TierBalancerOptions = {}) {
    this.prefix = options.premiumPrefix ?? 'vip-';
    this.label = options.label ?? 'tier';
  }

  pick(nodes: readonly NodeInfo[], ctx: PlacementContext): NodeInfo {
    const premium = ctx.userId?.startsWith(this.prefix) ?? false;
    const inTier = nodes.filter((n) => (n.meta?.[this.label] === 'premium') === premium);
    const pool = inTier.length > 0 ? inTier : nodes;
    const fill = (n: NodeInfo) => n.load.connections / Math.max(1, n.capacity);
    return pool.reduce((best, n) => (fill(n) < fill(best) ? n : best));
  }
}
