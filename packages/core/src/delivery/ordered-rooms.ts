import type { Logger } from '../logger.js';
import { historyStream } from '../model/address.js';
import type { DeliverEnvelope } from '../model/envelope.js';
import { decodeHistoryRecord } from '../model/history-record.js';
import type { HistoryEntry, HistoryPosition, HistoryStore } from '../ports/history.js';
import { PROTOCOL_VERSION } from '../model/envelope.js';

/** Why messages of a room will never be delivered. */
export type RoomGapReason = 'trimmed' | 'epoch' | 'unavailable' | 'malformed';

/**
 * Messages of `room` with offsets in (`from`, `to`] of `epoch` will not be delivered: history no
 * longer has them (`trimmed`), the stream was reset (`epoch`: everything after `from`, `to`
 * absent), history could not be read for too long (`unavailable`), or an entry was unreadable.
 */
export interface RoomGap {
  room: string;
  epoch: string;
  from: number;
  to?: number;
  reason: RoomGapReason;
}

export interface OrderingOptions {
  /** How long an envelope that skipped ahead waits for the missing one before history is read, ms. */
  holdMs: number;
  /** Envelopes waiting per room; past it, history is read at once. */
  maxPending: number;
  /** How long a hole may stay unfilled while history cannot be read before it becomes a gap, ms. */
  maxWaitMs: number;
  /** Entries read per history request. */
  readLimit: number;
}

export interface OrderedRoomsDeps {
  nodeId: string;
  history: HistoryStore;
  options: OrderingOptions;
  logger: Logger;
  /** Deliver to the local sockets, in offset order. */
  deliver(envelope: DeliverEnvelope): void;
  /** Tell the local sockets of a room that some messages are gone. */
  gap(gap: RoomGap): void;
  count(event: 'reordered' | 'filled' | 'duplicate', n?: number): void;
}

interface Room {
  name: string;
  stream: string;
  refs: number;
  /** Resolves once the starting position is known. */
  ready: Promise<void>;
  initializing: boolean;
  /** Envelopes that arrived before the starting position was known. */
  early: DeliverEnvelope[];
  /** Epoch being delivered; undefined until known. */
  epoch: string | undefined;
  /** Last offset delivered (or the starting position); -1 until known. */
  head: number;
  /** Envelopes that skipped ahead, keyed by the offset they follow. */
  pending: Map<number, DeliverEnvelope>;
  /** Envelopes of another epoch, kept until the current epoch is checked. */
  foreign: DeliverEnvelope[];
  timer: ReturnType<typeof setTimeout> | undefined;
  filling: boolean;
  checkingEpoch: boolean;
  /** When the oldest unfilled hole was first seen (0: none). */
  holeSince: number;
  lastActivity: number;
  closed: boolean;
}

const prevOf = (e: DeliverEnvelope): number => e.prev ?? (e.offset as number) - 1;

/**
 * Per-room ordering on one node, for rooms with history. Envelopes from several publishers reach
 * a node in any order; the offset the history store gave is the only order that counts. For
 * each room a node follows, this keeps the last offset delivered (the head) and:
 * - delivers an envelope that follows the head at once, then any waiting ones that follow it;
 * - drops one at or below the head (already delivered: a copy, or a replay overlap);
 * - keeps one that skipped ahead, for `holdMs` (or until `maxPending` wait), then reads the
 *   hole from history and delivers it in order;
 * - reports what history no longer has as a gap, and an epoch change (history reset) as a gap
 *   of the old epoch, then delivers the new epoch from its start.
 *
 * It works once per room per node, not per socket: the transport hands the ordered stream to
 * every local socket of the room.
 */
export class OrderedRooms {
  private readonly rooms = new Map<string, Room>();
  private stopped = false;

  constructor(private readonly deps: OrderedRoomsDeps) {}

  /** Rooms followed now. */
  names(): string[] {
    return [...this.rooms.keys()];
  }

  /** True while this node orders `room`. */
  follows(room: string): boolean {
    return this.rooms.has(room);
  }

  /**
   * Start (or join) ordering `room`; call after the room's topic is subscribed. Resolves with
   * the position from which this node delivers the room in order (null when history could not
   * be read: then the first envelope that arrives sets it).
   */
  async open(room: string): Promise<HistoryPosition | null> {
    let r = this.rooms.get(room);
    if (!r) {
      const created: Room = {
        name: room,
        stream: historyStream(room),
        refs: 0,
        ready: Promise.resolve(),
        initializing: true,
        early: [],
        epoch: undefined,
        head: -1,
        pending: new Map(),
        foreign: [],
        timer: undefined,
        filling: false,
        checkingEpoch: false,
        holeSince: 0,
        lastActivity: Date.now(),
        closed: false,
      };
      r = created;
      this.rooms.set(room, created);
      created.ready = this.deps.history.position(created.stream).then(
        (pos) => {
          created.epoch = pos.epoch;
          created.head = pos.offset;
        },
        (err: unknown) => this.deps.logger.warn({ err, room }, 'history position unreadable; the first message sets where the room starts'),
      ).finally(() => {
        created.initializing = false;
        for (const e of created.early.splice(0)) this.place(created, e);
      });
    }
    r.refs++;
    await r.ready;
    return r.epoch === undefined || r.head < 0 ? null : { offset: r.head, epoch: r.epoch };
  }

