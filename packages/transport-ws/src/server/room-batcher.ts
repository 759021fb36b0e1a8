import { encodeBatch, encodeMsgs } from '../protocol/server-frames.js';
import type { ServerConnection, RoomGapNotice } from './connection.js';
import { RoomFrame, type PlainFrame } from './room-frame.js';
import type { SharedFrame } from './send-queue.js';

/** The key of the broadcast-to-everyone batch (room names never start with `*`). */
export const EVERYONE = '*';

/** A gap notice of a room with history, kept in its place among the room's messages. */
export class GapItem {
  constructor(
    readonly room: string,
    readonly gap: RoomGapNotice,
  ) {}
}

type Item = RoomFrame | PlainFrame | GapItem;

/** The messages of one room (or of everyone) gathered in one event-loop turn. */
class Pending {
  readonly items: Item[] = [];
  /** Connection ids some message of the batch leaves out. */
  excluded: Set<string> | undefined;
  /**
   * One frame can serve every socket: the messages are all of normal priority, of one kind and
   * one epoch, each following the one before (rooms with history), with no gap notice among
   * them (else sockets take them one by one).
   */
  shareable = true;
  private shared: SharedFrame | undefined;
  private compact: SharedFrame | undefined;

  constructor(readonly key: string) {}

  add(item: Item): void {
    const first = this.items[0];
    this.items.push(item);
    if (item instanceof GapItem) {
      this.shareable = false;
      return;
    }
    if (item.priority !== 'normal') this.shareable = false;
    if (first && (first.constructor !== item.constructor || (item instanceof RoomFrame && (first as RoomFrame).epoch !== item.epoch))) this.shareable = false;
    // one frame says each message follows the one before it: only a chain may share it (messages
    // a node delivers unordered, e.g. while it does not follow the room yet, go one by one and
    // each socket's cursor tells what is missing)
    const last = this.items[this.items.length - 2];
    if (item instanceof RoomFrame && last instanceof RoomFrame && item.prev !== last.offset) this.shareable = false;
    if (item.except?.length) for (const id of item.except) (this.excluded ??= new Set()).add(id);
  }

  /**
   * The batch as one encoded frame, made once for every socket: a `msg` or a `batch` of them, or
   * (`compact`, for clients that read them) a `msgs` frame.
   */
  frame(compact: boolean): SharedFrame {
    // (one message alone is smallest as a plain `msg`)
    return compact && this.items.length > 1 ? (this.compact ??= compactFrame(this.key === EVERYONE ? undefined : this.key, this.items as Array<RoomFrame | PlainFrame>)) : this.plain();
  }

  private plain(): SharedFrame {
    if (this.shared) return this.shared;
    const texts: string[] = [];
    let prev: number | undefined;
    for (const it of this.items) {
      if (it instanceof RoomFrame) {
        texts.push(it.frameAfter(prev ?? it.prev));
        prev = it.offset;
      } else if (!(it instanceof GapItem)) texts.push(it.frame);
    }
    const text = texts.length === 1 ? (texts[0] as string) : encodeBatch(texts);
    this.shared = { buf: Buffer.from(text, 'utf8'), count: texts.length };
    return this.shared;
  }
}

/** A shareable batch (of one kind and one epoch, no gap notice) as a `msgs` frame. */
export function compactFrame(room: string | undefined, items: ReadonlyArray<RoomFrame | PlainFrame>): SharedFrame {
  const texts = items.map((it) => it.item);
  const first = items[0];
  const text = first instanceof RoomFrame ? encodeMsgs(room, texts, { epoch: first.epoch, prev: first.prev, offsets: items.map((it) => (it as RoomFrame).offset) }) : encodeMsgs(room, texts);
  return { buf: Buffer.from(text, 'utf8'), count: texts.length };
}

export interface RoomBatcherHost {
  /** Local members of a room, or every open connection for `EVERYONE`. */
  targets(key: string): Iterable<ServerConnection>;
  /** Most messages in one batch. */
  readonly maxMessages: number;
  /** A busy room goes out at most this often, ms (0: every turn). */
  readonly maxDelayMs: number;
}

/**
 * Room-level batching: the messages for one room (or for everyone) that reach this node in one
 * event-loop turn are serialised once, into one frame, and the same bytes go to every local
 * member whose stream they continue: a busy room costs one encoding and one write per socket
 * per turn, not per message. An idle room still sends at once (at the end of the current turn).
 * A socket that cannot take the shared frame (still in its hello, replaying the room, left out
 * by `except`, or whose own stream diverged) gets the messages one by one, as before.
 */
export class RoomBatcher {
  private readonly pending = new Map<string, Pending>();
  /** When each busy room last went out (performance.now()); rooms quiet for `maxDelayMs` are forgotten. */
  private readonly lastFlush = new Map<string, number>();
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly host: RoomBatcherHost) {}

  add(key: string, item: Item): void {
    if (this.stopped) return;
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = new Pending(key)));
    p.add(item);
    if (p.items.length >= this.host.maxMessages) {
      this.pending.delete(key);
      this.deliver(p);
      return;
    }
    this.immediate ??= setImmediate(this.flush);
  }

  stop(): void {
    this.stopped = true;
    if (this.immediate) clearImmediate(this.immediate);
    if (this.timer) clearTimeout(this.timer);
    this.immediate = this.timer = undefined;
    this.pending.clear();
    this.lastFlush.clear();
  }

  /**
   * At the end of a turn: a room that went out less than `maxDelayMs` ago (a busy room) waits
   * until then, gathering more; any other room goes now. An idle room thus still sends at once,
   * and a busy one sends at most every `maxDelayMs`, in frames of up to `maxMessages`.
   */
  private readonly flush = (): void => {
    this.immediate = undefined;
    const now = performance.now();
    const budget = this.host.maxDelayMs;
    let wait = Infinity;
    for (const [key, p] of this.pending) {
      const last = this.lastFlush.get(key);
      const due = last === undefined ? now : last + budget;
      if (due > now) {
        wait = Math.min(wait, due - now);
        continue;
      }
      this.pending.delete(key);
      this.deliver(p);
    }
    for (const [key, at] of this.lastFlush) if (now - at > budget && !this.pending.has(key)) this.lastFlush.delete(key);
    if (wait < Infinity && !this.timer && !this.stopped) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.immediate ??= setImmediate(this.flush);
      }, Math.max(1, Math.ceil(wait)));
    }
  };

  private deliver(p: Pending): void {
    if (this.host.maxDelayMs > 0) this.lastFlush.set(p.key, performance.now());
    const room = p.key === EVERYONE ? undefined : p.key;
    for (const c of this.host.targets(p.key)) {
      if (p.shareable && !p.excluded?.has(c.id) && c.takeShared(room, p.items as Array<RoomFrame | PlainFrame>, (compact) => p.frame(compact))) continue;
      for (const it of p.items) {
        if (it instanceof RoomFrame) c.deliverRoom(it.room, it);
        else if (it instanceof GapItem) c.gapRoom(it.room, it.gap);
        else if (!it.excludes(c.id)) c.deliver(it.frame, it.priority);
      }
    }
  }
}
