import { Emitter } from './emitter.js';
import type { SwitchyardClientError } from './errors.js';
import type { AnyEvents, EventData, EventMap, EventName, EventOf } from './events.js';
import type { GapFrame, MsgFrame, RoomPosition, RoomResult } from '../protocol/server-frames.js';

/** A room subscription's state: `subscribing` (join sent or waiting for a connection), `subscribed`, `unsubscribed`. */
export type RoomState = 'unsubscribed' | 'subscribing' | 'subscribed';

/** A message delivered to the application; with an event map, `data` narrows with `event`. */
export type ClientMessage<S extends EventMap = AnyEvents> = EventOf<S> & {
  /** The room, for room messages. */
  room?: string;
  /** The room's offset, when the room keeps history. */
  offset?: number;
  /** The room's history epoch, when the room keeps history. */
  epoch?: string;
  /** The sender's connection id, when the server tells. */
  from?: string;
};

/** Sent with `subscribed`: whether the join tried to recover missed messages, and whether it did. */
export interface SubscribedInfo {
  room: string;
  /** The join (or resume) carried an offset: the server was asked to replay what came after it. */
  recovering: boolean;
  /** Everything after the offset is being replayed (false when `recovering` is false). */
  recovered: boolean;
  /** The server says messages were lost (history trimmed, or the epoch changed): `gap` events say which. */
  gap: boolean;
  /** Why the resume position was refused, if it was: `ahead` (beyond the room's head; the room goes on from `offset`). */
  reason?: string;
  /** The room's offset and epoch the server reported. */
  offset?: number;
  epoch?: string;
  /** This is a re-subscription after a reconnect. */
  resubscribed: boolean;
}

/**
 * Messages of a room that will never be delivered, said explicitly. With history: those with
 * offsets in (`from`, `to`] of `epoch` (`to` absent: the rest of that epoch, after a history
 * reset). Without history (`reason` `lost`): at least one message was lost, no offsets.
 */
export interface GapInfo {
  room: string;
  /** `trimmed` (history no longer has them), `epoch` (history was reset), `unavailable` (history could not be read in time), `max_replay`, `malformed`, `unrecovered` (the node did not fill a hole), `lost` (a room without history). */
  reason: string;
  epoch?: string;
  from?: number;
  to?: number;
}

/** What `publish` resolves with: the offset and epoch when the room keeps history. */
export interface PublishResult {
  offset?: number;
  epoch?: string;
}

/** Events of a room. */
export interface RoomEvents<S extends EventMap = AnyEvents> {
  state: (e: { from: RoomState; to: RoomState }) => void;
  subscribing: (e: { room: string }) => void;
  subscribed: (e: SubscribedInfo) => void;
  unsubscribed: (e: { room: string; error?: SwitchyardClientError }) => void;
  message: (m: ClientMessage<S>) => void;
  /** Messages that will never be delivered (see `GapInfo`). */
  gap: (g: GapInfo) => void;
  error: (err: SwitchyardClientError) => void;
}

/** What a room needs from its client (internal). */
/** What the client needs of a room (internal). */
export interface RoomHandle {
  readonly name: string;
  readonly state: RoomState;
  joinSeq: number;
  position(): RoomPosition;
  confirmed(result: RoomResult, askedOffset: boolean): void;
  refused(err: SwitchyardClientError): void;
}

export interface RoomHost {
  joinRoom(room: RoomHandle): void;
  leaveRoom(room: RoomHandle): Promise<void>;
  publishRoom(room: RoomHandle, event: string | undefined, data: unknown, timeoutMs?: number): Promise<PublishResult>;
  /** Ask the node to replay the room after `offset` (a hole). */
  replayRoom(room: RoomHandle, offset: number, epoch: string | undefined): void;
  /** A message of the room is delivered (the client's own `message` event). */
  roomMessage(m: ClientMessage): void;
  /** Messages of the room are gone (the client's own `gap` event). */
  roomGap(g: GapInfo): void;
  readonly holeTimeoutMs: number;
}

/** A message or a gap notice waiting for the offsets before it. */
type Waiting<S extends EventMap> = { m: MsgFrame; out: ClientMessage<S> } | { gap: GapFrame };

/** Most messages held per room while a hole is being filled; beyond it the hole is given up as a gap. */
const MAX_WAITING = 10_000;

/**
 * One room as a subscription. Get it with `client.room(name)` (get-or-create). For a room with
 * history it delivers messages in offset order, each once: it tracks the last offset delivered
 * and the epoch, resumes from there after a reconnect, drops what it already has, holds a
 * message that arrives ahead of a missing one and asks the node to replay the hole, and emits
 * `gap` for what the node says (or it finds) will never come.
 */
