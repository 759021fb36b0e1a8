/**
 * The cluster as the dashboard shows it: every node the registry knows (state, load, last
 * heartbeat) with what each live node answers about itself (rooms, connections, latency), the
 * rooms summed over the nodes, and which nodes did not answer.
 */
import { PresenceQueries, type SwitchyardNode } from '@switchyard/transport-ws';
import { AdminQueries, type NodeAgent, type NodeReport } from './agent.js';
import type { LatencySummary } from './latency.js';

export interface NodeSnapshot {
  id: string;
  url: string;
  region: string | null;
  /** What the registry says: starting, ready, draining, dead. */
  state: string;
  /** True for the node serving this dashboard. */
  self: boolean;
  /** True when the node answered the admin query (it runs the dashboard or `attachAdminAgent`). */
  reporting: boolean;
  coordinator: boolean | null;
  /** Open connections: the node's own count when it answered, else its last heartbeat's. */
  connections: number;
  capacity: number;
  cpu: number;
  memory: number;
  lagMs: number;
  rooms: Record<string, number>;
  users: number | null;
  latency: { bus: LatencySummary | null; publish: LatencySummary | null } | null;
  startedAt: number;
  lastHeartbeatAgoMs: number;
}

export interface RoomSnapshot {
  name: string;
  members: number;
  /** Members per node. */
  nodes: Record<string, number>;
}

export interface ClusterSnapshot {
  /** The node serving this dashboard. */
  node: string;
  /** Milliseconds since epoch. */
  at: number;
  nodes: NodeSnapshot[];
  rooms: RoomSnapshot[];
  totals: { nodes: number; healthy: number; connections: number; capacity: number; rooms: number };
  /** Live nodes that did not answer in time (their rooms are missing from `rooms`). */
  missing: string[];
  /** Live nodes that answered without the admin agent: counts only, no rooms. */
  withoutAgent: string[];
}

export async function buildSnapshot(node: SwitchyardNode, agent: NodeAgent, timeoutMs: number): Promise<ClusterSnapshot> {
  const { cluster } = node;
  const now = Date.now();
  const known = cluster.nodes();
  const reports = new Map<string, NodeReport>();
  const others = known.filter((n) => n.id !== node.id && (n.state === 'ready' || n.state === 'draining')).map((n) => n.id);
  const [own, remote] = await Promise.all([agent.report(), others.length ? cluster.query<NodeReport>(AdminQueries.node, null, { nodes: others, timeoutMs }) : undefined]);
  reports.set(node.id, own);
  const withoutAgent: string[] = [];
  const missing = new Set(remote?.missing ?? []);
  for (const r of remote?.results ?? []) if (isReport(r.result)) reports.set(r.node, r.result);
  for (const e of remote?.errors ?? []) withoutAgent.push(e.node);
  // Nodes without the agent still tell their connection count (transport-ws answers it everywhere).
  const counts = new Map<string, number>();
  if (withoutAgent.length) {
    const stats = await cluster.query<{ connections: number }>(PresenceQueries.stats, null, { nodes: withoutAgent, timeoutMs });
    for (const r of stats.results) if (typeof r.result?.connections === 'number') counts.set(r.node, r.result.connections);
  }
  const nodes: NodeSnapshot[] = known.map((n) => {
    const rep = reports.get(n.id);
    return {
      id: n.id,
      url: n.url,
      region: n.region ?? null,
      state: n.state,
      self: n.id === node.id,
      reporting: rep !== undefined,
      coordinator: rep ? rep.coordinator : null,
      connections: rep?.connections ?? counts.get(n.id) ?? (n.state === 'dead' ? 0 : n.load.connections),
      capacity: n.capacity,
      cpu: n.load.cpu,
      memory: n.load.memory,
      lagMs: n.load.eventLoopLagMs,
      rooms: rep?.rooms ?? {},
      users: rep?.users ?? null,
      latency: rep?.latency ?? null,
      startedAt: n.startedAt,
      lastHeartbeatAgoMs: Math.max(0, now - n.updatedAt),
    };
  });
  nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rooms = new Map<string, RoomSnapshot>();
  for (const n of nodes) {
    for (const [name, members] of Object.entries(n.rooms)) {
      const r = rooms.get(name) ?? { name, members: 0, nodes: {} };
      r.members += members;
      r.nodes[n.id] = members;
      rooms.set(name, r);
    }
  }
  const alive = nodes.filter((n) => n.state !== 'dead');
  return {
    node: node.id,
    at: now,
    nodes,
    rooms: [...rooms.values()].sort((a, b) => b.members - a.members || (a.name < b.name ? -1 : 1)),
    totals: {
      nodes: alive.length,
      healthy: alive.filter((n) => n.state === 'ready').length,
      connections: alive.reduce((s, n) => s + n.connections, 0),
      capacity: alive.reduce((s, n) => s + n.capacity, 0),
      rooms: rooms.size,
    },
    missing: [...missing].sort(),
    withoutAgent: withoutAgent.sort(),
  };
}

function isReport(v: unknown): v is NodeReport {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<NodeReport>;
  return typeof r.connections === 'number' && typeof r.rooms === 'object' && r.rooms !== null && typeof r.coordinator === 'boolean';
}
