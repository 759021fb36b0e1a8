import type { NodeInfo } from '../model/node.js';
import type { BalancerStrategy } from '../strategy/types.js';

export interface LeastConnectionsOptions {
  /** Compare connections / capacity instead of raw connection counts (default false). */
  relative?: boolean;
}

/**
 * The node with the fewest connections (or the lowest fill ratio with `relative`). Ties go to
 * the node picked least recently, so a burst of connections between heartbeats spreads evenly.
 */
export class LeastConnectionsBalancer implements BalancerStrategy {
  readonly name = 'least-connections';
  private readonly lastPicked = new Map<string, number>();
  private seq = 0;

  constructor(private readonly options: LeastConnectionsOptions = {}) {}

  pick(nodes: readonly NodeInfo[]): NodeInfo {
    const load = (n: NodeInfo) => (this.options.relative ? n.load.connections / Math.max(1, n.capacity) : n.load.connections);
    let best = nodes[0] as NodeInfo;
    for (const n of nodes) {
      const d = load(n) - load(best);
      if (d < 0 || (d === 0 && (this.lastPicked.get(n.id) ?? -1) < (this.lastPicked.get(best.id) ?? -1))) best = n;
    }
    this.lastPicked.set(best.id, this.seq++);
    if (this.lastPicked.size > 4 * nodes.length + 16) this.prune(nodes);
    return best;
  }

  private prune(nodes: readonly NodeInfo[]): void {
    const live = new Set(nodes.map((n) => n.id));
    for (const id of this.lastPicked.keys()) if (!live.has(id)) this.lastPicked.delete(id);
  }
}
