import type { NodeInfo } from '../model/node.js';
import type { BalancerStrategy } from '../strategy/types.js';

/**
 * Smooth weighted round robin, as nginx does it: every pick adds each node's weight to its
 * running score, the highest score wins and pays back the total. A node of weight 5 among
 * weights 5,1,1 is picked 5 times in 7, spread out (a a b a c a a), never 5 in a row.
 */
export class WeightedBalancer implements BalancerStrategy {
  readonly name = 'weighted';
  private readonly current = new Map<string, number>();

  pick(nodes: readonly NodeInfo[]): NodeInfo {
    let total = 0;
    let best: NodeInfo | undefined;
    let bestScore = -Infinity;
    for (const n of nodes) {
      const w = Math.max(0, n.weight);
      total += w;
      const score = (this.current.get(n.id) ?? 0) + w;
      this.current.set(n.id, score);
      if (score > bestScore) {
        best = n;
        bestScore = score;
      }
    }
    const winner = best as NodeInfo;
    this.current.set(winner.id, bestScore - total);
    if (this.current.size > nodes.length) {
      const live = new Set(nodes.map((n) => n.id));
      for (const id of this.current.keys()) if (!live.has(id)) this.current.delete(id);
    }
    return winner;
  }
}
