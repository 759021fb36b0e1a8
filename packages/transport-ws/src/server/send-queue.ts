import type { Priority } from '../protocol/server-frames.js';

/**
 * An encoded frame shared by every socket it goes to (a room's batch, serialised once): the
 * queue holds a reference, never a copy. `count` is how many messages it carries.
 */
export interface SharedFrame {
  readonly buf: Buffer;
  readonly count: number;
}

/** What a send queue holds: one encoded frame of this socket, or a shared one. */
export type Outgoing = string | SharedFrame;

const countOf = (o: Outgoing): number => (typeof o === 'string' ? 1 : o.count);

/** A FIFO with an amortised O(1) shift. */
class Fifo {
  private items: Outgoing[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(s: Outgoing): void {
    this.items.push(s);
  }

  peek(): Outgoing | undefined {
    return this.items[this.head];
  }

  shift(): Outgoing | undefined {
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
 * A connection's bounded send queue of encoded frames, in three priorities, counted in
 * messages (a shared batch counts as the messages it carries). When full, the oldest `low`
 * frame is dropped (or the incoming one when it is `low` itself); when there is nothing
 * droppable the push reports `overflow` and the caller closes the connection (4009). The
 * priority queues are made on first use: an idle connection holds none.
 */
export class SendQueue {
  private high: Fifo | undefined;
  private normal: Fifo | undefined;
  private low: Fifo | undefined;
  private size = 0;
  /** When the queue last went from empty to non-empty (performance.now()). */
  since = 0;

  constructor(private readonly max: number) {}

  /** Messages waiting. */
  get length(): number {
    return this.size;
  }

  push(frame: Outgoing, priority: Priority = 'normal'): PushResult {
    let result: PushResult = 'queued';
    const n = countOf(frame);
    if (this.size + n > this.max) {
      if (priority === 'low') return 'dropped_low';
      const dropped = this.low?.shift();
      if (dropped === undefined) return 'overflow';
      this.size -= countOf(dropped);
      result = 'dropped_low';
    }
    if (this.size === 0) this.since = performance.now();
    const q = priority === 'high' ? (this.high ??= new Fifo()) : priority === 'low' ? (this.low ??= new Fifo()) : (this.normal ??= new Fifo());
    q.push(frame);
    this.size += n;
    return result;
  }

  /** Take frames worth up to `n` messages (at least one frame), high priority first. */
  take(n: number): Outgoing[] {
    const out: Outgoing[] = [];
    let taken = 0;
    for (const q of [this.high, this.normal, this.low]) {
      if (!q) continue;
      for (let next = q.peek(); next !== undefined && (out.length === 0 || taken + countOf(next) <= n); next = q.peek()) {
        q.shift();
        out.push(next);
        taken += countOf(next);
      }
      if (q.length > 0) break; // what is left of a higher priority goes first next time
    }
    this.size -= taken;
    if (this.size > 0) this.since = performance.now();
    return out;
  }

  clear(): void {
    this.high = this.normal = this.low = undefined;
    this.size = 0;
  }
}
