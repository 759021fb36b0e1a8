import { decodeHistoryRecord, RoomJoins, type JoinSink, type ReplayPlan, type ReplayRead, type ResumeFrom, type RoomJoined } from '@switchyard/core/adapter';
import type { HistoryEntry } from '@switchyard/core';
import { encodeBatch, type Priority, type WireMessage } from '../protocol/server-frames.js';
import type { SharedFrame } from './send-queue.js';
import type { ServerConnection } from './connection.js';
import type { NodeInternals } from './host.js';
import { RoomFrame } from './room-frame.js';
import { compactFrame } from './room-batcher.js';

/** A room joined (core's `RoomJoins`): the state to answer with, and `replay()` to call after the ack or welcome. */
export type Joined = RoomJoined;

/** A resume position a client sent (hello rooms, join). */
export type From = ResumeFrom;

/**
 * The WebSocket node's side of core's room joins: membership in its local index, history entries
 * as room frames (each decoded and encoded once, see ReplayCache), and the replay written to the
 * socket (as shared frames when it can, see `sharedReplay`). Core decides the rest: the hold on
 * live messages, the read and its plan, and their order.
 */
export function createRoomJoins(node: Omit<NodeInternals, 'joins'>): RoomJoins<ServerConnection, RoomFrame> {
  const sink: JoinSink<ServerConnection, RoomFrame> = {
    enter: (conn, room, ordered) => node.index.join(conn, room, ordered),
    frame: (room, epoch, e, prev) => node.replays.frame(room, epoch, e, prev, () => toFrame(room, e, epoch, prev)),
    writeReplay: (conn, room, plan, read) => writeReplay(node, conn, room, plan, read),
  };
  return new RoomJoins(sink, {
    history: node.cluster.history,
    historyFor: (room) => node.historyFor(room),
    maxReplay: () => node.options.limits.maxReplay,
    roomJoined: (peer, room, cursor) => node.sessions.roomJoined(peer, room, cursor),
    logger: node.logger,
    onReread: () => node.metrics.replayRereads.inc(),
    onAhead: () => node.metrics.gaps.inc({ reason: 'ahead' }),
  });
}

/**
 * Join `room` (see core's `RoomJoins.join`): for a room with history, live messages wait until
 * `replay()`; a client that gave an offset gets what it missed replayed first, with explicit
 * `gap` frames for what history no longer has, then the held live messages, none twice.
 */
export function joinRoom(node: NodeInternals, conn: ServerConnection, room: string, from?: From): Promise<Joined> {
  // a connection that closed meanwhile (behind a join hook that waited) has left the index:
  // joining now would leave it in the room, and the room followed, until the node stops
  if (conn.state === 'closing' || conn.state === 'closed') return Promise.resolve({ state: { room, offset: 0, history: false, recovered: false, gap: false }, replay: () => undefined });
  return node.joins.join(conn, room, from);
}

/**
 * Write a planned replay. The common case (clients of a dead node resuming the same room from
 * the same offset): the replay is encoded once, in frames of up to batch.maxMessages, shared by
 * every socket; otherwise gap notices and messages in offset order (a malformed entry's notice at its place).
 */
function writeReplay(node: Omit<NodeInternals, 'joins'>, conn: ServerConnection, room: string, plan: ReplayPlan<RoomFrame>, read: ReplayRead): void {
  const { frames, gaps, endGap } = plan;
  if (!(gaps.length === 0 && frames.length > 0 && sharedReplay(node, conn, room, read, frames))) {
    for (const it of plan.items) {
      if ('gap' in it) conn.pushGap(room, it.gap);
      else conn.pushRoom(room, it.frame);
    }
  }
  if (endGap) conn.pushGap(room, endGap);
  node.metrics.replayed.inc(frames.length);
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
function sharedReplay(node: Omit<NodeInternals, 'joins'>, conn: ServerConnection, room: string, r: ReplayRead, frames: RoomFrame[]): boolean {
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
  conn.dropHeld(room);
  await node.index.leave(conn, room, c.history);
  await node.sessions.roomLeft(conn, room);
}
