/** Something with frames waiting to be written. */
export interface Flushable {
  /** Write what is due; return true while frames are still waiting. */
  flush(now: number): boolean;
}

/**
 * The one scheduler of every connection's pending writes on a node: a `setImmediate` per loop
 * turn (not per socket) flushes each connection that has frames waiting, and one shared timer
 * re-checks those still held back by `maxDelayMs` or socket back-pressure.
 */
export class Batcher {
  private readonly pending = new Set<Flushable>();
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly recheckMs: number) {}

  schedule(c: Flushable): void {
    if (this.stopped) return;
    this.pending.add(c);
    this.immediate ??= setImmediate(this.run);
  }

  forget(c: Flushable): void {
    this.pending.delete(c);
  }

  private readonly run = (): void => {
    this.immediate = undefined;
    const now = performance.now();
    for (const c of this.pending) if (!c.flush(now)) this.pending.delete(c);
    if (this.pending.size > 0 && !this.timer && !this.stopped) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.immediate ??= setImmediate(this.run);
      }, Math.max(1, this.recheckMs));
    }
  };

  stop(): void {
    this.stopped = true;
    if (this.immediate) clearImmediate(this.immediate);
    if (this.timer) clearTimeout(this.timer);
    this.immediate = undefined;
    this.timer = undefined;
    this.pending.clear();
  }
}
