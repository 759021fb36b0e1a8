import { createCluster, type BalancerStrategy, type ClusterNode, type NodeInfo } from '@switchyard/core';
import { createNode, type SwitchyardNode } from '@switchyard/transport-ws';
import { serve } from '../proc/rpc.js';
import type { NodeEvent, NodeStartArgs, NodeStarted } from '../types.js';
import { portsFor } from './ports.js';

/**
 * A node process: one cluster node and its WebSocket node on the scenario's backend. The driver
 * starts it over IPC, may kill it with SIGKILL, and it exits when the driver goes away.
 */

/** Keep a client on the node it dialled (the scenario puts one subscriber on each node). */
function stayLocal(selfId: string): BalancerStrategy {
  return { name: 'scenario-local', pick: (nodes: readonly NodeInfo[]) => nodes.find((n) => n.id === selfId) ?? (nodes[0] as NodeInfo) };
}

let cluster: ClusterNode | undefined;
let node: SwitchyardNode | undefined;

async function start(args: NodeStartArgs): Promise<NodeStarted> {
  const ports = await portsFor(args.backend, args.nodeId, args.historyMaxLength);
  cluster = createCluster({
    nodeId: args.nodeId,
    ...ports,
    balancer: stayLocal(args.nodeId),
    heartbeatIntervalMs: args.heartbeatIntervalMs,
    nodeTimeoutMs: args.nodeTimeoutMs,
    ...(args.clusterKey ? { clusterKey: args.clusterKey } : {}),
    rebalance: { enabled: false },
    scaling: { enabled: false },
  });
  const report = (event: string, detail?: string) => rpc.emit('cluster', { node: args.nodeId, event, ...(detail !== undefined ? { detail } : {}), at: Date.now() } satisfies NodeEvent);
  cluster.on('node:dead', (n) => report('node:dead', n.id));
  cluster.on('node:left', (id, reason) => report('node:left', `${id} ${reason}`));
  cluster.on('state', (s) => report('state', String(s)));
  cluster.on('bus:status', (s) => report('bus:status', String(s)));
  cluster.on('envelope:dropped', (reason) => report('envelope:dropped', reason));
  node = createNode({
    cluster,
    port: 0,
    host: '127.0.0.1',
    timeouts: { heartbeatMs: 2000 },
    rooms: { history: (room: string) => room.startsWith(args.historyPrefix) },
    drain: { graceMs: 0 },
  });
  node.on('error', (err) => process.stderr.write(`node error: ${err.message}\n`));
  await node.start();
  const url = node.url;
  return { id: args.nodeId, url, httpUrl: url.replace(/^ws/, 'http').replace(/\/[^/]*$/, ''), pid: process.pid };
}

const rpc = serve({
  start: (args: NodeStartArgs) => start(args),
  /** The nodes this node sees as healthy. */
  healthy: () => cluster?.healthyNodes().map((n) => n.id) ?? [],
  connections: () => node?.connections.size ?? 0,
  stop: async () => {
    await node?.close({ graceMs: 0 }).catch(() => undefined);
    node = undefined;
    setTimeout(() => process.exit(0), 50).unref();
    return true;
  },
});
