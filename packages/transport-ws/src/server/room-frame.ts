import { encodeMsg, encodeMsgsItem, type Priority, type WireMessage } from '../protocol/server-frames.js';

/**
 * One message of a room with history on its way to this node's sockets: encoded once and the
 * same string written to every member, except for a socket whose previous frame was not the
 * message just before this one (it was left out by `except`): that socket gets its own copy
 * whose `po` names the last offset it was sent, so its stream stays gap-free.
 */
export class RoomFrame {
  private shared: string | undefined;
  private compact: string | undefined;

  constructor(
    readonly message: WireMessage,
    readonly room: string,
    readonly offset: number,
    readonly epoch: string,
    /** Offset before this one in the room's stream. */
    readonly prev: number,
    readonly priority: Priority,
    readonly except: readonly string[] | undefined,
  ) {}

  /** The frame for a socket whose last frame of this room had offset `sent` (-1: none yet). */
  frameAfter(sent: number): string {
    if (sent < 0 || sent === this.prev) return (this.shared ??= encodeMsg(this.message, this.room, this.offset, this.epoch, this.prev));
    return encodeMsg(this.message, this.room, this.offset, this.epoch, sent);
  }

  /** The message as an item of a `msgs` frame (no room, offset or epoch), encoded once. */
  get item(): string {
    return (this.compact ??= encodeMsgsItem(this.message));
  }

  excludes(connectionId: string): boolean {
    return this.except !== undefined && this.except.includes(connectionId);
  }
}

/** A message for many sockets without offsets (a room without history, or everyone): encoded once, on first use. */
export class PlainFrame {
  private encoded: string | undefined;
  private compact: string | undefined;

  constructor(
    readonly message: WireMessage,
    readonly room: string | undefined,
    readonly priority: Priority,
    readonly except: readonly string[] | undefined,
  ) {}

  get frame(): string {
    return (this.encoded ??= encodeMsg(this.message, this.room));
  }

  /** The message as an item of a `msgs` frame, encoded once. */
  get item(): string {
    return (this.compact ??= encodeMsgsItem(this.message));
  }

  excludes(connectionId: string): boolean {
    return this.except !== undefined && this.except.includes(connectionId);
  }
}
