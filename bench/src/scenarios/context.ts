import type { Harness } from '../harness.js';
import { summarize } from '../stats/histogram.js';
import type { RunResult, RunSettings } from '../types.js';

/** What a scenario gets: its processes, its settings and a way to report progress. */
export interface ScenarioContext {
  h: Harness;
  s: RunSettings;
  /** Progress of this run, 0..1, with a short status. */
  progress(fraction: number, status: string): void;
}

export type ScenarioOutput = Pick<RunResult, 'metrics' | 'latency' | 'timeline' | 'series' | 'notes'>;
export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioOutput>;

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Deliveries per second over time from 100 ms buckets, relative to `t0` (seconds). */
export function timeline(buckets: Map<number, number>, from = 0): Array<[number, number]> {
  const keys = [...buckets.keys()].filter((k) => k >= from).sort((a, b) => a - b);
  if (!keys.length) return [];
  const out: Array<[number, number]> = [];
  for (let k = keys[0] as number; k <= (keys[keys.length - 1] as number); k++) out.push([Math.round(k) / 10, (buckets.get(k) ?? 0) * 10]);
  return out;
}

/** Latency figures (ms) of a same/cross split into flat metrics. */
export function latencyMetrics(lat: { same?: ReturnType<typeof summarize>; cross?: ReturnType<typeof summarize>; all?: ReturnType<typeof summarize> }): Record<string, number> {
  const m: Record<string, number> = {};
  for (const [k, v] of Object.entries(lat)) {
    if (!v) continue;
    m[`${k}_p50_ms`] = v.p50;
    m[`${k}_p95_ms`] = v.p95;
    m[`${k}_p99_ms`] = v.p99;
    m[`${k}_max_ms`] = v.max;
  }
  return m;
}

/** CPU seconds per node process as flat metrics. */
export function cpuMetrics(stats: Array<{ cpuSeconds: number }>): Record<string, number> {
  const m: Record<string, number> = {};
  stats.forEach((st, i) => (m[`cpu_s_node${i}`] = round(st.cpuSeconds, 2)));
  m.cpu_s_nodes_total = round(stats.reduce((a, st) => a + st.cpuSeconds, 0), 2);
  return m;
}

export const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