  /** Stop ordering `room` when the last follower is gone. */
  close(room: string): void {
    const r = this.rooms.get(room);
    if (!r || --r.refs > 0) return;
    this.forget(r);
  }

  /** The position this node has delivered `room` up to, if it follows it. */
  position(room: string): HistoryPosition | null {
    const r = this.rooms.get(room);
    return r && r.epoch !== undefined && r.head >= 0 ? { offset: r.head, epoch: r.epoch } : null;
  }

  /** An envelope for a room with history; false when the room is not followed here (deliver it as it is). */
  accept(envelope: DeliverEnvelope): boolean {
    if (envelope.to.kind !== 'room' || envelope.offset === undefined || envelope.epoch === undefined) return false;
    const r = this.rooms.get(envelope.to.room);
    if (!r) return false;
    r.lastActivity = Date.now();
    if (r.initializing) r.early.push(envelope);
    else this.place(r, envelope);
    return true;
  }

  /**
   * Read every followed room's history after its head and deliver what the bus did not bring:
   * after the bus was down, or now and then for rooms quiet for `idleMs` (a lost last message
   * reveals itself only this way).
   */
  catchUp(idleMs = 0): void {
    const now = Date.now();
    for (const r of this.rooms.values()) {
      if (r.epoch !== undefined && now - r.lastActivity >= idleMs) void this.fill(r);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const r of [...this.rooms.values()]) this.forget(r);
  }

  private forget(r: Room): void {
    r.closed = true;
    if (r.timer) clearTimeout(r.timer);
    r.timer = undefined;
    r.pending.clear();
    r.early.length = 0;
    r.foreign.length = 0;
    if (this.rooms.get(r.name) === r) this.rooms.delete(r.name);
  }

  private place(r: Room, e: DeliverEnvelope): void {
    if (r.closed) return;
    const offset = e.offset as number;
    if (r.epoch === undefined || r.head < 0) {
      // no starting position (history was unreadable): this envelope sets it
      r.epoch = e.epoch;
      r.head = prevOf(e);
    }
    if (e.epoch !== r.epoch) {
      if (r.foreign.length < this.deps.options.maxPending) r.foreign.push(e);
      void this.checkEpoch(r);
      return;
    }
    if (offset <= r.head) {
      this.deps.count('duplicate');
      return;
    }
    if (prevOf(e) <= r.head) {
      this.release(r, e);
      this.drain(r);
      return;
    }
    const prev = prevOf(e);
    if (r.pending.has(prev)) {
      this.deps.count('duplicate');
      return;
    }
    r.pending.set(prev, e);
    this.deps.count('reordered');
    if (r.holeSince === 0) r.holeSince = Date.now();
    if (r.pending.size >= this.deps.options.maxPending) void this.fill(r);
    else this.arm(r, this.deps.options.holdMs);
  }

  private release(r: Room, e: DeliverEnvelope): void {
    r.head = e.offset as number;
    try {
      this.deps.deliver(e);
    } catch (err) {
      this.deps.logger.error({ err, room: r.name }, 'room delivery threw');
    }
  }

  /** Deliver the waiting envelopes that now follow the head; forget those at or below it. */
  private drain(r: Room): void {
    for (let next = r.pending.get(r.head); next; next = r.pending.get(r.head)) {
      r.pending.delete(prevOf(next));
      this.release(r, next);
    }
    if (r.pending.size > 0) {
      for (const [prev, e] of r.pending) {
        if ((e.offset as number) <= r.head) r.pending.delete(prev);
        else if (prev <= r.head) {
          r.pending.delete(prev);
          this.release(r, e);
          return this.drain(r);
        }
      }
    }
    if (r.pending.size === 0) {
      r.holeSince = 0;
      if (r.timer) clearTimeout(r.timer);
      r.timer = undefined;
    }
  }

  private arm(r: Room, ms: number): void {
    if (r.timer || r.closed || this.stopped) return;
    r.timer = setTimeout(() => {
      r.timer = undefined;
      void this.fill(r);
    }, ms);
  }

