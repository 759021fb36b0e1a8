/**
 * What the custom-strategy README says: the plugin is registered by name, createCluster uses
 * it, and clients land where it says (premium users on the premium node, the rest elsewhere).
 */
import { describe, expect, it } from 'vitest';
import { MemoryHub, StrategyRegistry, createCluster, isSwitchyardError, type NodeInfo } from '@switchyard/core';
import { Program } from '../../test/helpers.js';
import { TierBalancer } from '../tier-balancer.js';

const node = (id: string, tier: string, connections = 0): NodeInfo => ({
  id,
  url: `ws://127.0.0.1/${id}`,
  weight: 1,
  capacity: 100,
  state: 'ready',
  load: { connections, cpu: 0, memory: 0, eventLoopLagMs: 0 },
  protocol: 1,
  capabilities: [],
  startedAt: 0,
  updatedAt: 0,
  meta: { tier },
});

describe('examples/custom-strategy', () => {
  it('the program places premium users on the premium node and the others on standard nodes', async () => {
    const p = new Program('examples/custom-strategy/main.ts');
    expect(await p.wait(), p.output).toBe(0);
    const placed = Object.fromEntries([...p.output.matchAll(/^(\S+) -> (\S+) \((\w+)\)$/gm)].map((m) => [m[1], m[2]]));
    expect(Object.keys(placed)).toHaveLength(5);
    expect(placed['vip-ada']).toBe('vip-1');
    expect(placed['vip-grace']).toBe('vip-1');
    for (const u of ['bob', 'carol', 'dave']) expect(placed[u]).toMatch(/^std-[12]$/);
  });

  it('createCluster resolves the plugin by name with its options, and place() follows it', async () => {
    const strategies = StrategyRegistry.withDefaults().register('balancer', 'tier', (o) => new TierBalancer(o));
    const hub = new MemoryHub();
    const make = (id: string, tier: string) =>
      createCluster({ hub, nodeId: id, meta: { tier }, strategies, balancer: { name: 'tier', options: { premiumPrefix: 'gold-' } }, heartbeatIntervalMs: 100, nodeTimeoutMs: 500 });
    const nodes = [make('a', 'standard'), make('b', 'premium')];
    await Promise.all(nodes.map((n) => n.start()));
    try {
      const a = nodes[0] as (typeof nodes)[number];
      expect(a.balancer.name).toBe('tier');
      const deadline = Date.now() + 5000;
      while (a.healthyNodes().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect((await a.place({ userId: 'gold-1' })).node.id).toBe('b');
      expect((await a.place({ userId: 'vip-1' })).node.id).toBe('a'); // the prefix came from the options
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });

  it('falls back to any node when the tier has none, and picks the least filled inside a tier', () => {
    const b = new TierBalancer();
    expect(b.pick([node('s1', 'standard'), node('s2', 'standard')], { userId: 'vip-x' }).id).toMatch(/^s[12]$/);
    expect(b.pick([node('s1', 'standard', 50), node('s2', 'standard', 10), node('p', 'premium')], { userId: 'bob' }).id).toBe('s2');
  });

  it('an unknown strategy name is refused with UNKNOWN_STRATEGY', () => {
    let err: unknown;
    try {
      createCluster({ hub: new MemoryHub(), balancer: 'tier' });
    } catch (e) {
      err = e;
    }
    expect(isSwitchyardError(err, 'UNKNOWN_STRATEGY')).toBe(true);
  });
});
