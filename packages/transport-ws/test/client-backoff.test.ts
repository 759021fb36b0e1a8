import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultBackoff } from '../src/client/index.js';

const o = defaultBackoff;
const lowest = () => 0;
const highest = () => 0.999999;

describe('client backoff (full jitter)', () => {
  it('the first retry after an abnormal close or a restart lies in [0, firstRetryMaxMs]', () => {
    expect(backoffDelay(0, true, o, lowest)).toBe(0);
    expect(backoffDelay(0, true, o, highest)).toBe(299);
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(0, true, o);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(o.firstRetryMaxMs);
    }
  });

  it('then grows exponentially from baseMs, capped at maxMs', () => {
    expect(backoffDelay(1, true, o, highest)).toBe(499);
    expect(backoffDelay(2, true, o, highest)).toBe(999);
    expect(backoffDelay(3, true, o, highest)).toBe(1999);
    expect(backoffDelay(0, false, o, highest)).toBe(499);
    expect(backoffDelay(1, false, o, highest)).toBe(999);
    expect(backoffDelay(7, false, o, highest)).toBe(29_999); // 500 * 128 = 64000 > cap
    expect(backoffDelay(500, false, o, highest)).toBe(29_999); // no overflow for huge attempts
    for (let a = 0; a < 20; a++) expect(backoffDelay(a, false, o, lowest)).toBe(0);
  });

  it('spreads a thousand clients over the whole first-retry window (full jitter, not equal jitter)', () => {
    const delays = Array.from({ length: 1000 }, () => backoffDelay(0, true, o));
    const buckets = new Array<number>(10).fill(0);
    for (const d of delays) buckets[Math.floor(d / 30)]!++;
    // every tenth of the window gets some clients, none gets most of them
    for (const b of buckets) {
      expect(b).toBeGreaterThan(30);
      expect(b).toBeLessThan(200);
    }
  });

  it('honours custom options', () => {
    const c = { baseMs: 100, maxMs: 1000, firstRetryMaxMs: 50 };
    expect(backoffDelay(0, true, c, highest)).toBe(49);
    expect(backoffDelay(4, false, c, highest)).toBe(999);
  });
});