export class Room<S extends EventMap = AnyEvents> extends Emitter<RoomEvents<S>> implements RoomHandle {
  private _state: RoomState = 'unsubscribed';
  /** Last offset delivered (or the start the server reported): every message chains on it. */
  private delivered: number | undefined;
  private _epoch: string | undefined;
  private everSubscribed = false;
  /** Messages and gap notices that arrived ahead of a missing offset, keyed by the offset they follow. */
  private readonly waiting = new Map<number, Waiting<S>>();
  private holeTimer: ReturnType<typeof setTimeout> | undefined;
  private replayAsks = 0;
  /** Bumped on every join/leave so that stale acks are ignored. */
  joinSeq = 0;
  /** Messages dropped because they were already delivered (replay overlap). */
  duplicatesDropped = 0;

  constructor(
    readonly name: string,
    private readonly host: RoomHost,
  ) {
    super();
  }

  /** The subscription state. */
  get state(): RoomState {
    return this._state;
  }

  /** The last offset delivered in this room (or where the subscription started), if any. */
  get offset(): number | undefined {
    return this.delivered;
  }

  /** The room's history epoch, if known. */
  get epoch(): string | undefined {
    return this._epoch;
  }

  /** Subscribes again after `leave()` (a new room object subscribes by itself). */
  join(): this {
    if (this._state === 'unsubscribed') {
      this.setState('subscribing');
      this.host.joinRoom(this);
    }
    return this;
  }

  /** Leaves the room: no more messages are delivered; resolves when the server acknowledged (or at once when offline). */
  leave(): Promise<void> {
    if (this._state === 'unsubscribed') return Promise.resolve();
    this.reset();
    this.setState('unsubscribed');
    this.emit('unsubscribed', { room: this.name });
    return this.host.leaveRoom(this);
  }

  /** Publishes to the room; resolves with the server's ack (`offset` and `epoch` when the room keeps history). */
  publish<E extends EventName<S>>(event: E, data: EventData<S, E>, options: { timeoutMs?: number } = {}): Promise<PublishResult> {
    return this.host.publishRoom(this, event, data, options.timeoutMs);
  }

  /** @internal Where to resume from (sent in `hello.rooms` and `join`). */
  position(): RoomPosition {
    const offset = this.delivered;
    if (offset === undefined) return {};
    return this._epoch === undefined ? { offset } : { offset, epoch: this._epoch };
  }

  /** @internal The connection was lost: the room waits to be subscribed again (or, `final`: the client closed). */
  lost(final = false): void {
    // what waited for a hole is replayed by the resume (it asks from the last offset delivered)
    this.clearWaiting();
    if (final) {
      if (this._state === 'unsubscribed') return;
      this.setState('unsubscribed');
      this.emit('unsubscribed', { room: this.name });
    } else if (this._state === 'subscribed') {
      this.setState('subscribing');
      this.emit('subscribing', { room: this.name });
    }
  }

  /** @internal The server confirmed the subscription. `askedOffset`: the join/hello carried an offset. */
  confirmed(result: RoomResult, askedOffset: boolean): void {
    if (this._state !== 'subscribing') return;
    const epochChanged = result.epoch !== undefined && this._epoch !== undefined && result.epoch !== this._epoch;
    if (epochChanged) this.endEpoch('epoch');
    if (result.epoch !== undefined) this._epoch = result.epoch;
    const history = result.history !== false && result.offset !== undefined;
    if (history) {
      if (!askedOffset || epochChanged) this.delivered = epochChanged && askedOffset ? 0 : result.offset;
      // beyond the room's head: the offsets we thought we had do not exist; go on from the head
      else if (result.reason === 'ahead') this.delivered = result.offset;
    }
    const gap = result.gap === true || epochChanged;
    const info: SubscribedInfo = {
      room: this.name,
      recovering: askedOffset,
      recovered: askedOffset && result.recovered !== false && !gap,
      gap,
      resubscribed: this.everSubscribed,
    };
    if (result.reason !== undefined) info.reason = result.reason;
    if (result.offset !== undefined) info.offset = result.offset;
    if (result.epoch !== undefined) info.epoch = result.epoch;
    this.everSubscribed = true;
    this.setState('subscribed');
    this.emit('subscribed', info);
  }

  /** @internal The server refused the join. */
  refused(err: SwitchyardClientError): void {
    if (this._state === 'unsubscribed') return;
    this.setState('unsubscribed');
    this.emit('error', err);
    this.emit('unsubscribed', { room: this.name, error: err });
  }

  /** @internal A message of this room: delivered in offset order, once; held while an earlier one is missing. */
  receive(m: MsgFrame, out: ClientMessage<S>): void {
    if (this._state === 'unsubscribed') return;
    if (m.o === undefined) return this.release(out);
    if (m.e !== undefined && m.e !== this._epoch) {
      if (this._epoch !== undefined) this.endEpoch('epoch');
      this._epoch = m.e;
    }
    const prev = m.po ?? m.o - 1;
    this.delivered ??= prev;
    if (m.o <= this.delivered) {
      this.duplicatesDropped++;
      return;
    }
    if (prev <= this.delivered) {
      this.delivered = m.o;
      this.release(out);
      this.drain();
      return;
    }
    this.hold(prev, { m, out });
  }

