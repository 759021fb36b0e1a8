import type { HistoryEntry, HistoryStore } from '../ports/history.js';

/** What history holds after a client's offset (up to a maximum). */
export interface ReplayRead {
  entries: HistoryEntry[];
  epoch: string;
  top: number;
  /** Entries after the offset were trimmed (or the epoch changed). */
  trimmed: boolean;
  /** Stopped at `max` entries before the top. */
  capped: boolean;
}

/** Offsets (from, to] of `epoch` the client will not get, and why. */
export interface ReplayGap {
  epoch: string;
  from: number;
  to?: number | undefined;
  reason: 'trimmed' | 'malformed' | 'max_replay';
}

/** A room's position after a join or resume, as the client is told. */
export interface ReplayState {
  room: string;
  offset: number;
  epoch?: string;
  history: boolean;
  recovered: boolean;
  gap: boolean;
  /** With `gap`, when the resume offset was refused: `ahead` (beyond the room's head; `offset` is the head). */
  reason?: 'ahead';
}

/**
 * A connection's cursor in a room with history: `offset`, the last message handled for it;
 * `sent`, the last one written to it (its messages chain on this); -1: not known yet.
 */
export interface ReplayCursor {
  offset: number;
  sent: number;
  epoch: string | null;
}

/** What to replay: in offset order, `items` (a message, or a gap notice at its place), then `endGap`. */
export interface ReplayPlan<F> {
  state: ReplayState;
  /** Messages and gap notices in offset order. */
  items: Array<{ frame: F } | { gap: ReplayGap }>;
  /** The messages alone, in order (for writing them as one shared batch when `gaps` is empty). */
  frames: F[];
  /** Gap notices among the messages (trimmed, malformed). */
  gaps: ReplayGap[];
  /** Past `maxReplay`: what was left out at the end. */
  endGap: ReplayGap | undefined;
}

/** Read `stream` after `after` (of `epoch`), following the store's pages, at most `max` entries, within one epoch. */
export async function readAfter(history: HistoryStore, stream: string, after: number, epoch: string | undefined, max: number): Promise<ReplayRead> {
  const entries: HistoryEntry[] = [];
  let trimmed = false;
  let capped = false;
  let currentEpoch = '';
  let top = 0;
  let from = after;
  let fromEpoch: string | null = epoch ?? null;
  for (;;) {
    const r = await history.read(stream, from, { limit: Math.max(1, max - entries.length), epoch: fromEpoch });
    if (currentEpoch && r.epoch !== currentEpoch) return { entries, epoch: currentEpoch, top, trimmed: true, capped };
    currentEpoch = r.epoch;
    top = r.top;
    trimmed ||= r.gap && (fromEpoch === null || fromEpoch === r.epoch);
    entries.push(...r.entries);
    const last = r.entries.at(-1)?.offset;
    if (last === undefined || last >= r.top) break;
    if (entries.length >= max) {
      capped = true;
      break;
    }
    from = last;
    fromEpoch = r.epoch;
  }
  return { entries, epoch: currentEpoch, top, trimmed, capped };
}

/**
 * Plan the replay of `room` after the client's position `from`, from what history returned, and
 * move `cursor` to where the connection's stream then chains. An offset ahead of the room's head
 * in the current epoch is refused explicitly (`gap`, reason `ahead`, the head as `offset`): the
 * client must not wait for messages that were never written. Otherwise: a gap notice for what is
 * gone (trimmed, an entry that does not decode: `make` returns undefined), the messages in order,
 * and an end gap past `maxReplay`. `make(entry, prev)` turns an entry into the transport's frame.
 */
export function planReplay<F>(room: string, read: ReplayRead, from: { offset: number; epoch?: string | undefined }, cursor: ReplayCursor, make: (entry: HistoryEntry, prev: number) => F | undefined): ReplayPlan<F> {
  const r = read;
  const after = from.offset;
  const sameEpoch = from.epoch === undefined || from.epoch === r.epoch;
  if (sameEpoch && after > r.top) {
    if (cursor.epoch !== r.epoch || cursor.offset < 0) Object.assign(cursor, { offset: r.top, sent: r.top, epoch: r.epoch });
    return { state: { room, offset: r.top, epoch: r.epoch, history: true, recovered: false, gap: true, reason: 'ahead' }, items: [], frames: [], gaps: [], endGap: undefined };
  }
  // the connection's messages chain on what the client has
  const base = sameEpoch ? after : 0;
  if (cursor.epoch !== r.epoch || cursor.offset < 0 || cursor.offset > base) Object.assign(cursor, { offset: base, sent: base, epoch: r.epoch });
  else cursor.sent = base;
  // (another epoch: the client sees the new epoch in the state and reports the old one's end itself)
  const gaps: ReplayGap[] = [];
  const first = r.entries[0]?.offset ?? r.top + 1;
  if (r.trimmed && first - 1 > base) gaps.push({ epoch: r.epoch, from: base, to: first - 1, reason: 'trimmed' });
  const last = r.entries.at(-1)?.offset ?? Math.max(base, first - 1);
  const capped = r.capped && last < r.top;
  const frames: F[] = [];
  const items: ReplayPlan<F>['items'] = gaps.map((gap) => ({ gap }));
  let prev = Math.max(base, first - 1);
  for (const e of r.entries) {
    const f = make(e, prev);
    prev = e.offset;
    if (f !== undefined) {
      frames.push(f);
      items.push({ frame: f });
    } else {
      const gap: ReplayGap = { epoch: r.epoch, from: e.offset - 1, to: e.offset, reason: 'malformed' };
      gaps.push(gap);
      items.push({ gap });
    }
  }
  const endGap: ReplayGap | undefined = capped ? { epoch: r.epoch, from: last, to: r.top, reason: 'max_replay' } : undefined;
  const gap = gaps.length > 0 || endGap !== undefined || !sameEpoch;
  return { state: { room, offset: endGap ? r.top : Math.max(last, base), epoch: r.epoch, history: true, recovered: !gap, gap }, items, frames, gaps, endGap };
}
