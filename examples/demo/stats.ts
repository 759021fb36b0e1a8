/**
 * Rates and latencies for the dashboard: counters turned into per-second rates over a sliding
 * window, and latency samples kept for the last few seconds to report p50 and p99.
 */

/** Counts events and reports their rate per second over the last `windowMs`. */
export class RateMeter {
  private readonly stamps: number[] = [];
  private total = 0;

  constructor(private readonly windowMs = 5000) {}

  mark(n = 1, now = Date.now()): void {
    for (let i = 0; i < n; i++) this.stamps.push(now);
    this.total += n;
  }

  /** Events per second over the window. */
  rate(now = Date.now()): number {
    this.trim(now);
    return this.stamps.length / (this.windowMs / 1000);
  }

  get count(): number {
    return this.total;
  }

  private trim(now: number): void {
    const from = now - this.windowMs;
    let i = 0;
    while (i < this.stamps.length && (this.stamps[i] as number) < from) i++;
    if (i > 0) this.stamps.splice(0, i);
  }
}

/** Latency samples (ms) of the last `windowMs`, summarised as p50 and p99. */
export class LatencyWindow {
  private samples: Array<{ at: number; ms: number }> = [];

  constructor(private readonly windowMs = 10_000) {}

  add(ms: number, now = Date.now()): void {
    this.samples.push({ at: now, ms: Math.max(0, ms) });
    if (this.samples.length > 5000) this.samples.splice(0, this.samples.length - 5000);
  }

  summary(now = Date.now()): { p50: number | null; p99: number | null; samples: number } {
    const from = now - this.windowMs;
    this.samples = this.samples.filter((s) => s.at >= from);
    if (this.samples.length === 0) return { p50: null, p99: null, samples: 0 };
    const sorted = this.samples.map((s) => s.ms).sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
    return { p50: round(q(0.5)), p99: round(q(0.99)), samples: sorted.length };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