  /** @internal A `gap` frame of this room. */
  gapFrame(g: GapFrame): void {
    if (this._state === 'unsubscribed') return;
    if (g.from === undefined) return this.emitGap({ room: this.name, reason: g.reason });
    if (g.e !== undefined && this._epoch !== undefined && g.e !== this._epoch) return; // not our epoch
    if (g.to === undefined) return this.endEpoch(g.reason);
    if (this.delivered !== undefined && g.to <= this.delivered) return;
    if (this.delivered === undefined || g.from <= this.delivered) {
      this.emitGap({ room: this.name, reason: g.reason, ...(this._epoch ?? g.e ? { epoch: (this._epoch ?? g.e) as string } : {}), from: this.delivered ?? g.from, to: g.to });
      this.delivered = g.to;
      this.drain();
      return;
    }
    this.hold(g.from, { gap: g });
  }

  private release(out: ClientMessage<S>): void {
    this.emit('message', out);
    this.host.roomMessage(out as ClientMessage);
  }

  private emitGap(g: GapInfo): void {
    this.emit('gap', g);
    this.host.roomGap(g);
  }

  /** The rest of the current epoch is gone (history reset): say so, and start the next epoch at 0. */
  private endEpoch(reason: string): void {
    const epoch = this._epoch;
    this.emitGap({ room: this.name, reason, ...(epoch !== undefined ? { epoch } : {}), from: this.delivered ?? 0 });
    this.clearWaiting();
    this._epoch = undefined;
    this.delivered = 0;
  }

  private hold(prev: number, w: Waiting<S>): void {
    if (this.waiting.has(prev)) {
      this.duplicatesDropped++;
      return;
    }
    this.waiting.set(prev, w);
    if (this.waiting.size > MAX_WAITING) return this.giveUp();
    this.holeTimer ??= setTimeout(() => this.onHoleTimeout(), this.host.holeTimeoutMs);
  }

  /** Deliver what waited and now follows the last offset delivered. */
  private drain(): void {
    for (;;) {
      const d = this.delivered as number;
      let key: number | undefined = this.waiting.has(d) ? d : undefined;
      // or something that chains on an offset a gap already covered
      if (key === undefined) for (const prev of this.waiting.keys()) if (prev < d && (key === undefined || prev < key)) key = prev;
      if (key === undefined) break;
      const w = this.waiting.get(key) as Waiting<S>;
      this.waiting.delete(key);
      if ('gap' in w) {
        const g = w.gap;
        if (g.to !== undefined && g.to > d) {
          this.emitGap({ room: this.name, reason: g.reason, ...(this._epoch !== undefined ? { epoch: this._epoch } : {}), from: d, to: g.to });
          this.delivered = g.to;
        }
      } else if ((w.m.o as number) > d) {
        this.delivered = w.m.o as number;
        this.release(w.out);
      } else this.duplicatesDropped++;
    }
    if (this.waiting.size === 0) {
      clearTimeout(this.holeTimer);
      this.holeTimer = undefined;
      this.replayAsks = 0;
    }
  }

  /** A hole stayed open: ask the node to replay it (twice), then give it up as a gap. */
  private onHoleTimeout(): void {
    this.holeTimer = undefined;
    if (this.waiting.size === 0 || this._state !== 'subscribed') return;
    if (this.replayAsks < 2 && this.delivered !== undefined) {
      this.replayAsks++;
      this.host.replayRoom(this, this.delivered, this._epoch);
      this.holeTimer = setTimeout(() => this.onHoleTimeout(), this.host.holeTimeoutMs * 2);
      return;
    }
    this.giveUp();
  }

  /** Report the hole before the first waiting item as a gap and go on. */
  private giveUp(): void {
    const first = Math.min(...this.waiting.keys());
    const from = this.delivered ?? first;
    if (first > from) this.emitGap({ room: this.name, reason: 'unrecovered', ...(this._epoch !== undefined ? { epoch: this._epoch } : {}), from, to: first });
    this.delivered = Math.max(from, first);
    this.drain();
  }

  private clearWaiting(): void {
    this.waiting.clear();
    clearTimeout(this.holeTimer);
    this.holeTimer = undefined;
    this.replayAsks = 0;
  }

  private reset(): void {
    this.clearWaiting();
    this.delivered = undefined;
    this._epoch = undefined;
  }

  private setState(to: RoomState): void {
    const from = this._state;
    if (from === to) return;
    this._state = to;
    this.emit('state', { from, to });
  }
}
