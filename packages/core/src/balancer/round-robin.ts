import type { NodeInfo } from '../model/node.js';
import type { BalancerStrategy } from '../strategy/types.js';

/** Each node in turn, in id order, regardless of load. */
export class RoundRobinBalancer implements BalancerStrategy {
  readonly name = 'round-robin';
  private next = 0;

  pick(nodes: readonly NodeInfo[]): NodeInfo {
    const sorted = [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const node = sorted[this.next % sorted.length] as NodeInfo;
    this.next = (this.next + 1) % 1_000_000_007;
    return node;
  }
}
