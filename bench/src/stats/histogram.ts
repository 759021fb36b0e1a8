import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '../types.js';

/** A latency histogram in microseconds, 1 µs to 10 minutes, 3 significant digits. */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3, bitBucketSize: 'packed' });
}

export const encode = (h: hdr.Histogram): string => hdr.encodeIntoCompressedBase64(h);

/** Merge encoded histograms (from several client processes) into one. */
export function merge(encoded: string[]): hdr.Histogram {
  const h = newHistogram();
  for (const e of encoded) if (e) h.add(hdr.decodeFromCompressedBase64(e, 'packed'));
  return h;
}

const PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.99, 100];

/** Milliseconds summary of a microsecond histogram; undefined when it is empty. */
export function summarize(h: hdr.Histogram): LatencySummary | undefined {
  if (h.totalCount === 0) return undefined;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
    curve: PERCENTILES.map((p) => [p, ms(h.getValueAtPercentile(p))]),
  };
}
