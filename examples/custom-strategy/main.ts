/**
 * Registers the tier balancer by name and runs three nodes with it (one premium, two standard)
 * in one process; SDK clients connect to a standard node and land where the plugin says.
 *
 *   node --conditions=@switchyard/source --import tsx examples/custom-strategy/main.ts
 */
import { WebSocket } from 'ws';
import { MemoryHub, StrategyRegistry, createCluster } from '@switchyard/core';
import { createNode, type SwitchyardNode } from '@switchyard/transport-ws';
import { createClient, type SwitchyardClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { TierBalancer, type TierBalancerOptions } from './tier-balancer.js';

// 1. Register the plugin under a name, next to the built-in strategies.
const strategies = StrategyRegistry.withDefaults().register('balancer', 'tier', (options) => new TierBalancer(options as TierBalancerOptions));

// 2. Name it in each node's configuration, with its options (a config file could say the same).
const hub = new MemoryHub(); // one process; use Redis (see ../chat) for several
const tiers = { 'std-1': 'standard', 'std-2': 'standard', 'vip-1': 'premium' } as const;
const nodes: SwitchyardNode[] = [];
for (const [id, tier] of Object.entries(tiers)) {
  const cluster = createCluster({
    hub,
    nodeId: id,
    meta: { tier },
    strategies,
    balancer: { name: 'tier', options: { premiumPrefix: 'vip-' } },
    heartbeatIntervalMs: 200,
    nodeTimeoutMs: 1000,
  });
  const node = createNode({ cluster, port: 0, authenticate: ({ params }) => ({ userId: String(params?.name ?? 'anonymous') }) });
  await node.start();
  nodes.push(node);
}
// Wait until every node sees the other two (one heartbeat).
while (nodes.some((n) => n.cluster.healthyNodes().length < 3)) await new Promise((r) => setTimeout(r, 50));

// 3. Clients all dial the first standard node; the balancer decides where they end up.
const users = ['vip-ada', 'bob', 'vip-grace', 'carol', 'dave'];
const clients: SwitchyardClient[] = users.map((name) =>
  createClient({ url: (nodes[0] as SwitchyardNode).url, params: { name }, WebSocket: WebSocket as unknown as WebSocketConstructor }),
);
await Promise.all(clients.map((c) => c.ready()));
for (const [i, c] of clients.entries()) console.log(`${users[i]} -> ${c.connection?.node} (${tiers[c.connection?.node as keyof typeof tiers]})`);

for (const c of clients) c.close();
await Promise.all(nodes.map((n) => n.close({ graceMs: 0 })));
