/** A token bucket: `rate` tokens per second up to `burst`. One per connection, no timer. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Refusals since the bucket was last full. */
  strikes = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
    this.last = performance.now();
  }

  /** Take one token; false when the bucket is empty (the frame must be dropped). */
  take(now = performance.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= this.burst) this.strikes = 0;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.strikes++;
    return false;
  }
}

/** Counts open connections per client IP. */
export class IpLimiter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Reserve a slot for `ip`; false when the IP is at its limit (0 = no limit). */
  acquire(ip: string): boolean {
    const n = this.counts.get(ip) ?? 0;
    if (this.max > 0 && n >= this.max) return false;
    this.counts.set(ip, n + 1);
    return true;
  }

  release(ip: string): void {
    const n = (this.counts.get(ip) ?? 0) - 1;
    if (n <= 0) this.counts.delete(ip);
    else this.counts.set(ip, n);
  }

  count(ip: string): number {
    return this.counts.get(ip) ?? 0;
  }
}