  /** Read history after the head and deliver it in order, until the stream's top. */
  private async fill(r: Room): Promise<void> {
    if (r.filling || r.closed || r.epoch === undefined) return;
    r.filling = true;
    try {
      for (let rounds = 0; rounds < 10_000 && !r.closed; rounds++) {
        const epoch: string = r.epoch;
        const res = await this.deps.history.read(r.stream, Math.max(0, r.head), { epoch, limit: this.deps.options.readLimit });
        if (r.closed) return;
        if (r.epoch !== epoch) continue; // switched meanwhile
        if (res.epoch !== epoch) {
          this.switchEpoch(r, res.epoch);
          continue;
        }
        const first = res.entries[0]?.offset ?? res.top + 1;
        if (res.gap && first - 1 > r.head) this.skip(r, first - 1, 'trimmed');
        let prev = r.head;
        for (const entry of res.entries) {
          if (entry.offset > r.head) {
            const env = this.fromHistory(r, entry, prev);
            if (env) this.release(r, env);
            else this.skip(r, entry.offset, 'malformed');
            this.deps.count('filled');
          }
          prev = entry.offset;
        }
        this.drain(r);
        const last = res.entries.at(-1)?.offset;
        if (last === undefined || last >= res.top) break;
      }
      // history had everything up to its top and still something waits: it cannot be had
      this.giveUpAfterMaxWait(r);
    } catch (err) {
      this.deps.logger.warn({ err, room: r.name }, 'history read failed while filling a hole');
      this.giveUpAfterMaxWait(r);
    } finally {
      r.filling = false;
      if (r.pending.size > 0 && !r.closed) this.arm(r, Math.max(this.deps.options.holdMs, 100));
    }
  }

  /** A hole older than `maxWaitMs` becomes a gap: say what is missing and go on with what arrived. */
  private giveUpAfterMaxWait(r: Room): void {
    if (r.pending.size === 0 || Date.now() - r.holeSince < this.deps.options.maxWaitMs) return;
    this.skip(r, Math.min(...r.pending.keys()), 'unavailable');
    this.drain(r);
  }

  /** Report (head, to] as a gap and move the head past it. */
  private skip(r: Room, to: number, reason: RoomGapReason): void {
    if (to <= r.head || r.epoch === undefined) return;
    this.deps.gap({ room: r.name, epoch: r.epoch, from: Math.max(0, r.head), to, reason });
    r.head = to;
  }

  /** Another epoch was seen: ask the store which is current; switch to it if it is not ours. */
  private async checkEpoch(r: Room): Promise<void> {
    if (r.checkingEpoch || r.closed) return;
    r.checkingEpoch = true;
    try {
      const pos = await this.deps.history.position(r.stream);
      if (r.closed) return;
      if (pos.epoch !== r.epoch) this.switchEpoch(r, pos.epoch);
      const stale = r.foreign.filter((e) => e.epoch !== r.epoch).length;
      if (stale > 0) this.deps.count('duplicate', stale);
      const current = r.foreign.filter((e) => e.epoch === r.epoch);
      r.foreign.length = 0;
      for (const e of current) this.place(r, e);
    } catch (err) {
      this.deps.logger.warn({ err, room: r.name }, 'history position unreadable while checking an epoch');
      if (r.foreign.length > 0) setTimeout(() => void this.checkEpoch(r), Math.max(this.deps.options.holdMs, 100)).unref?.();
    } finally {
      r.checkingEpoch = false;
    }
  }

  /** The stream was reset: the old epoch's rest is a gap; the new epoch is delivered from its start. */
  private switchEpoch(r: Room, epoch: string): void {
    if (r.epoch !== undefined) this.deps.gap({ room: r.name, epoch: r.epoch, from: Math.max(0, r.head), reason: 'epoch' });
    r.epoch = epoch;
    r.head = 0;
    const waiting = [...r.pending.values(), ...r.foreign.filter((e) => e.epoch === epoch)];
    r.pending.clear();
    r.foreign = r.foreign.filter((e) => e.epoch !== epoch);
    for (const e of waiting) if (e.epoch === epoch) this.place(r, e);
    void this.fill(r);
  }

  private fromHistory(r: Room, entry: HistoryEntry, prev: number): DeliverEnvelope | undefined {
    const rec = decodeHistoryRecord(entry.payload);
    if (!rec) return undefined;
    return {
      v: PROTOCOL_VERSION,
      type: 'deliver',
      id: `${r.stream}@${r.epoch}:${entry.offset}`,
      from: this.deps.nodeId,
      caps: [],
      ts: entry.timestamp,
      to: { kind: 'room', room: r.name },
      data: rec.data,
      offset: entry.offset,
      epoch: r.epoch as string,
      ...(prev !== entry.offset - 1 ? { prev } : {}),
      ...(rec.except?.length ? { except: rec.except } : {}),
      ...(rec.headers ? { headers: rec.headers } : {}),
    };
  }
}
