import type { ScaleAdvice } from './types.js';
import { isHealthy, type NodeInfo } from '../model/node.js';
import type { ClusterConfig } from '../config/schema.js';

/**
 * Advises scaling from cluster utilization (connections / capacity of ready nodes, or CPU if
 * higher). Hysteresis: a threshold must be crossed `sustain` evaluations in a row, the up and
 * down thresholds are apart, and after advice nothing more is said for `cooldownMs`. Advice
 * stays within `minNodes`..`maxNodes`.
 */
export class ScalingAdvisor {
  private above = 0;
  private below = 0;
  private lastAdviceAt = -Infinity;

  constructor(private readonly config: ClusterConfig['scaling']) {}

  evaluate(nodes: readonly NodeInfo[], now = Date.now()): ScaleAdvice | null {
    const ready = nodes.filter(isHealthy);
    const count = ready.length;
    if (count === 0) return null;
    const capacity = ready.reduce((s, n) => s + n.capacity, 0);
    const connections = ready.reduce((s, n) => s + n.load.connections, 0);
    const connUtil = capacity > 0 ? connections / capacity : 0;
    const cpuUtil = ready.reduce((s, n) => s + n.load.cpu, 0) / count;
    const util = Math.max(connUtil, cpuUtil);
    const c = this.config;

    if (util > c.scaleUpAt) {
      this.above++;
      this.below = 0;
    } else if (util < c.scaleDownAt) {
      this.below++;
      this.above = 0;
    } else {
      this.above = 0;
      this.below = 0;
    }
    if (now - this.lastAdviceAt < c.cooldownMs) return null;

    const desired = Math.min(c.maxNodes, Math.max(c.minNodes, Math.ceil((util * count) / c.target)));
    let advice: ScaleAdvice | null = null;
    if (this.above >= c.sustain && count < c.maxNodes) {
      advice = { direction: 'up', reason: `utilization ${pct(util)} above ${pct(c.scaleUpAt)}`, currentNodes: count, desiredNodes: Math.max(desired, count + 1), utilization: util };
    } else if (this.below >= c.sustain && count > c.minNodes) {
      advice = { direction: 'down', reason: `utilization ${pct(util)} below ${pct(c.scaleDownAt)}`, currentNodes: count, desiredNodes: Math.min(desired, count - 1), utilization: util };
    }
    if (advice) {
      this.lastAdviceAt = now;
      this.above = 0;
      this.below = 0;
    }
    return advice;
  }
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
