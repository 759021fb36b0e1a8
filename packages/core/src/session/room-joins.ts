import type { Logger } from '../logger.js';
import { historyStream } from '../model/address.js';
import type { HistoryEntry, HistoryPosition, HistoryStore } from '../ports/history.js';
import { planReplay, readAfter, type ReplayCursor, type ReplayPlan, type ReplayRead, type ReplayState } from './replay.js';
import type { ResumeFrom, SessionPeer } from './session-service.js';

/** A connection's cursor in a room, as the transport keeps it: a {@link ReplayCursor}, and whether the room keeps history. */
export interface JoinCursor extends ReplayCursor {
  history: boolean;
}

/**
 * A connection as a room join sees it. The transport keeps the cursors and the hold: while a
 * room is held, its live messages wait on the connection, in order, until `releaseHeld`.
 */
export interface JoinPeer extends SessionPeer {
  /** The rooms the connection is in (the join adds its room first, and moves the cursor). */
  readonly cursors: Map<string, JoinCursor>;
  /** Start holding the room's live messages. */
  hold(room: string): void;
  /** True while the room is held (a replay is being prepared or written). */
  holding(room: string): boolean;
  /** Write what the room held (skipping what the replay covered) and stop holding. */
  releaseHeld(room: string): void;
  /** Stop holding without writing anything (the join failed). */
  dropHeld(room: string): void;
}

/** What a transport does for a join: membership on its node, its frames, its writes. */
export interface JoinSink<P extends JoinPeer, F> {
  /**
   * Add `peer` to the room on this node; with `ordered` (a room with history) the node follows it
   * in offset order and this resolves with the position from which it delivers the room (null:
   * history unreadable, undefined: the peer was already in).
   */
  enter(peer: P, room: string, ordered: boolean): Promise<HistoryPosition | null | undefined>;
  /** The transport's frame for a history entry (undefined when it does not decode: a `malformed` gap). */
  frame(room: string, epoch: string, entry: HistoryEntry, prev: number): F | undefined;
  /** Write a planned replay to `peer`: its items in order, then its end gap (`read` identifies what was read, for sharing encodings). */
  writeReplay(peer: P, room: string, plan: ReplayPlan<F>, read: ReplayRead): void;
}

export interface RoomJoinsOptions {
  /** The cluster's history store (absent: no room keeps history). */
  history: HistoryStore | undefined;
  /** Whether `room` keeps history. */
  historyFor(room: string): boolean;
  /** Most messages replayed per join. */
  maxReplay(): number;
  /** The session service's `roomJoined` (the cursor goes into the session record). */
  roomJoined(peer: SessionPeer, room: string, cursor: { offset: number; epoch: string | null }): void;
  logger: Logger;
  /** A replay read again because history answered short of what this node already delivered. */
  onReread?(): void;
  /** A resume offset refused: beyond the room's head. */
  onAhead?(): void;
}

/** A room joined: the state to tell the client, and `replay()` to write the replay and then the held live messages (call it after the answer). */
export interface RoomJoined {
  state: ReplayState;
  replay(): void;
}

/** Reads again of a replay that came back short of what this node already delivered (a lagging store). */
const LAGGING_READS = 5;

const stateOf = (room: string, c: JoinCursor): ReplayState => ({
  room,
  offset: Math.max(0, c.offset),
  ...(c.epoch ? { epoch: c.epoch } : {}),
  history: c.history,
  recovered: false,
  gap: false,
});

/**
 * Joining a room, for any transport: the membership, the hold on live messages, the replay of
 * what a resuming client missed and the order in which it reaches the client. For a room with
 * history, live messages wait (held) from before the node follows the room until the transport
 * calls `replay()` after its answer; a client that gave no offset starts where this node's
 * ordered stream of the room stands; a client that gave one gets everything after it replayed
 * first (gap notices for what history no longer has), then the held live messages, none twice.
 * A join with an offset for a room the connection is already in replays after that offset (a
 * client that saw a hole). Identical history reads in flight are made once.
 */
export class RoomJoins<P extends JoinPeer, F> {
  private readonly reads = new Map<string, Promise<ReplayRead>>();

  constructor(
    private readonly sink: JoinSink<P, F>,
    private readonly options: RoomJoinsOptions,
  ) {}

