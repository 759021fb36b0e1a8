import type { NodeInfo } from '../model/node.js';
import type { BalancerStrategy } from '../strategy/types.js';

export interface RandomOptions {
  /** Draw two nodes and keep the less loaded one (power of two choices). Default false. */
  twoChoices?: boolean;
  /** Source of randomness in [0, 1); for tests. */
  random?: () => number;
}

/** A uniformly random node, or the better of two random nodes. */
export class RandomBalancer implements BalancerStrategy {
  readonly name: string;
  private readonly random: () => number;

  constructor(private readonly options: RandomOptions = {}) {
    this.name = options.twoChoices ? 'power-of-two' : 'random';
    this.random = options.random ?? Math.random;
  }

  pick(nodes: readonly NodeInfo[]): NodeInfo {
    const i = Math.floor(this.random() * nodes.length);
    const a = nodes[i] as NodeInfo;
    if (!this.options.twoChoices || nodes.length < 2) return a;
    // the second choice is drawn from the other nodes, so the pair is always two distinct nodes
    let j = Math.floor(this.random() * (nodes.length - 1));
    if (j >= i) j++;
    const b = nodes[j] as NodeInfo;
    const fill = (n: NodeInfo) => n.load.connections / Math.max(1, n.capacity);
    return fill(b) < fill(a) ? b : a;
  }
}
