/** The state the demo sends to its dashboard once a second (server and browser share this). */

export interface LatencySummary {
  p50: number | null;
  p99: number | null;
  samples: number;
}

export interface NodeView {
  id: string;
  url: string;
  port: number | null;
  /** What this process knows: starting, running, draining, stopped, killed; `remote` for nodes of other processes. */
  process: 'starting' | 'running' | 'draining' | 'stopped' | 'killed' | 'remote';
  /** What the registry says: starting, ready, draining, dead; `gone` once it forgot the node. */
  state: string;
  coordinator: boolean;
  connections: number;
  capacity: number;
  cpu: number;
  memory: number;
  lagMs: number;
  busInPerSec: number;
  socketOutPerSec: number;
  busLatency: LatencySummary;
  rooms: Record<string, number>;
  users: string[];
  lastHeartbeatAgoMs: number | null;
}

export interface RoomView {
  name: string;
  members: number;
  /** Members per node. */
  nodes: Record<string, number>;
}

export interface DashboardState {
  bus: { name: string; where: string };
  uptimeSec: number;
  nodes: NodeView[];
  rooms: RoomView[];
  totals: {
    connections: number;
    /** Known nodes that are ready in the registry and serving (a killed node is not, even while still listed). */
    healthy: number;
    /** Nodes the registry lists as alive or this process runs (a crashed node until it is declared dead). */
    nodes: number;
    busInPerSec: number;
    socketOutPerSec: number;
    publishedPerSec: number;
    e2eLatency: LatencySummary;
    busLatency: LatencySummary;
  };
  /** The last two minutes, one point a second. */
  series: Array<{ t: number; connections: Record<string, number>; out: number }>;
}

export interface LogEntry {
  t: number;
  level: 'info' | 'warn';
  text: string;
}
