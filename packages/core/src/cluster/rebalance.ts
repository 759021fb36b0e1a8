import { isHealthy, utilization, type NodeInfo } from '../model/node.js';
import type { RebalanceAdvice } from './types.js';

/** Which nodes `planRebalance` may move connections from or to, besides being ready. */
export interface RebalanceOptions {
  /** Nodes never to involve: suspected of being gone, just declared dead, about to leave. */
  exclude?: Iterable<string>;
  /**
   * Leave out a node whose last heartbeat (`updatedAt`) is older than this, ms: it has missed
   * heartbeats and may be gone while the registry still lists it as ready. Default: no check.
   */
  maxHeartbeatAgeMs?: number;
  /** The time to measure heartbeat ages against (default `Date.now()`). */
  now?: number;
}

/**
 * When the most and least filled eligible nodes differ by more than `threshold` (as a share of
 * capacity), recommend moving connections from nodes above the average fill to nodes below
 * it, enough to bring each to the average. Eligible: ready, not excluded, heartbeat recent
 * (see `RebalanceOptions`); the others are neither sources nor targets, nor counted in the
 * average.
 */
export function planRebalance(nodes: readonly NodeInfo[], threshold: number, options: RebalanceOptions = {}): RebalanceAdvice | null {
  const excluded = new Set(options.exclude ?? []);
  const now = options.now ?? Date.now();
  const maxAge = options.maxHeartbeatAgeMs;
  const ready = nodes.filter((n) => isHealthy(n) && !excluded.has(n.id) && (maxAge === undefined || now - n.updatedAt <= maxAge));
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
