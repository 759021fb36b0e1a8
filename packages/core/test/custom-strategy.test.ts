import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHub, StrategyRegistry, Tokens, createCluster, isSwitchyardError, type BalancerStrategy, type ClusterNode, type NodeInfo } from '../src/index.js';
import { waitFor } from '../src/testing/index.js';

/** A user's own balancer: always the node whose id sorts last, and it counts its calls. */
class LastIdBalancer implements BalancerStrategy {
  readonly name = 'last-id';
  calls = 0;
  pick(nodes: readonly NodeInfo[]): NodeInfo {
    this.calls++;
    return [...nodes].sort((x, y) => (x.id < y.id ? 1 : -1))[0] as NodeInfo;
  }
}

const started: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

describe('custom strategies', () => {
  it('a balancer registered by name is resolved through its token and used by the cluster', async () => {
    const hub = new MemoryHub();
    const instance = new LastIdBalancer();
    const strategies = StrategyRegistry.withDefaults().register('balancer', 'last-id', () => instance);
    const nodes = ['a', 'b', 'c'].map((id) =>
      createCluster({ hub, nodeId: id, heartbeatIntervalMs: 50, nodeTimeoutMs: 300, strategies, balancer: 'last-id' }),
    );
    started.push(...nodes);
    await Promise.all(nodes.map((n) => n.start()));
    await waitFor(() => nodes[0]!.healthyNodes().length === 3);
    expect(nodes[0]!.balancer).toBe(instance);
    for (let i = 0; i < 5; i++) expect((await nodes[0]!.place({})).node.id).toBe('c');
    expect(instance.calls).toBe(5);
  });

  it('a strategy object can be passed directly, or through the container', async () => {
    const direct = new LastIdBalancer();
    const viaToken = new LastIdBalancer();
    const a = createCluster({ hub: new MemoryHub(), balancer: direct });
    const b = createCluster({ hub: new MemoryHub(), configure: (c) => c.register(Tokens.Balancer, { useValue: viaToken }) });
    expect(a.balancer).toBe(direct);
    expect(b.balancer).toBe(viaToken);
  });

  it('an unknown name is a clear error that lists the known ones', () => {
    let err: unknown;
    try {
      createCluster({ hub: new MemoryHub(), balancer: 'fastest' });
    } catch (e) {
      err = e;
    }
    expect(isSwitchyardError(err, 'UNKNOWN_STRATEGY')).toBe(true);
    expect((err as Error).message).toContain('unknown balancer strategy "fastest"');
    expect((err as Error).message).toContain('adaptive, consistent-hash, least-connections, power-of-two, random, round-robin, weighted');
    expect(() => createCluster({ hub: new MemoryHub(), failover: 'eventually' })).toThrow(/known: delayed, graceful, immediate/);
    expect(() => createCluster({ hub: new MemoryHub(), affinity: { name: 'nope' } })).toThrow(/known: connection, hash, none, region, user/);
  });
});
