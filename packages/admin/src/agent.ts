/**
 * What each node tells the dashboard about itself, over core's cluster-wide queries: its rooms
 * and their member counts, its connections (up to a limit), whether it coordinates, and its
 * latencies. `mountAdmin` answers on the node it is mounted on; `attachAdminAgent(node)` makes
 * a node that does not serve the dashboard answer too.
 */
import type { SwitchyardNode } from '@switchyard/transport-ws';
import { LatencyWindow, type LatencySummary } from './latency.js';

/** The names of the queries this package answers on every node it runs on. */
export const AdminQueries = {
  node: 'admin.node',
  connections: 'admin.connections',
} as const;

/** One connection as the dashboard lists it. */
export interface ConnectionView {
  id: string;
  userId: string | null;
  rooms: string[];
  ip: string;
  /** Milliseconds since epoch, when the socket was accepted. */
  openedAt: number;
  /** Frames waiting in its send queue. */
  queued: number;
}

/** A node's answer to `AdminQueries.node`. */
export interface NodeReport {
  connections: number;
  /** Members per room on this node. */
  rooms: Record<string, number>;
  users: number;
  coordinator: boolean;
  draining: boolean;
  latency: { bus: LatencySummary | null; publish: LatencySummary | null };
}

/** A node's answer to `AdminQueries.connections`. */
export interface ConnectionsReport {
  total: number;
  connections: ConnectionView[];
}

/** The agent's work on one node, without the query wiring (also used by the mounted node directly). */
export class NodeAgent {
  private readonly bus: LatencyWindow;
  private readonly publish: LatencyWindow;

  constructor(private readonly node: SwitchyardNode) {
    this.bus = new LatencyWindow(node.cluster.metricsRegistry, 'switchyard_bus_latency_seconds');
    this.publish = new LatencyWindow(node.cluster.metricsRegistry, 'switchyard_bus_publish_duration_seconds');
  }

  async report(): Promise<NodeReport> {
    const rooms: Record<string, number> = {};
    const users = new Set<string>();
    let open = 0;
    for (const c of this.node.connections.values()) {
      if (c.state !== 'open') continue;
      open++;
      if (c.userId !== undefined) users.add(c.userId);
      for (const r of c.rooms) rooms[r] = (rooms[r] ?? 0) + 1;
    }
    const [bus, publish] = await Promise.all([this.bus.summary(), this.publish.summary()]);
    return { connections: open, rooms, users: users.size, coordinator: this.node.cluster.isCoordinator(), draining: this.node.draining, latency: { bus, publish } };
  }

  connections(limit: number, room?: string): ConnectionsReport {
    const out: ConnectionView[] = [];
    let total = 0;
    // performance.now() of the connection's accept, turned into wall-clock time
    const offset = Date.now() - performance.now();
    for (const c of this.node.connections.values()) {
      if (c.state !== 'open') continue;
      if (room !== undefined && !c.rooms.includes(room)) continue;
      total++;
      if (out.length < limit) out.push({ id: c.id, userId: c.userId ?? null, rooms: c.rooms, ip: c.ip, openedAt: Math.round(offset + c.openedAt), queued: c.queued });
    }
    return { total, connections: out };
  }
}

const limitOf = (args: unknown, max: number): { limit: number; room?: string } => {
  const a = (typeof args === 'object' && args !== null ? args : {}) as { limit?: unknown; room?: unknown };
  const limit = typeof a.limit === 'number' && Number.isInteger(a.limit) && a.limit >= 0 ? Math.min(a.limit, max) : max;
  return typeof a.room === 'string' && a.room ? { limit, room: a.room } : { limit };
};

/**
 * Make `node` answer the dashboard's questions (its rooms, connections and latencies) when the
 * dashboard is mounted on another node. Returns a function that stops answering.
 */
export function attachAdminAgent(node: SwitchyardNode, options: { maxConnections?: number } = {}): () => void {
  return serveAgent(node, new NodeAgent(node), options.maxConnections ?? 500);
}

/** @internal answer the admin queries with `agent` (shared with the dashboard mounted on the same node). */
export function serveAgent(node: SwitchyardNode, agent: NodeAgent, max: number): () => void {
  const removers = [
    node.cluster.onQuery(AdminQueries.node, () => agent.report()),
    node.cluster.onQuery(AdminQueries.connections, (args) => {
      const { limit, room } = limitOf(args, max);
      return agent.connections(limit, room);
    }),
  ];
  return () => {
    for (const r of removers.splice(0)) r();
  };
}
