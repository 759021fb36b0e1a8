/** The buses the scenarios run on. */
export const BUSES = ['redis', 'nats', 'postgres', 'kafka'] as const;
export type Bus = (typeof BUSES)[number];

/** The faults a scenario injects mid-run. */
export const FAULTS = ['none', 'kill', 'restart', 'partition-reset', 'partition-blackhole', 'replay'] as const;
export type Fault = (typeof FAULTS)[number];

/** Which faults each bus runs (issue 11: all of them on Redis; none, kill and restart elsewhere). */
export const MATRIX: Record<Bus, readonly Fault[]> = {
  redis: FAULTS,
  nats: ['none', 'kill', 'restart'],
  postgres: ['none', 'kill', 'restart'],
  kafka: ['none', 'kill', 'restart'],
};

/**
 * Where one node finds its services, and the run's namespace on them. Plain data: it crosses
 * the IPC channel to the node process. Kafka carries bus and history only; its registry and
 * sessions are on Redis (`redisUrl`), as the Kafka adapter documents.
 */
export interface NodeBackend {
  bus: Bus;
  /** Unique per run: key prefix, subject prefix, schema, topic prefix are made from it. */
  tag: string;
  redisUrl?: string;
  natsUrl?: string;
  postgresUrl?: string;
  kafkaBrokers?: string[];
  /** JetStream storage: `file` on a private server that restarts (history survives), else `memory`. */
  natsStorage?: 'file' | 'memory';
}

/** What the driver asks a node process to start. */
export interface NodeStartArgs {
  nodeId: string;
  backend: NodeBackend;
  heartbeatIntervalMs: number;
  nodeTimeoutMs: number;
  clusterKey?: string;
  /** Rooms whose names start with this keep history. */
  historyPrefix: string;
  /** History entries kept per room (enough for a whole run, so holes can be filled). */
  historyMaxLength: number;
}

export interface NodeStarted {
  id: string;
  url: string;
  /** http://host:port of the node's /health, /ready, /metrics. */
  httpUrl: string;
  pid: number;
}

/** A cluster event a node process reports to the driver. */
export interface NodeEvent {
  node: string;
  event: string;
  /** The other node concerned (dead, left), or the new state/status. */
  detail?: string;
  at: number;
}
