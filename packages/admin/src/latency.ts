/**
 * Latency of the last few seconds from a prom-client histogram of the node's registry: the
 * buckets are cumulative since the start, so each summary compares them with a snapshot taken
 * at least `windowMs` earlier (or the oldest one kept) and estimates p50 / p99 inside the buckets.
 */
import type { ClusterNodeApi } from '@switchyard/core';

type Registry = ClusterNodeApi['metricsRegistry'];

export interface LatencySummary {
  /** Milliseconds, or null when nothing was measured in the window. */
  p50: number | null;
  p99: number | null;
  /** Measurements in the window. */
  samples: number;
}

interface Snapshot {
  at: number;
  /** Cumulative count per upper bound (seconds), ascending, +Inf last. */
  buckets: Array<{ le: number; count: number }>;
}

type HistogramValues = { values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }> };

export class LatencyWindow {
  private readonly snapshots: Snapshot[] = [];

  constructor(
    private readonly registry: Registry,
    /** The histogram's name, e.g. `switchyard_bus_latency_seconds`. */
    private readonly metric: string,
    private readonly windowMs = 10_000,
  ) {}

  async summary(now = Date.now()): Promise<LatencySummary | null> {
    const m = this.registry.getSingleMetric(this.metric);
    if (!m) return null;
    const { values } = (await m.get()) as HistogramValues;
    const buckets = values
      .filter((v) => v.metricName === `${this.metric}_bucket` && v.labels.le !== undefined)
      .map((v) => ({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value }))
      .sort((a, b) => a.le - b.le);
    const current: Snapshot = { at: now, buckets };
    const base = [...this.snapshots].reverse().find((s) => s.at <= now - this.windowMs) ?? this.snapshots[0];
    this.snapshots.push(current);
    // keep one snapshot older than the window, and the ones inside it
    while (this.snapshots.length > 2 && (this.snapshots[1] as Snapshot).at <= now - this.windowMs) this.snapshots.shift();
    if (this.snapshots.length > 64) this.snapshots.splice(1, this.snapshots.length - 64);
    const delta = buckets.map((b) => ({ le: b.le, count: b.count - (base?.buckets.find((x) => x.le === b.le)?.count ?? 0) }));
    return summarise(delta);
  }
}

/** p50 / p99 from cumulative buckets, interpolated linearly inside the bucket that holds the rank. */
export function summarise(buckets: Array<{ le: number; count: number }>): LatencySummary {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return { p50: null, p99: null, samples: 0 };
  const q = (p: number): number => {
    const rank = p * total;
    let lower = 0;
    let below = 0;
    for (const b of buckets) {
      if (b.count >= rank) {
        if (!Number.isFinite(b.le)) return lower * 1000;
        const inBucket = b.count - below;
        const frac = inBucket > 0 ? (rank - below) / inBucket : 1;
        return (lower + (b.le - lower) * frac) * 1000;
      }
      lower = Number.isFinite(b.le) ? b.le : lower;
      below = b.count;
    }
    return lower * 1000;
  };
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return { p50: round(q(0.5)), p99: round(q(0.99)), samples: total };
}
