import type { NodeInfo } from '../model/node.js';
import type { AffinityStrategy, PlacementContext } from '../strategy/types.js';

export interface RegionAffinityOptions {
  /**
   * For each region, the other regions in order of preference (nearest first), used when the
   * client's region has no healthy node. Regions not listed fall back to any node.
   */
  nearest?: Record<string, string[]>;
  /** Region assumed for clients that state none. */
  defaultRegion?: string;
}

/** Keep clients in their region; fall back to the nearest region with a healthy node, then to any. */
export class RegionAffinity implements AffinityStrategy {
  readonly name = 'region';
  constructor(private readonly options: RegionAffinityOptions = {}) {}

  key(): null {
    return null;
  }

  candidates(nodes: readonly NodeInfo[], ctx: PlacementContext): readonly NodeInfo[] {
    const region = ctx.region ?? this.options.defaultRegion;
    if (!region) return nodes;
    for (const r of [region, ...(this.options.nearest?.[region] ?? [])]) {
      const inRegion = nodes.filter((n) => n.region === r);
      if (inRegion.length > 0) return inRegion;
    }
    return nodes;
  }
}
