import type { Lifecycle } from './lifecycle.js';

export interface HistoryEntry {
  /** Monotonic within a stream and epoch; not necessarily contiguous (see `HistoryPosition.prev`). */
  offset: number;
  payload: Uint8Array;
  /** Milliseconds since epoch when appended. */
  timestamp: number;
}

/** A position in a stream. A new epoch means the stream was reset and old offsets mean nothing. */
export interface HistoryPosition {
  offset: number;
  epoch: string;
  /**
   * From `append`: the offset of the entry just before this one in the stream (0 when it is
   * the first). Stores whose offsets are contiguous may leave it out (it is `offset - 1`);
   * stores whose offsets skip (shared sequences) must give it, so that a reader can tell a
   * message that is merely out of order from one that is missing.
   */
  prev?: number;
}

export interface HistoryReadResult {
  epoch: string;
  /** Entries with offset > `after`, oldest first, at most `limit`. */
  entries: HistoryEntry[];
  /** Newest offset in the stream (0 when empty). */
  top: number;
  /**
   * True when entries the reader asked for are gone (trimmed by retention, or a new epoch):
   * the reader cannot recover everything and should say so to its client.
   */
  gap: boolean;
}

export interface HistoryCapabilities {
  /** Trims each stream to a maximum length. */
  retentionByLength: boolean;
  /** Drops entries older than a maximum age. */
  retentionByAge: boolean;
}

export interface HistoryReadOptions {
  /** Most entries to return; the store's own default when absent. */
  limit?: number;
  /** Epoch the reader's offset belongs to; a different current epoch sets `gap`. */
  epoch?: string | null;
}

/**
 * Keeps recent messages of a stream (one per room with history) so that a client that
 * reconnects, on any node, can replay what it missed. This turns "at most once" into
 * "nothing lost across reconnects and failover".
 */
export interface HistoryStore extends Lifecycle {
  readonly name: string;
  readonly capabilities: HistoryCapabilities;
  /** Append and return the entry's position (and its predecessor, see `HistoryPosition.prev`). Offsets grow strictly within an epoch. */
  append(stream: string, payload: Uint8Array): Promise<HistoryPosition>;
  /** Everything after `after`, oldest first. Reading a stream that never existed returns no entries, top 0. */
  read(stream: string, after: number, options?: HistoryReadOptions): Promise<HistoryReadResult>;
  /** The newest position without reading entries. */
  position(stream: string): Promise<HistoryPosition>;
  /** Delete a stream; the next append starts a new epoch. */
  reset(stream: string): Promise<void>;
}

export interface HistoryRetention {
  /** Keep at most this many entries per stream. */
  maxLength: number;
  /** Drop entries older than this, milliseconds. 0 keeps them regardless of age. */
  maxAgeMs: number;
}
