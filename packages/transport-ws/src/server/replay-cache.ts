import type { HistoryEntry } from '@switchyard/core';
import type { RoomFrame } from './room-frame.js';

/**
 * What replays share on one node. The clients of a dead node arrive at a survivor together and
 * resume the same rooms from nearly the same offsets: core's room joins make identical history
 * reads once, and here each history entry is decoded and encoded once for every socket it is
 * replayed to (the last `size` entries are kept).
 */
export class ReplayCache {
  private readonly frames = new Map<string, RoomFrame | null>();

  constructor(private readonly size = 10_000) {}

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