  async join(peer: P, room: string, from?: ResumeFrom): Promise<RoomJoined> {
    const history = this.options.history && this.options.historyFor(room) ? this.options.history : undefined;
    const existing = peer.cursors.get(room);
    if (existing) {
      const noop = { state: stateOf(room, existing), replay: () => undefined };
      if (!history || !existing.history || from?.offset === undefined || peer.holding(room)) return noop;
      peer.hold(room);
      // what this connection was already handled up to: history has it, even if a read lags
      const known = existing.epoch !== null && existing.offset >= 0 ? { offset: existing.offset, epoch: existing.epoch } : undefined;
      try {
        return await this.replayAfter(peer, room, history, existing, from, known);
      } catch (err) {
        this.options.logger.warn({ err, room }, 'history unavailable for a replay');
        return { state: { ...stateOf(room, existing), recovered: false, gap: true }, replay: () => peer.releaseHeld(room) };
      }
    }

    const cursor: JoinCursor = { offset: history ? -1 : 0, sent: -1, epoch: null, history: history !== undefined };
    peer.cursors.set(room, cursor);
    if (!history) {
      await this.sink.enter(peer, room, false);
      return { state: stateOf(room, cursor), replay: () => undefined };
    }
    peer.hold(room);
    const release = () => peer.releaseHeld(room);
    try {
      let start;
      try {
        start = await this.sink.enter(peer, room, true);
      } catch (err) {
        peer.cursors.delete(room);
        peer.dropHeld(room);
        throw err;
      }
      if (from?.offset === undefined) {
        if (start) Object.assign(cursor, { offset: start.offset, sent: start.offset, epoch: start.epoch });
        return { state: stateOf(room, cursor), replay: release };
      }
      return await this.replayAfter(peer, room, history, cursor, from, start ?? undefined);
    } catch (err) {
      if (!peer.cursors.has(room)) throw err;
      this.options.logger.warn({ err, room }, 'history unavailable for a join');
      return { state: { ...stateOf(room, cursor), recovered: false, gap: from?.offset !== undefined }, replay: release };
    } finally {
      // (during the hello there is no session yet: the session is written once, with its rooms)
      if (peer.cursors.get(room) === cursor) this.options.roomJoined(peer, room, cursor);
    }
  }

  /** Read history after the client's offset and plan the replay (an offset beyond the room's head is refused: `gap`, reason `ahead`). */
  private async replayAfter(peer: P, room: string, history: HistoryStore, cursor: JoinCursor, from: ResumeFrom, head?: HistoryPosition): Promise<RoomJoined> {
    const after = from.offset as number;
    const stream = historyStream(room);
    const max = this.options.maxReplay();
    const key = `${stream}\n${after}\n${from.epoch ?? ''}\n${max}`;
    let r = await this.read(key, () => readAfter(history, stream, after, from.epoch, max));
    // This node delivered the room up to `head` before the connection joined, so those messages
    // reach it only through the replay. A store whose reads trail its appends (Kafka: a read sees
    // the log a moment after the producer's ack) can answer short of that: read again, briefly,
    // rather than tell the client of a gap for messages history does have.
    for (let i = 1; head && r.epoch === head.epoch && r.top < head.offset && !r.capped && i <= LAGGING_READS; i++) {
      this.options.onReread?.();
      await new Promise((resolve) => setTimeout(resolve, 10 * i));
      r = await this.read(`${key}\n${i}`, () => readAfter(history, stream, after, from.epoch, max));
    }
    const read = r;
    const plan = planReplay(room, read, { offset: after, epoch: from.epoch }, cursor, (e, prev) => this.sink.frame(room, read.epoch, e, prev));
    if (plan.state.reason === 'ahead') {
      this.options.onAhead?.();
      return { state: plan.state, replay: () => peer.releaseHeld(room) };
    }
    return {
      state: plan.state,
      replay: () => {
        this.sink.writeReplay(peer, room, plan, read);
        peer.releaseHeld(room);
      },
    };
  }

  /** Run `load` for `key`, or join the run of it already in flight. */
  private read(key: string, load: () => Promise<ReplayRead>): Promise<ReplayRead> {
    let p = this.reads.get(key);
    if (!p) {
      p = load().finally(() => this.reads.delete(key));
      this.reads.set(key, p);
    }
    return p;
  }
}
