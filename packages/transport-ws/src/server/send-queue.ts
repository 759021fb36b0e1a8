import type { Priority } from '../protocol/frames.js';

/** A FIFO with an amortised O(1) shift. */
class Fifo {
  private items: string[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(s: string): void {
    this.items.push(s);
  }

  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const s = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return s;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/** What happened to a pushed frame. */
export type PushResult = 'queued' | 'dropped_low' | 'overflow';

/**
 * A connection's bounded send queue of encoded frames, in three priorities. When full, the
 * oldest `low` frame is dropped (or the incoming one when it is `low` itself); when there is
 * nothing droppable the push reports `overflow` and the caller closes the connection (4009).
 */
export class SendQueue {
  private readonly high = new Fifo();
  private readonly normal = new Fifo();
  private readonly low = new Fifo();
  /** When the queue last went from empty to non-empty (performance.now()). */
  since = 0;

  constructor(private readonly max: number) {}

  get length(): number {
    return this.high.length + this.normal.length + this.low.length;
  }

  push(frame: string, priority: Priority = 'normal'): PushResult {
    let result: PushResult = 'queued';
    if (this.length >= this.max) {
      if (priority === 'low') return 'dropped_low';
      if (this.low.length === 0) return 'overflow';
      this.low.shift();
      result = 'dropped_low';
    }
    if (this.length === 0) this.since = performance.now();
    (priority === 'high' ? this.high : priority === 'low' ? this.low : this.normal).push(frame);
    return result;
  }

  /** Take up to `n` frames, high priority first. */
  take(n: number): string[] {
    const out: string[] = [];
    for (const q of [this.high, this.normal, this.low]) {
      while (out.length < n && q.length > 0) out.push(q.shift() as string);
    }
    if (this.length > 0) this.since = performance.now();
    return out;
  }

  clear(): void {
    this.high.clear();
    this.normal.clear();
    this.low.clear();
  }
}
