import { decodeHistoryRecord, historyStream, planReplay, readAfter, type ReplayRead, type ResumeFrom } from '@switchyard/core/adapter';
import type { HistoryEntry, HistoryPosition } from '@switchyard/core';
import { encodeBatch, type Priority, type RoomState, type WireMessage } from '../protocol/server-frames.js';
import type { SharedFrame } from './send-queue.js';
import type { ServerConnection, RoomCursorState } from './connection.js';
import type { NodeInternals } from './host.js';
import { RoomFrame } from './room-frame.js';
import { compactFrame } from './room-batcher.js';

export interface Joined {
  state: RoomState;
  /** Write the replayed frames, then the live ones that arrived meanwhile. Call after the ack/welcome. */
  replay(): void;
}

/** Reads again of a replay that came back short of what this node already delivered (a lagging store). */
const LAGGING_READS = 5;

/** A resume position a client sent (hello rooms, join). */
export type From = ResumeFrom;

const stateOf = (room: string, c: RoomCursorState): RoomState => ({
  room,
  offset: Math.max(0, c.offset),
  ...(c.epoch ? { epoch: c.epoch } : {}),
  history: c.history,
  recovered: false,
  gap: false,
});

/**
 * Join `room`. For a room with history, live messages wait (held) until the ack or welcome is
 * written; a client that gave no offset starts where this node's ordered stream of the room
 * stands; a client that gave one gets everything after it replayed first, with explicit `gap`
 * frames for what history no longer has, then the held live messages, none twice.
 *
 * A join with an offset for a room the connection is already in asks for a replay after that
 * offset (the SDK does this when it sees a hole in what it received).
 */
export async function joinRoom(node: NodeInternals, conn: ServerConnection, room: string, from?: From): Promise<Joined> {
  const history = node.historyFor(room) ? node.cluster.history : undefined;
  const existing = conn.cursors.get(room);
  if (existing) {
    const noop = { state: stateOf(room, existing), replay: () => undefined };
    if (!history || !existing.history || from?.offset === undefined || conn.replaying.has(room)) return noop;
    conn.replaying.set(room, []);
    try {
      return await replayAfter(node, conn, room, existing, from);
    } catch (err) {
      node.logger.warn({ err, room }, 'history unavailable for a replay');
      return { state: { ...stateOf(room, existing), recovered: false, gap: true }, replay: () => conn.endReplay(room) };
    }
  }

  const cursor: RoomCursorState = { offset: history ? -1 : 0, sent: -1, epoch: null, history: history !== undefined };
  conn.cursors.set(room, cursor);
  if (!history) {
    await node.index.join(conn, room);
    return { state: stateOf(room, cursor), replay: () => undefined };
  }
  conn.replaying.set(room, []);
  const release = () => conn.endReplay(room);
  try {
    let start;
    try {
      start = await node.index.join(conn, room, true);
    } catch (err) {
      conn.cursors.delete(room);
      conn.replaying.delete(room);
      throw err;
    }
    if (from?.offset === undefined) {
      if (start) Object.assign(cursor, { offset: start.offset, sent: start.offset, epoch: start.epoch });
      return { state: { ...stateOf(room, cursor), gap: false }, replay: release };
    }
    return await replayAfter(node, conn, room, cursor, from, start ?? undefined);
  } catch (err) {
    if (!conn.cursors.has(room)) throw err;
    node.logger.warn({ err, room }, 'history unavailable for a join');
    return { state: { ...stateOf(room, cursor), recovered: false, gap: from?.offset !== undefined }, replay: release };
  } finally {
    // (during the hello there is no session yet: the session is written once, with its rooms)
    if (conn.cursors.get(room) === cursor) node.sessions.roomJoined(conn, room, cursor);
  }
}

/**
 * Read history after the client's offset (reads in flight shared, see ReplayCache) and plan the
 * replay with core: gap notices for what is gone, the messages in order, an offset ahead of the
 * room's head refused (`gap`, reason `ahead`).
 */
