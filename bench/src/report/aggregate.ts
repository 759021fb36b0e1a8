import type { RunResult, ScenarioName, System } from '../types.js';

/** The runs of one scenario on one system, reduced to medians. */
export interface Aggregate {
  scenario: ScenarioName;
  system: System;
  runs: number;
  failed: number;
  errors: string[];
  /** Median of each metric over the successful runs. */
  metrics: Record<string, number>;
  /** The run whose key figure is the median: its curves and timelines go into the charts. */
  representative?: RunResult;
}

/** The figure that picks the representative run of a scenario. */
export const KEY: Record<ScenarioName, string> = {
  fanout: 'cross_p99_ms',
  saturation: 'saturation_deliveries_per_s',
  'small-rooms': 'cross_p99_ms',
  'idle-memory': 'rss_kb_per_conn_19k',
  'connect-storm': 'connections_per_s',
  failover: 'receiving_again_p99_ms',
  scale: 'held_end',
};

export function median(xs: number[]): number {
  const a = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (!a.length) return NaN;
  const m = Math.floor(a.length / 2);
  return a.length % 2 ? (a[m] as number) : ((a[m - 1] as number) + (a[m] as number)) / 2;
}

export function aggregate(results: RunResult[]): Aggregate[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    const k = `${r.scenario}|${r.system}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: Aggregate[] = [];
  for (const runs of groups.values()) {
    const ok = runs.filter((r) => r.ok);
    const names = new Set(ok.flatMap((r) => Object.keys(r.metrics)));
    const metrics: Record<string, number> = {};
    for (const n of names) metrics[n] = median(ok.map((r) => r.metrics[n] ?? NaN));
    const first = runs[0] as RunResult;
    const key = KEY[first.scenario];
    const sorted = [...ok].sort((a, b) => (a.metrics[key] ?? 0) - (b.metrics[key] ?? 0));
    out.push({
      scenario: first.scenario,
      system: first.system,
      runs: runs.length,
      failed: runs.length - ok.length,
      errors: runs.filter((r) => !r.ok).map((r) => r.error ?? 'failed'),
      metrics,
      representative: sorted[Math.floor((sorted.length - 1) / 2)],
    });
  }
  return out;
}

/** Display name of a system. */
export function label(system: System): string {
  if (system === 'socketio') return 'Socket.IO 4 + redis-adapter';
  if (system === 'ws') return 'raw ws (ceiling, 1 node)';
  if (system === 'ws-batch') return 'raw ws + room batching (ceiling, TCP mesh)';
  return `Switchyard · ${system.slice('switchyard-'.length)}`;
}

/** Short name for chart categories. */
export function shortLabel(system: System): string {
  if (system === 'socketio') return 'Socket.IO';
  if (system === 'ws') return 'raw ws';
  if (system === 'ws-batch') return 'ws + batching';
  return system.slice('switchyard-'.length);
}

/** Row order in tables and charts: Switchyard buses first, then the baseline, then the ceilings. */
export function systemOrder(system: string): number {
  return system === 'socketio' ? 100 : system === 'ws' ? 101 : system === 'ws-batch' ? 102 : 0;
}
