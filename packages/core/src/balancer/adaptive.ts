import { utilization, type NodeInfo } from '../model/node.js';
import type { BalancerStrategy } from '../strategy/types.js';

export interface AdaptiveOptions {
  /** Weights of each signal in the score (lower score wins). */
  weights?: { cpu?: number; memory?: number; latency?: number; connections?: number };
  /** Event-loop lag considered "fully loaded", ms (default 100). */
  lagCeilingMs?: number;
  /** A node past any of these is overloaded and skipped while another is not. */
  maxCpu?: number;
  maxMemory?: number;
  maxLagMs?: number;
  maxUtilization?: number;
}

/**
 * Scores each node from CPU, memory, event-loop lag and connection ratio, skips overloaded
 * nodes (unless all are), and picks the lowest score. Nodes within 2% of the best score share
 * picks in turn, so a burst between heartbeats does not pile onto one node.
 */
export class AdaptiveBalancer implements BalancerStrategy {
  readonly name = 'adaptive';
  private turn = 0;
  private readonly w: Required<NonNullable<AdaptiveOptions['weights']>>;

  constructor(private readonly options: AdaptiveOptions = {}) {
    this.w = { cpu: 0.3, memory: 0.15, latency: 0.2, connections: 0.35, ...options.weights };
  }

  score(n: NodeInfo): number {
    const lag = Math.min(1, n.load.eventLoopLagMs / (this.options.lagCeilingMs ?? 100));
    return this.w.cpu * n.load.cpu + this.w.memory * n.load.memory + this.w.latency * lag + this.w.connections * Math.min(1.5, utilization(n));
  }

  overloaded(n: NodeInfo): boolean {
    return (
      n.load.cpu >= (this.options.maxCpu ?? 0.9) ||
      n.load.memory >= (this.options.maxMemory ?? 0.9) ||
      n.load.eventLoopLagMs >= (this.options.maxLagMs ?? 200) ||
      utilization(n) >= (this.options.maxUtilization ?? 1)
    );
  }

  pick(nodes: readonly NodeInfo[]): NodeInfo {
    const usable = nodes.filter((n) => !this.overloaded(n));
    const pool = usable.length > 0 ? usable : nodes;
    const scored = pool.map((n) => ({ n, s: this.score(n) })).sort((a, b) => a.s - b.s || (a.n.id < b.n.id ? -1 : 1));
    const best = (scored[0] as { s: number }).s;
    const near = scored.filter((x) => x.s - best <= 0.02);
    return (near[this.turn++ % near.length] as { n: NodeInfo }).n;
  }
}
