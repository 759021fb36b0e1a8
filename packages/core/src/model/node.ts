/** Lifecycle of a node as the cluster sees it. */
export type NodeState = 'starting' | 'ready' | 'draining' | 'dead';

/** What a node reports about itself on every heartbeat. */
export interface NodeLoad {
  /** Open client connections on the node. */
  connections: number;
  /** Process CPU use over the last interval, 0..1 of one core. */
  cpu: number;
  /** Heap used / heap limit, 0..1. */
  memory: number;
  /** Event-loop delay p99 over the last interval, milliseconds. */
  eventLoopLagMs: number;
}

export interface NodeInfo {
  /** Unique, stable for the life of the process. */
  id: string;
  /** Where clients reach this node, e.g. `ws://127.0.0.1:4001/ws`. */
  url: string;
  /** Optional region or zone name used by region affinity. */
  region?: string | undefined;
  /** Relative share for the weighted balancer; 1 by default. */
  weight: number;
  /** Connections the node is sized for; a node at capacity is full. */
  capacity: number;
  state: NodeState;
  load: NodeLoad;
  /** Envelope protocol version the node speaks. */
  protocol: number;
  /** Features the node supports, e.g. `history`, `batch`. */
  capabilities: string[];
  /** Milliseconds since epoch, stamped by the node. */
  startedAt: number;
  /** Milliseconds since epoch of the last heartbeat, stamped by the node. */
  updatedAt: number;
  /** Free-form labels (version, host). Keep it small. */
  meta?: Record<string, string> | undefined;
}

export const emptyLoad = (): NodeLoad => ({ connections: 0, cpu: 0, memory: 0, eventLoopLagMs: 0 });

/** A node that may receive new connections. */
export const isHealthy = (n: NodeInfo): boolean => n.state === 'ready';

/** connections / capacity, 0 when capacity is unknown. */
export const utilization = (n: NodeInfo): number =>
  n.capacity > 0 ? n.load.connections / n.capacity : 0;
