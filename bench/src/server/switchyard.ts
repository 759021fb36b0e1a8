import { createCluster, type BalancerStrategy, type NodeInfo } from '@switchyard/core';
import { createNode } from '@switchyard/transport-ws';
import type { Bus } from '../types.js';
import { portsFor } from './ports.js';
import type { BenchNode, BenchServer, ServerStartArgs, WireCounts } from './types.js';

/** The transport's counters in each node's Prometheus registry that the bench reads. */
export const FRAMES_METRIC = 'switchyard_ws_frames_written_total';
export const MESSAGES_METRIC = 'switchyard_ws_messages_sent_total';

type Registry = ReturnType<typeof createCluster>['metricsRegistry'];

/** Sum of a counter over the given registries; undefined when a registry does not have it. */
async function counterTotal(registries: Iterable<Registry>, name: string): Promise<number | undefined> {
  let total = 0;
  for (const r of registries) {
    const m = r.getSingleMetric(name);
    if (!m) return undefined;
    const v = await m.get();
    total += v.values.reduce((a, x) => a + x.value, 0);
  }
  return total;
}

/** Keep every client on the node it dialled (the bench decides the spread, not the balancer). */
function stayLocal(selfId: string): BalancerStrategy {
  return { name: 'bench-local', pick: (nodes: readonly NodeInfo[]) => nodes.find((n) => n.id === selfId) ?? (nodes[0] as NodeInfo) };
}

/** Start `args.count` Switchyard nodes on `bus` in this process. */
export async function startSwitchyard(bus: Bus, args: ServerStartArgs): Promise<BenchServer> {
  const deadListeners: Array<(observer: string, dead: string) => void> = [];
  const fenceListeners: Array<(node: string, fenced: boolean, reason: string | null) => void> = [];
  const nodes: BenchNode[] = [];
  const stops: Array<() => Promise<void>> = [];
  const registries = new Set<Registry>();
  for (let i = 0; i < args.count; i++) {
    const id = `sy-${args.index + i}`;
    const ports = bus === 'memory' ? { history: args.history } : await portsFor(bus, args.backend);
    const cluster = createCluster({
      nodeId: id,
      ...ports,
      ...(args.history ? {} : { history: false }),
      balancer: stayLocal(id),
      heartbeatIntervalMs: args.clusterHeartbeatMs,
      nodeTimeoutMs: args.nodeTimeoutMs,
      sessionTtlMs: 600_000,
      rebalance: { enabled: false },
    } as Parameters<typeof createCluster>[0]);
    cluster.on('node:dead', (n) => deadListeners.forEach((l) => l(id, n.id)));
    cluster.on('fence', (fenced, reason) => fenceListeners.forEach((l) => l(id, fenced, reason)));
    const node = createNode({
      cluster,
      port: 0,
      host: '127.0.0.1',
      timeouts: { heartbeatMs: args.heartbeatMs },
      limits: { rateLimit: false },
      rooms: { history: (room: string) => args.history && room.startsWith('h-') },
      drain: { graceMs: 0 },
    });
    await node.start();
    registries.add(node.cluster.metricsRegistry);
    nodes.push({
      id,
      url: node.url,
      publish: (room, data) => node.to(room).send('m', data),
      broadcast: (data) => node.broadcast('m', data),
      connections: () => node.connections.size,
    });
    stops.push(() => node.close({ graceMs: 0 }));
  }
  return {
    nodes,
    wire: async (): Promise<WireCounts | undefined> => {
      const [frames, messages] = await Promise.all([counterTotal(registries, FRAMES_METRIC), counterTotal(registries, MESSAGES_METRIC)]);
      return frames === undefined || messages === undefined ? undefined : { frames, messages };
    },
    onDead: (l) => deadListeners.push(l),
    onFence: (l) => fenceListeners.push(l),
    close: async () => {
      await Promise.all(stops.map((s) => s().catch(() => undefined)));
    },
  };
}
