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
    const draw = () => nodes[Math.floor(this.random() * nodes.length)] as NodeInfo;
    const a = draw();
    if (!this.options.twoChoices || nodes.length < 2) return a;
    let b = draw();
    for (let i = 0; i < 3 && b.id === a.id; i++) b = draw();
    const fill = (n: NodeInfo) => n.load.connections / Math.max(1, n.capacity);
    return fill(b) < fill(a) ? b : a;
  }
}
