/** One WebSocket node as the bench sees it, whatever it runs on. */
export interface BenchNode {
  id: string;
  url: string;
  /** Send `data` to `room` on every node (history when the room keeps it). */
  publish(room: string, data: unknown): Promise<unknown> | void;
  /** Send `data` to every connection of the cluster. */
  broadcast(data: unknown): Promise<unknown> | void;
  connections(): number;
}

/**
 * What the nodes of a process wrote to their sockets since they started: WebSocket frames that
 * carry messages, and the messages in them (a batch frame carries several).
 */
export interface WireCounts {
  frames: number;
  messages: number;
}

/** One sample of a node process: [wall-clock ms, CPU µs (user + system), frames, messages written], counted from the last stats reset. */
export type Sample = [number, number, number, number];

/** The nodes one server process hosts (several only for the in-memory bus), and how to stop them. */
export interface BenchServer {
  nodes: BenchNode[];
  /** Frames and messages written so far, summed over the process's nodes; undefined when the system cannot tell. */
  wire(): Promise<WireCounts | undefined>;
  /** Subscribe to failure detection: called when a node of this process declares another dead. */
  onDead(listener: (observer: string, dead: string) => void): void;
  /** Subscribe to self-fencing: called when a node of this process fences itself (with why) or lifts its fence. */
  onFence?(listener: (node: string, fenced: boolean, reason: string | null) => void): void;
  /** Systems without a bus of their own (the batched ceiling): the port peers dial, and joining the peers. */
  meshPort?: number;
  mesh?(peerPorts: number[]): Promise<void>;
  close(): Promise<void>;
}

/** How a server process is configured for a run. */
export interface ServerStartArgs {
  system: string;
  /** Nodes hosted in this process. */
  count: number;
  /** Index of the first node (ids and ports are derived from it). */
  index: number;
  /** Rooms whose name starts with `h-` keep history. */
  history: boolean;
  heartbeatMs: number;
  /** Cluster heartbeat and node timeout (failure detection), ms. */
  clusterHeartbeatMs: number;
  nodeTimeoutMs: number;
  backend: import('./ports.js').BackendConfig;
}

/**
 * The listen backlog of every system's server in the bench: Switchyard's default. Node's own
 * (511) overflows when a failover sends 1,000 clients to a busy survivor at once, and a dropped
 * connect waits 1 s for its TCP retry; the other systems get the same room, so the comparison is
 * of the libraries, not of one listen() argument.
 */
export const LISTEN_BACKLOG = 4096;
