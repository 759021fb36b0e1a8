import type { HistoryEntry } from '@switchyard/core';
import type { RoomFrame } from './room-frame.js';

/**
 * What replays share on one node. The clients of a dead node arrive at a survivor together and
 * resume the same rooms from nearly the same offsets: identical history reads in flight are
 * made once, and each history entry is decoded and encoded once for every socket it is replayed
 * to (the last `size` entries are kept).
 */
export class ReplayCache {
  private readonly reads = new Map<string, Promise<unknown>>();
  private readonly frames = new Map<string, RoomFrame | null>();

  constructor(private readonly size = 10_000) {}

  /** Run `load` for `key`, or join the run of it already in flight. */
  read<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.reads.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load().finally(() => this.reads.delete(key));
      this.reads.set(key, p);
    }
    return p;
  }

  /** The frame of a history entry (null: unreadable), made by `make` the first time. */
  frame(room: string, epoch: string, entry: HistoryEntry, prev: number, make: () => RoomFrame | undefined): RoomFrame | undefined {
    const key = `${room}\n${epoch}\n${entry.offset}\n${prev}`;
    let f = this.frames.get(key);
    if (f === undefined) {
      f = make() ?? null;
      this.frames.set(key, f);
      if (this.frames.size > this.size) this.frames.delete(this.frames.keys().next().value as string);
    }
    return f ?? undefined;
  }
}
