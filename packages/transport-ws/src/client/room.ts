import { Emitter } from './emitter.js';
import type { SwitchyardClientError } from './errors.js';
import type { MsgFrame, RoomPosition, RoomResult } from './frames.js';

/** A room subscription's state: `subscribing` (join sent or waiting for a connection), `subscribed`, `unsubscribed`. */
export type RoomState = 'unsubscribed' | 'subscribing' | 'subscribed';

/** A message delivered to the application. */
export interface ClientMessage {
  event: string | undefined;
  data: unknown;
  /** The room, for room messages. */
  room?: string;
  /** The room's offset, when the room keeps history. */
  offset?: number;
  /** The room's history epoch, when the room keeps history. */
  epoch?: string;
  /** The sender's connection id, when the server tells. */
  from?: string;
}

/** Sent with `subscribed`: whether the join tried to recover missed messages, and whether it did. */
export interface SubscribedInfo {
  room: string;
  /** The join (or resume) carried an offset: the server was asked to replay what came after it. */
  recovering: boolean;
  /** Everything after the offset is being replayed (false when `recovering` is false). */
  recovered: boolean;
  /** The server says messages were lost (history trimmed, or the epoch changed). */
  gap: boolean;
  /** The room's offset and epoch the server reported. */
  offset?: number;
  epoch?: string;
  /** This is a re-subscription after a reconnect. */
  resubscribed: boolean;
}

/** What `publish` resolves with: the offset when the room keeps history. */
export interface PublishResult {
  offset?: number;
}

/** Events of a room. */
export interface RoomEvents {
  state: (e: { from: RoomState; to: RoomState }) => void;
  subscribing: (e: { room: string }) => void;
  subscribed: (e: SubscribedInfo) => void;
  unsubscribed: (e: { room: string; error?: SwitchyardClientError }) => void;
  message: (m: ClientMessage) => void;
  error: (err: SwitchyardClientError) => void;
}

/** What a room needs from its client (internal). */
export interface RoomHost {
  joinRoom(room: Room): void;
  leaveRoom(room: Room): Promise<void>;
  publishRoom(room: Room, event: string | undefined, data: unknown, timeoutMs?: number): Promise<PublishResult>;
}

/**
 * One room as a subscription. Get it with `client.room(name)` (get-or-create). It tracks the
 * last offset and epoch it delivered, resumes from there after a reconnect and drops
 * duplicates (offset <= last delivered in the same epoch), so a replay never delivers twice.
 */
export class Room extends Emitter<RoomEvents> {
  private _state: RoomState = 'unsubscribed';
  /** Last offset delivered to the application (dedupe floor). */
  private delivered: number | undefined;
  /** Offset the server reported at join time (resume point when nothing was delivered yet). */
  private reported: number | undefined;
  private _epoch: string | undefined;
  private everSubscribed = false;
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

  /** The last offset seen in this room (delivered or reported by the server), if any. */
  get offset(): number | undefined {
    if (this.delivered === undefined) return this.reported;
    if (this.reported === undefined) return this.delivered;
    return Math.max(this.delivered, this.reported);
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

  /** Publishes to the room; resolves with the server's ack (`offset` when the room keeps history). */
  publish(event: string | undefined, data: unknown, options: { timeoutMs?: number } = {}): Promise<PublishResult> {
    return this.host.publishRoom(this, event, data, options.timeoutMs);
  }

  /** @internal Where to resume from (sent in `hello.rooms` and `join`). */
  position(): RoomPosition {
    const offset = this.offset;
    if (offset === undefined) return {};
    return this._epoch === undefined ? { offset } : { offset, epoch: this._epoch };
  }

  /** @internal The connection was lost: the room waits to be subscribed again (or, `final`: the client closed). */
  lost(final = false): void {
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
    if (epochChanged) this.reset();
    if (result.epoch !== undefined) this._epoch = result.epoch;
    // When recovering, the replay follows: keep our own position so it is not skipped.
    if ((!askedOffset || epochChanged) && result.offset !== undefined && result.history !== false) this.reported = result.offset;
    const gap = result.gap === true || epochChanged;
    const info: SubscribedInfo = {
      room: this.name,
      recovering: askedOffset,
      recovered: askedOffset && result.recovered !== false && !gap,
      gap,
      resubscribed: this.everSubscribed,
    };
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

  /** @internal Delivers a message unless the room was left or it is a duplicate; returns whether delivered. */
  deliver(m: MsgFrame, out: ClientMessage): boolean {
    if (this._state === 'unsubscribed') return false;
    if (m.o !== undefined) {
      if (m.e !== undefined && m.e !== this._epoch) {
        if (this._epoch !== undefined) this.reset();
        this._epoch = m.e;
      }
      if (this.delivered !== undefined && m.o <= this.delivered) {
        this.duplicatesDropped++;
        return false;
      }
      this.delivered = m.o;
    }
    this.emit('message', out);
    return true;
  }

  private reset(): void {
    this.delivered = undefined;
    this.reported = undefined;
    this._epoch = undefined;
  }

  private setState(to: RoomState): void {
    const from = this._state;
    if (from === to) return;
    this._state = to;
    this.emit('state', { from, to });
  }
}
