/**
 * What the bench can drive: a Switchyard node on one bus, Socket.IO 4 + redis-adapter, raw `ws`
 * (one write per message per socket), or raw `ws` with per-room batching (`ws-batch`).
 */
export type Bus = 'memory' | 'redis' | 'redis-sharded' | 'nats' | 'kafka' | 'postgres';
export type RawWs = 'ws' | 'ws-batch';
export type System = `switchyard-${Bus}` | 'socketio' | RawWs;
export const BUSES: readonly Bus[] = ['memory', 'redis', 'redis-sharded', 'nats', 'kafka', 'postgres'];
/** The single-node raw `ws` ceilings: no cluster, no bus. */
export const RAW_WS: readonly RawWs[] = ['ws', 'ws-batch'];
export const isRawWs = (s: string): s is RawWs => (RAW_WS as readonly string[]).includes(s);

export type ScenarioName = 'fanout' | 'saturation' | 'small-rooms' | 'idle-memory' | 'connect-storm' | 'failover' | 'scale';
export const SCENARIOS: readonly ScenarioName[] = ['fanout', 'saturation', 'small-rooms', 'idle-memory', 'connect-storm', 'failover', 'scale'];

/** A compact latency summary in milliseconds, plus the encoded histogram for charts. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** [percentile, ms] points for the distribution chart. */
  curve: Array<[number, number]>;
}

/** Settings of one run (the CLI flags after defaults). */
export interface RunSettings {
  system: System;
  scenario: ScenarioName;
  nodes: number;
  clients: number;
  /** Messages per second (whole cluster). */
  rate: number;
  /** Seconds of publishing. */
  duration: number;
  roomSize: number;
  payloadBytes: number;
  clientProcesses: number;
  /** Hard deadline for the whole run, seconds. */
  deadline: number;
}

/** What one run produced. Every figure in the reports comes from these objects. */
export interface RunResult {
  id: string;
  system: System;
  scenario: ScenarioName;
  settings: RunSettings;
  startedAt: string;
  wallSeconds: number;
  ok: boolean;
  error?: string;
  /** Named figures (deliveries/s, lost, p99 ms...), flat so medians are easy. */
  metrics: Record<string, number>;
  latency?: { same?: LatencySummary; cross?: LatencySummary; all?: LatencySummary };
  /** Throughput over time: [seconds since start, deliveries/s]. */
  timeline?: Array<[number, number]>;
  /** Extra series (failover: reconnect times per client, saturation: offered vs delivered). */
  series?: Record<string, Array<[number, number]>>;
  notes?: string[];
  /** The machine's 1-minute load average at the start and the end of the run (other work shares the cores). */
  load?: [number, number];
}