async function replayAfter(node: NodeInternals, conn: ServerConnection, room: string, cursor: RoomCursorState, from: From, head?: HistoryPosition): Promise<Joined> {
  const after = from.offset as number;
  const stream = historyStream(room);
  const max = node.options.limits.maxReplay;
  const history = node.cluster.history;
  if (!history) throw new Error('no history store');
  let r = await node.replays.read(`${stream}\n${after}\n${from.epoch ?? ''}\n${max}`, () => readAfter(history, stream, after, from.epoch, max));
  // This node delivered the room up to `head` before the connection joined, so those messages
  // reach it only through the replay. A store whose reads trail its appends (Kafka: a read sees
  // the log a moment after the producer's ack) can answer short of that: read again, briefly,
  // rather than tell the client of a gap for messages history does have.
  for (let i = 1; head && r.epoch === head.epoch && r.top < head.offset && !r.capped && i <= LAGGING_READS; i++) {
    node.metrics.replayRereads.inc();
    await new Promise((resolve) => setTimeout(resolve, 10 * i));
    r = await node.replays.read(`${stream}\n${after}\n${from.epoch ?? ''}\n${max}\n${i}`, () => readAfter(history, stream, after, from.epoch, max));
  }
  const plan = planReplay(room, r, { offset: after, epoch: from.epoch }, cursor, (e, prev) => node.replays.frame(room, r.epoch, e, prev, () => toFrame(room, e, r.epoch, prev)));
  if (plan.state.reason === 'ahead') {
    node.metrics.gaps.inc({ reason: 'ahead' });
    return { state: plan.state, replay: () => conn.endReplay(room) };
  }
  const { frames, gaps, endGap } = plan;
  return {
    state: plan.state,
    replay: () => {
      // The common case (clients of a dead node resuming the same room from the same offset):
      // the replay is encoded once, in frames of up to batch.maxMessages, shared by every socket.
      if (gaps.length === 0 && frames.length > 0 && sharedReplay(node, conn, room, r, frames)) {
        if (endGap) conn.pushGap(room, endGap);
        node.metrics.replayed.inc(frames.length);
        conn.endReplay(room);
        return;
      }
      // gap notices and messages in offset order (a malformed entry's notice sits at its place)
      for (const it of plan.items) {
        if ('gap' in it) conn.pushGap(room, it.gap);
        else conn.pushRoom(room, it.frame);
      }
      if (endGap) conn.pushGap(room, endGap);
      node.metrics.replayed.inc(frames.length);
      conn.endReplay(room);
    },
  };
}

/** Replays already encoded, by the read they came from (coalesced reads share one), plain and compact. */
const encodedReplays = new WeakMap<ReplayRead, { plain?: SharedFrame[]; compact?: SharedFrame[] }>();

/** The replay of `frames` in chunks of up to `size`, as `batch` (or `msg`) frames or as `msgs` frames. */
function encodeReplay(room: string, frames: RoomFrame[], size: number, compact: boolean): SharedFrame[] {
  const chunks: SharedFrame[] = [];
  for (let i = 0; i < frames.length; i += size) {
    const part = frames.slice(i, i + size);
    if (compact && part.length > 1) {
      chunks.push(compactFrame(room, part));
      continue;
    }
    let prev = part[0]?.prev as number;
    const texts = part.map((f) => {
      const t = f.frameAfter(prev);
      prev = f.offset;
      return t;
    });
    const text = texts.length === 1 ? (texts[0] as string) : encodeBatch(texts);
    chunks.push({ buf: Buffer.from(text, 'utf8'), count: texts.length });
  }
  return chunks;
}

/** Write the replay as shared frames if this socket's stream continues where it starts; false when it does not. */
function sharedReplay(node: NodeInternals, conn: ServerConnection, room: string, r: ReplayRead, frames: RoomFrame[]): boolean {
  if (frames.some((f) => f.priority !== 'normal' || f.excludes(conn.id))) return false;
  let encoded = encodedReplays.get(r);
  if (!encoded) encodedReplays.set(r, (encoded = {}));
  const size = node.options.batch.maxMessages;
  const chunksFor = (compact: boolean): SharedFrame[] => (compact ? (encoded.compact ??= encodeReplay(room, frames, size, true)) : (encoded.plain ??= encodeReplay(room, frames, size, false)));
  // the first chunk decides: later ones follow it by construction
  for (let i = 0, c = 0; i < frames.length; i += size, c++) {
    const part = frames.slice(i, i + size);
    if (!conn.takeShared(room, part, (compact) => chunksFor(compact)[c] as SharedFrame, true)) {
      if (c === 0) return false;
      // (cannot happen: the chain was checked on the first chunk) deliver the rest one by one
      for (const f of frames.slice(i)) conn.pushRoom(room, f);
      return true;
    }
  }
  return true;
}

function toFrame(room: string, e: HistoryEntry, epoch: string, prev: number): RoomFrame | undefined {
  const rec = decodeHistoryRecord(e.payload);
  if (!rec || typeof rec.data !== 'object' || rec.data === null) return undefined;
  const m = rec.data as WireMessage;
  const priority: Priority = m.p === 'high' || m.p === 'low' ? m.p : 'normal';
  return new RoomFrame(m, room, e.offset, epoch, prev, priority, rec.except);
}

/** Leave `room`, release (or unfollow) it when the last local member goes, and forget it in the session. */
export async function leaveRoom(node: NodeInternals, conn: ServerConnection, room: string): Promise<void> {
  const c = conn.cursors.get(room);
  if (!c) return;
  conn.cursors.delete(room);
  conn.replaying.delete(room);
  await node.index.leave(conn, room, c.history);
  await node.sessions.roomLeft(conn, room);
}
