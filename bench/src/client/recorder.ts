import type { Histogram } from 'hdr-histogram-js';
import { encode, newHistogram } from '../stats/histogram.js';

/** The payload every publisher sends: send time (ms), sending node, sequence, room. */
export interface Payload {
  t: number;
  n: string;
  s: number;
  r: string;
}

export const now = (): number => performance.timeOrigin + performance.now();

/** One loss of the connection and what followed (wall-clock ms). */
export interface LossEpisode {
  lostAt: number;
  /** Close code and reason (Switchyard) or disconnect reason (Socket.IO), when the client library says. */
  because?: string;
  /** The next connection (hello done, rooms joined). */
  reconnectedAt?: number;
  /** First message received after that reconnect (replayed or live). */
  firstAfter?: number;
}

/** One client's reconnect story in the failover scenario. */
export interface ClientTrace {
  /** The node the client first connected to. */
  node?: string;
  /** Every loss of the connection, in order. */
  losses: LossEpisode[];
  distinct: number;
  duplicates: number;
  /** `gap` events: the node told the client messages of a room will not come. */
  gaps: number;
  /** Messages those gaps name (offsets in (from, to]), where they say. */
  gapped: number;
  /** Gap events by reason (`trimmed`, `unavailable`, ...). */
  gapReasons?: Record<string, number>;
}

/** A `gap` event: the client was told these messages will not come (not a silent loss). */
export function gapped(trace: ClientTrace, g: { reason?: string; from?: number; to?: number }): void {
  trace.gaps++;
  // a gap names the offsets in (from, to]
  if (g.from !== undefined && g.to !== undefined && g.to > g.from) trace.gapped += g.to - g.from;
  const why = g.reason ?? 'unknown';
  (trace.gapReasons ??= {})[why] = (trace.gapReasons[why] ?? 0) + 1;
}

/** The connection dropped: opens an episode unless one is still waiting for its reconnect. */
export function lost(trace: ClientTrace, because?: string): void {
  const last = trace.losses[trace.losses.length - 1];
  if (last && last.reconnectedAt === undefined) return;
  trace.losses.push({ lostAt: now(), ...(because ? { because: because.slice(0, 60) } : {}) });
}

/** Connected again after a loss. */
export function reconnected(trace: ClientTrace): void {
  const last = trace.losses[trace.losses.length - 1];
  if (last && last.reconnectedAt === undefined) last.reconnectedAt = now();
}

/**
 * Everything a client process measures: latencies split same-node / cross-node, receipts per
 * 100 ms bucket, per room, in the measuring window, and (failover) which sequence numbers each
 * client got.
 */
export class Recorder {
  same: Histogram = newHistogram();
  cross: Histogram = newHistogram();
  received = 0;
  inWindow = 0;
  perRoom: Record<string, number> = {};
  buckets = new Map<number, number>();
  t0 = now();
  window: [number, number] = [0, Number.MAX_SAFE_INTEGER];
  firstAt = 0;
  lastAt = 0;
  readonly traces: ClientTrace[] = [];
  private readonly seen: Array<Set<number>> = [];

  constructor(private readonly trackSeq: boolean) {}

  /** Register client `i`; returns its trace. */
  add(i: number): ClientTrace {
    const t: ClientTrace = { losses: [], distinct: 0, duplicates: 0, gaps: 0, gapped: 0 };
    this.traces[i] = t;
    if (this.trackSeq) this.seen[i] = new Set();
    return t;
  }

  reset(t0: number, window: [number, number]): void {
    this.same = newHistogram();
    this.cross = newHistogram();
    this.received = 0;
    this.inWindow = 0;
    this.perRoom = {};
    this.buckets.clear();
    this.t0 = t0;
    this.window = window;
    this.firstAt = 0;
    this.lastAt = 0;
  }

  /** A message arrived at client `i`, which is connected to node `at`. */
  record(i: number, p: Payload, at: string): void {
    const t = now();
    const us = Math.max(1, Math.round((t - p.t) * 1000));
    (p.n === at ? this.same : this.cross).recordValue(Math.min(us, 600_000_000));
    this.received++;
    if (t >= this.window[0] && t <= this.window[1]) this.inWindow++;
    this.perRoom[p.r] = (this.perRoom[p.r] ?? 0) + 1;
    const b = Math.floor((t - this.t0) / 100);
    this.buckets.set(b, (this.buckets.get(b) ?? 0) + 1);
    if (!this.firstAt) this.firstAt = t;
    this.lastAt = t;
    const trace = this.traces[i];
    if (trace) {
      const last = trace.losses[trace.losses.length - 1];
      if (last?.reconnectedAt !== undefined && last.firstAfter === undefined && t >= last.reconnectedAt) last.firstAfter = t;
      const seen = this.seen[i];
      if (seen) {
        if (seen.has(p.s)) trace.duplicates++;
        else {
          seen.add(p.s);
          trace.distinct++;
        }
      }
    }
  }

  snapshot(withTraces: boolean) {
    return {
      received: this.received,
      inWindow: this.inWindow,
      perRoom: this.perRoom,
      same: encode(this.same),
      cross: encode(this.cross),
      buckets: [...this.buckets.entries()],
      firstAt: this.firstAt,
      lastAt: this.lastAt,
      traces: withTraces ? this.traces : [],
    };
  }
}
