import type { HistoryEntry } from '@switchyard/core';
import { encodeMsg, type RoomState, type WireMessage } from '../protocol/frames.js';
import type { Connection } from './connection.js';
import type { SwitchyardNode } from './node.js';

const decoder = new TextDecoder();

export interface Joined {
  state: RoomState;
  /** Write the replayed frames, then the live ones that arrived meanwhile. Call after the ack/welcome. */
  replay(): void;
}

/**
 * Join `room`: subscribe (through the index), then, for a history room, either note the
 * current position or replay what came after the given offset. Live messages of the room
 * wait while the replay is read, and none is written twice.
 */
export async function joinRoom(node: SwitchyardNode, conn: Connection, room: string, from?: { offset?: number | undefined; epoch?: string | undefined }): Promise<Joined> {
  const history = node.historyFor(room) ? node.cluster.history : undefined;
  const existing = conn.cursors.get(room);
  if (existing) {
    return { state: { room, offset: existing.offset, ...(existing.epoch ? { epoch: existing.epoch } : {}), history: existing.history, recovered: false, gap: false }, replay: () => undefined };
  }
  const replaying = history !== undefined && from?.offset !== undefined;
  if (replaying) conn.replaying.set(room, []);
  const cursor = { offset: 0, epoch: null as string | null, history: history !== undefined };
  conn.cursors.set(room, cursor);
  await node.index.join(conn, room);
  const done = { state: { room, offset: 0, history: false, recovered: false, gap: false } as RoomState, replay: () => conn.endReplay(room) };
  if (!history) return done;
  const stream = node.streamOf(room);
  try {
    if (!replaying || from?.offset === undefined) {
      const pos = await history.position(stream);
      if (cursor.epoch !== pos.epoch || cursor.offset < pos.offset) Object.assign(cursor, { offset: pos.offset, epoch: pos.epoch });
      done.state = { room, offset: cursor.offset, epoch: pos.epoch, history: true, recovered: false, gap: false };
      return done;
    }
    const { entries, epoch, gap } = await readAfter(node, stream, from.offset, from.epoch, node.options.maxReplay);
    const frames: string[] = [];
    for (const e of entries) {
      const m = parse(e);
      if (m) frames.push(encodeMsg(m, room, e.offset, epoch));
    }
    const last = entries.at(-1)?.offset;
    const sameEpoch = from.epoch === undefined || from.epoch === epoch;
    Object.assign(cursor, { offset: last ?? (sameEpoch ? from.offset : 0), epoch });
    done.state = { room, offset: cursor.offset, epoch, history: true, recovered: !gap, gap };
    done.replay = () => {
      for (const f of frames) conn.deliver(f, 'normal');
      node.metrics.replayed.inc(frames.length);
      conn.endReplay(room);
    };
    return done;
  } catch (err) {
    node.logger.warn({ err, room }, 'history unavailable for a join');
    done.state = { room, offset: cursor.offset, history: true, recovered: false, gap: replaying };
    return done;
  } finally {
    if (conn.sessionId) void node.cluster.sessions.setRoom(conn.sessionId, room, { offset: cursor.offset, epoch: cursor.epoch }).catch(() => undefined);
  }
}

async function readAfter(node: SwitchyardNode, stream: string, after: number, epoch: string | undefined, max: number) {
  const history = node.cluster.history;
  if (!history) return { entries: [], epoch: '', gap: true };
  const entries: HistoryEntry[] = [];
  let gap = false;
  let currentEpoch = '';
  let from = after;
  let fromEpoch: string | null = epoch ?? null;
  for (;;) {
    const r = await history.read(stream, from, { limit: Math.max(1, max - entries.length), epoch: fromEpoch });
    if (currentEpoch && r.epoch !== currentEpoch) return { entries, epoch: currentEpoch, gap: true };
    currentEpoch = r.epoch;
    gap ||= r.gap;
    entries.push(...r.entries);
    const last = r.entries.at(-1)?.offset;
    if (last === undefined || last >= r.top) break;
    if (entries.length >= max) {
      gap = true;
      break;
    }
    from = last;
    fromEpoch = r.epoch;
  }
  return { entries, epoch: currentEpoch, gap };
}

function parse(e: HistoryEntry): WireMessage | undefined {
  try {
    const m = JSON.parse(decoder.decode(e.payload)) as unknown;
    return typeof m === 'object' && m !== null ? (m as WireMessage) : undefined;
  } catch {
    return undefined;
  }
}

/** Leave `room`, release its topic when the last local member goes, and forget it in the session. */
export async function leaveRoom(node: SwitchyardNode, conn: Connection, room: string): Promise<void> {
  if (!conn.cursors.delete(room)) return;
  conn.replaying.delete(room);
  await node.index.leave(conn, room);
  if (conn.sessionId) await node.cluster.sessions.removeRoom(conn.sessionId, room).catch(() => undefined);
}
