import { isHealthy, utilization, type NodeInfo } from '../model/node.js';
import type { RebalanceAdvice } from './types.js';

/**
 * When the most and least filled ready nodes differ by more than `threshold` (as a share of
 * capacity), recommend moving connections from nodes above the average fill to nodes below
 * it, enough to bring each to the average.
 */
export function planRebalance(nodes: readonly NodeInfo[], threshold: number): RebalanceAdvice | null {
  const ready = nodes.filter(isHealthy);
  if (ready.length < 2) return null;
  const fills = ready.map(utilization);
  const imbalance = Math.max(...fills) - Math.min(...fills);
  if (imbalance <= threshold) return null;
  const totalConn = ready.reduce((s, n) => s + n.load.connections, 0);
  const totalCap = ready.reduce((s, n) => s + n.capacity, 0);
  const avg = totalCap > 0 ? totalConn / totalCap : 0;
  const surplus = ready
    .map((n) => ({ id: n.id, n: Math.floor(n.load.connections - avg * n.capacity) }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n);
  const deficit = ready
    .map((n) => ({ id: n.id, n: Math.floor(avg * n.capacity - n.load.connections) }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n);
  const moves: RebalanceAdvice['moves'] = [];
  for (const from of surplus) {
    for (const to of deficit) {
      if (from.n <= 0) break;
      const k = Math.min(from.n, to.n);
      if (k <= 0) continue;
      moves.push({ from: from.id, to: to.id, connections: k });
      from.n -= k;
      to.n -= k;
    }
  }
  return moves.length ? { moves, imbalance } : null;
}
