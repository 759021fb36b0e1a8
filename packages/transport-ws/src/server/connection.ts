import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import type { NodeOptions } from '../options.js';
import { encodeBatch, encodeGap, MSGS_CAP, PING, type GapReason, type Priority, type RoomState } from '../protocol/server-frames.js';
import type { Batcher, Flushable } from './batcher.js';
import { CloseCode, fitReason } from '../protocol/close-codes.js';
import type { TransportMetrics } from './metrics.js';
import { TokenBucket } from './rate-limit.js';
import type { PlainFrame, RoomFrame } from './room-frame.js';
import type { AnyEvents, EventData, EventMap, EventName } from '../client/events.js';
import { SendQueue, type Outgoing, type SharedFrame } from './send-queue.js';

/** Acknowledge a client `msg` that carried an `id`: the result goes back in an `ack` frame. */
export type Ack = (result?: unknown) => void;
/** `message` listener: return a value (or a promise) instead of calling `ack` if you prefer. */
/**
 * `message` listener: every message a client sends. With an event map `C`, `event` is one of its
 * names and `data` one of its payloads; `conn.handle(event, handler)` types one event exactly.
 */
export type MessageListener<C extends EventMap = AnyEvents> = (data: EventPayload<C>, event: EventName<C>, ack: Ack | undefined) => unknown;

/** Any payload of map `C` (without a map: unknown). */
type EventPayload<C> = string extends keyof C ? unknown : C[keyof C];

/** A registered listener: for every event, or (from `handle`) for one. */
interface Listening {
  fn: (data: unknown, event: string | undefined, ack: Ack | undefined) => unknown;
  /** It takes `ack` (a listener that does and returns nothing is waited for). */
  takesAck: boolean;
  /** Only this event (from `handle`). */
  event?: string;
  /** What `off` removes. */
  original: unknown;
}
export type CloseListener = (code: number, reason: string) => void;

/** What a connection needs from its node. */
export interface ConnectionHost {
  readonly options: NodeOptions;
  readonly metrics: TransportMetrics;
  readonly batcher: Batcher;
  joinRoom(conn: ServerConnection, room: string): Promise<RoomState>;
  leaveRoom(conn: ServerConnection, room: string): Promise<void>;
  onClosed(conn: ServerConnection, code: number, reason: string): void;
}

/**
 * Where a connection is in a room with history: `offset`, the last message handled for it (sent,
 * or left out by `except`); `sent`, the last one written to it (its frames chain on this). -1:
 * not known yet (history was unreadable at the join; the first message sets it).
 */
export interface RoomCursorState {
  offset: number;
  sent: number;
  epoch: string | null;
  history: boolean;
}

/** A gap to tell a socket about: offsets (from, to] of `epoch` are gone (`to` absent: the rest of the epoch). */
export interface RoomGapNotice {
  epoch: string;
  from: number;
  to?: number | undefined;
  reason: GapReason;
}

type Held = { frame: RoomFrame } | { gap: RoomGapNotice };

/** handshake: waiting for hello; open: welcomed (or being welcomed); closing: close frame sent; closed. */
export type ConnectionState = 'handshake' | 'open' | 'closing' | 'closed';
const NO_PARAMS: Readonly<Record<string, unknown>> = Object.freeze({});

/** Options of a shared Buffer send: a text frame. */
const TEXT = { binary: false } as const;

/**
 * One client socket on this node, as the application sees it: `node.on('connection', (conn) => ...)`,
 * `node.connections`. `S`: the events the node sends it (`send`); `C`: the events the client sends
 * (`on('message')`, `handle`). What the node itself drives (delivery, the send queue, room cursors
 * and replays, the hello) is not part of this type.
 */
export interface Connection<S extends EventMap = AnyEvents, C extends EventMap = AnyEvents> {
  /** Unique connection id: `<node id>~<random>`. */
  readonly id: string;
  /** Client IP address. */
  readonly ip: string;
  /** When the socket was accepted (performance.now()). */
  readonly openedAt: number;
  /**
   * The upgrade request: there during authentication and the `connection` event; afterwards
   * only with the node option `keepRequest`.
   */
  readonly request: IncomingMessage | undefined;
  /** User id from authentication, if any. */
  readonly userId: string | undefined;
  /** Session id (set at the hello; '' before). */
  readonly sessionId: string;
  /** `hello.params` the client sent (a shared empty object when it sent none). */
  readonly params: Readonly<Record<string, unknown>>;
  /** handshake: waiting for hello; open: welcomed; closing: close frame sent; closed. */
  readonly state: ConnectionState;
  /** True when authentication already happened at the upgrade. */
  readonly authenticated: boolean;
  /** Bad frames this connection sent so far. */
  readonly badFrames: number;
  /** When the last server ping went out (performance.now(); the open time before the first). */
  readonly pingSentAt: number;
  /** A ping is out and no frame has come since. */
  readonly awaitingPong: boolean;
  /** When the close frame went out (performance.now()), 0 before. */
  readonly closingSince: number;
  /** Data from authentication (e.g. JWT `claims`) and anything the application keeps here. */
  data: Record<string, unknown>;
  /** Rooms this connection is in. */
  readonly rooms: string[];
  /** Frames waiting in the send queue. */
  readonly queued: number;
  /**
   * `message`: every message the client sends; return a value (or a promise), or call `ack`,
   * to answer a request. `close`: once, when the socket is closed.
   */
  on(event: 'message', listener: MessageListener<C>): this;
  on(event: 'close', listener: CloseListener): this;
  off(event: 'message' | 'close', listener: MessageListener<C> | CloseListener): this;
  /**
   * Handle one event the client sends, typed by the event map: `conn.handle('chat', (data, ack) => ...)`.
   * Return a value (or a promise) to answer a request, or call `ack`.
   */
  handle<E extends Extract<EventName<C>, string>>(event: E, handler: (data: EventData<C, E>, ack: Ack | undefined) => unknown): this;
  /** Send a message to this connection only (no bus). */
  send<E extends EventName<S>>(event: E, data: EventData<S, E>, options?: { priority?: Priority }): void;
  /** Join a room on behalf of the client (no join hook, no replay). */
  join(room: string): Promise<RoomState>;
  /** Leave a room on behalf of the client. */
  leave(room: string): Promise<void>;
  /** Close the connection (1000 by default); frames already queued are written first. */
  close(code?: number, reason?: string): void;
  /** Destroy the socket at once. */
  terminate(): void;
}

/**
 * The node's side of a {@link Connection}: the socket, its send queue, its room cursors and
 * replays, and the members the node drives (the hello, delivery, heartbeats). The server files
 * use this class; the application gets the same object typed as `Connection`, and the package
 * exports neither the class nor {@link connInternalsOf}.
 */
export class ServerConnection implements Connection, Flushable {
  private _userId: string | undefined;
  private _sessionId = '';
  private _params: Readonly<Record<string, unknown>> = NO_PARAMS;
  /** The client reads `msgs` frames (its hello listed the capability): shared batches go out in that form. */
  private compact = false;
  private _data: Record<string, unknown> | undefined;
  private _request: IncomingMessage | undefined;
  private _cursors: Map<string, RoomCursorState> | undefined;
  private _replaying: Map<string, Held[]> | undefined;
  private _state: ConnectionState = 'handshake';
  private _authenticated = false;
  private _badFrames = 0;
  readonly bucket: TokenBucket | undefined;
  readonly openedAt = performance.now();
  private _pingSentAt = this.openedAt;
  private _awaitingPong = false;
  private _closingSince = 0;
  /** Deliveries wait until the welcome is written. */
  private held = true;
  private inflight = 0;
  private readonly queue: SendQueue;
  /** permessage-deflate: messages from this many bytes are compressed (undefined: compression off). */
  private readonly deflateThreshold: number | undefined;
  private messageListeners: Listening[] | undefined;
  private closeListeners: CloseListener[] | undefined;

  constructor(
    /** Unique connection id: `<node id>~<random>`. */
    readonly id: string,
    readonly ws: WebSocket,
    request: IncomingMessage,
    /** Client IP address. */
    readonly ip: string,
    private readonly host: ConnectionHost,
  ) {
    const o = host.options;
    this._request = request;
    this.queue = new SendQueue(o.sendQueue.maxMessages);
    this.deflateThreshold = o.perMessageDeflate ? o.perMessageDeflate.threshold : undefined;
    this.bucket = o.limits.rateLimit ? new TokenBucket(o.limits.rateLimit.messagesPerSecond, o.limits.rateLimit.burst) : undefined;
  }

  /**
   * The upgrade request: there during authentication and the `connection` event; afterwards
   * only with the node option `keepRequest` (it holds the request's headers and parser state,
   * about 1 KB per connection).
   */
  get request(): IncomingMessage | undefined {
    return this._request;
  }

  /** User id from authentication, if any. */
  get userId(): string | undefined {
    return this._userId;
  }

  /** Session id (set at the hello; '' before). */
  get sessionId(): string {
    return this._sessionId;
  }

  /** `hello.params` the client sent (a shared empty object when it sent none). */
  get params(): Readonly<Record<string, unknown>> {
    return this._params;
  }

  /** handshake: waiting for hello; open: welcomed; closing: close frame sent; closed. */
  get state(): ConnectionState {
    return this._state;
  }

  /** True when authentication already happened at the upgrade. */
  get authenticated(): boolean {
    return this._authenticated;
  }

  /** Bad frames this connection sent so far. */
  get badFrames(): number {
    return this._badFrames;
  }

  /** When the last server ping went out (the open time before the first). */
  get pingSentAt(): number {
    return this._pingSentAt;
  }

  /** A ping is out and no frame has come since. */
  get awaitingPong(): boolean {
    return this._awaitingPong;
  }

  /** When the close frame went out (performance.now()), 0 before. */
  get closingSince(): number {
    return this._closingSince;
  }

  /** @internal authenticated (at the upgrade: `atUpgrade`, or by the hello): its user and data. */
  authenticate(userId: string | undefined, data: Record<string, unknown> | undefined, atUpgrade: boolean): void {
    this._userId = userId;
    this._data = { ...this._data, ...(data ?? {}) };
    if (atUpgrade) this._authenticated = true;
  }

  /** @internal the hello came: the connection is open (not welcomed yet) with the client's params and capabilities. */
  opened(params: Readonly<Record<string, unknown>> | undefined, caps?: readonly string[]): void {
    if (this._state !== 'handshake') return;
    this._state = 'open';
    if (params) this._params = params;
    this.compact = caps?.includes(MSGS_CAP) === true;
  }

  /** @internal the session is created or resumed */
  setSession(sessionId: string): void {
    this._sessionId = sessionId;
  }

  /** @internal one more bad frame; returns how many so far */
  countBadFrame(): number {
    return ++this._badFrames;
  }

  /** @internal a frame came from the client: it is alive */
  heard(): void {
    this._awaitingPong = false;
  }

  /** @internal send a server ping at `now` and wait for any frame */
  ping(now: number): void {
    this._pingSentAt = now;
    this._awaitingPong = true;
    this.control(PING);
  }

  /** @internal the hello is done: let the request go unless the node keeps it */
  releaseRequest(): void {
    if (!this.host.options.keepRequest) this._request = undefined;
  }

  /** Data from authentication (e.g. JWT `claims`) and anything the application keeps here (made on first use). */
  get data(): Record<string, unknown> {
    return (this._data ??= {});
  }

  set data(value: Record<string, unknown>) {
    this._data = value;
  }

  /** Rooms this connection is in, with its cursor in each (made on the first join). */
  get cursors(): Map<string, RoomCursorState> {
    return (this._cursors ??= new Map());
  }

  /** Hold `room`'s live messages (a join's replay is being prepared): they wait until `release`. */
  hold(room: string): void {
    (this._replaying ??= new Map()).set(room, []);
  }

  /** True while `room` is held: it replays on this connection (makes nothing). */
  holding(room: string): boolean {
    return this._replaying !== undefined && this._replaying.has(room);
  }

  /** Stop holding `room` without writing what it held (the join failed, or the client left). */
  dropHeld(room: string): void {
    this._replaying?.delete(room);
  }

  /** The rooms and cursors, without making the map when there is none. */
  cursorEntries(): Iterable<[string, RoomCursorState]> {
    return this._cursors ? this._cursors.entries() : [];
  }

  /** Rooms this connection is in. */
  get rooms(): string[] {
    return this._cursors ? [...this._cursors.keys()] : [];
  }

  /** Frames waiting in the send queue. */
  get queued(): number {
    return this.queue.length;
  }

  on(event: 'message', listener: MessageListener): this;
  on(event: 'close', listener: CloseListener): this;
  on(event: 'message' | 'close', listener: MessageListener | CloseListener): this {
    if (event === 'message') {
      const fn = listener as Listening['fn'];
      (this.messageListeners ??= []).push({ fn, takesAck: fn.length >= 3, original: listener });
    }
    else (this.closeListeners ??= []).push(listener as CloseListener);
    return this;
  }

  off(event: 'message' | 'close', listener: MessageListener | CloseListener): this {
    if (event === 'message') {
      const i = this.messageListeners?.findIndex((l) => l.original === listener) ?? -1;
      if (i >= 0) this.messageListeners?.splice(i, 1);
      return this;
    }
    const list: unknown[] = this.closeListeners ?? [];
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  /**
   * Handle one event the client sends, typed by the event map: `conn.handle('chat', (data, ack) => ...)`.
   * Return a value (or a promise) to answer a request, or call `ack`.
   */
  handle<E extends string>(event: E, handler: (data: EventData<AnyEvents, E>, ack: Ack | undefined) => unknown): this {
    const fn: Listening['fn'] = (data, _event, ack) => handler(data as EventData<AnyEvents, E>, ack);
    (this.messageListeners ??= []).push({ fn, takesAck: handler.length >= 2, event, original: handler });
    return this;
  }

  /** Send a message to this connection only (no bus). */
  send(event: string | undefined, data: unknown, options: { priority?: Priority } = {}): void {
    this.deliver(JSON.stringify({ t: 'msg', ...(event !== undefined ? { event } : {}), data: data === undefined ? null : data }), options.priority ?? 'normal');
  }

  /** Join a room on behalf of the client (no join hook, no replay). */
  join(room: string): Promise<RoomState> {
    return this.host.joinRoom(this, room);
  }

  leave(room: string): Promise<void> {
    return this.host.leaveRoom(this, room);
  }

  /** Close the connection; frames already queued are written first. */
  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.held = false;
    while (this.queue.length > 0 && this.ws.readyState === this.ws.OPEN) this.writeBatch(this.queue.take(this.host.options.batch.maxMessages));
    this._state = 'closing';
    this._closingSince = performance.now();
    this.host.batcher.forget(this);
    try {
      this.ws.close(code, fitReason(reason));
    } catch {
      this.ws.terminate();
    }
  }

  /** Destroy the socket at once. */
  terminate(): void {
    this.ws.terminate();
  }

  // ---------------------------------------------------------------- node side

  /** Queue an encoded frame (the same string for every target socket of a fan-out). */
  deliver(frame: string, priority: Priority): void {
    if (this.state === 'closing' || this.state === 'closed') {
      this.host.metrics.dropped.inc({ reason: 'closed' });
      return;
    }
    if (!this.held && this.inflight === 0 && this.queue.length === 0 && this.ws.bufferedAmount < this.host.options.sendQueue.highWaterBytes) {
      const hot = this.host.metrics.hot;
      hot.sent++;
      hot.frames++;
      this.write(frame);
      return;
    }
    // A full batch (or a full queue) goes out at once while the socket is not back-pressured.
    const { batch, sendQueue } = this.host.options;
    if (!this.held && this.state === 'open' && this.queue.length >= Math.min(batch.maxMessages, sendQueue.maxMessages) && this.ws.bufferedAmount < sendQueue.highWaterBytes) {
      this.writeBatch(this.queue.take(batch.maxMessages));
    }
    const r = this.queue.push(frame, priority);
    if (r === 'dropped_low') this.host.metrics.dropped.inc({ reason: 'queue_full' });
    else if (r === 'overflow') return this.slowConsumer();
    if (!this.held) this.host.batcher.schedule(this);
  }

  /**
   * A message of a room with history, from the node's ordered stream: kept back while the room
   * replays; never sent twice; left out (but counted as handled) when `except` names this
   * connection. Its frame chains on the last one this socket was sent, so the client sees a
   * gap-free stream or an explicit `gap` frame.
   */
  deliverRoom(room: string, frame: RoomFrame): void {
    const held = this._replaying?.get(room);
    if (held) held.push({ frame });
    else this.pushRoom(room, frame);
  }

  /** Tell this socket that messages of `room` are gone (kept in order with held messages). */
  gapRoom(room: string, gap: RoomGapNotice): void {
    const held = this._replaying?.get(room);
    if (held) held.push({ gap });
    else this.pushGap(room, gap);
  }

  /** `deliverRoom` without the replay hold: replays write through here. */
  pushRoom(room: string, f: RoomFrame): void {
    const c = this.cursors.get(room);
    if (!c?.history) {
      if (!f.excludes(this.id)) this.deliver(f.frameAfter(-1), f.priority);
      return;
    }
    if (c.epoch !== f.epoch) {
      // the first message of the room here (start unknown), or a new epoch (the old one's end was told as a gap)
      const start = c.epoch === null ? f.prev : 0;
      c.epoch = f.epoch;
      c.offset = c.sent = start;
    }
    if (c.offset >= 0 && f.offset <= c.offset) return;
    if (c.offset >= 0 && f.prev > c.offset) this.pushGap(room, { epoch: f.epoch, from: c.offset, to: f.prev, reason: 'unavailable' });
    c.offset = f.offset;
    if (f.excludes(this.id)) return;
    const frame = f.frameAfter(c.sent);
    c.sent = f.offset;
    this.deliver(frame, f.priority);
  }

  /** `gapRoom` without the replay hold. */
  pushGap(room: string, g: RoomGapNotice): void {
    const c = this.cursors.get(room);
    if (!c?.history) return;
    if (c.epoch !== null && c.epoch !== g.epoch) return; // not the epoch this socket is in
    if (g.to !== undefined && c.offset >= g.to) return; // already past it
    const from = c.sent >= 0 ? c.sent : g.from;
    this.host.metrics.gaps.inc({ reason: g.reason });
    this.deliver(encodeGap(room, g.reason, { epoch: g.epoch, from, to: g.to }), 'normal');
    if (g.to !== undefined) c.offset = c.sent = g.to;
    c.epoch = g.epoch;
  }

  /**
   * Take a room's batch (`items`, in order) as the one frame every member gets, when this
   * socket's stream goes on exactly where the batch starts: welcomed, not replaying the room,
   * and, for a room with history, its last offset is the one the first message follows.
   * Returns false (nothing done) when it cannot: the caller then delivers the messages one by one.
   * `replay`: the room's own replay is writing (its live messages wait meanwhile).
   */
  takeShared(room: string | undefined, items: ReadonlyArray<RoomFrame | PlainFrame>, frame: (compact: boolean) => SharedFrame, replay = false): boolean {
    if (this.state !== 'open' || this.held) return false;
    if (room !== undefined && !replay && this.holding(room)) return false;
    const first = items[0];
    if (first && 'offset' in first) {
      const c = this.cursors.get(room as string);
      if (!c?.history || c.epoch !== first.epoch || c.offset !== c.sent || first.prev !== c.offset) return false;
      c.offset = c.sent = (items[items.length - 1] as RoomFrame).offset;
    }
    this.sendShared(frame(this.compact));
    return true;
  }

  /** Write a shared frame now when nothing waits before it, else queue a reference to it. */
  private sendShared(f: SharedFrame): void {
    const { sendQueue } = this.host.options;
    if (this.queue.length === 0 && this.ws.bufferedAmount < sendQueue.highWaterBytes) {
      this.host.metrics.sharedWrites(1, f.count);
      this.write(f.buf);
      return;
    }
    const r = this.queue.push(f, 'normal');
    if (r === 'dropped_low') this.host.metrics.dropped.inc({ reason: 'queue_full' });
    else if (r === 'overflow') return this.slowConsumer();
    this.host.batcher.schedule(this);
  }

  /** End a room's replay: write what arrived meanwhile and was not replayed, and stop holding. */
  releaseHeld(room: string): void {
    const held = this._replaying?.get(room);
    this._replaying?.delete(room);
    for (const h of held ?? []) {
      if ('frame' in h) this.pushRoom(room, h.frame);
      else this.pushGap(room, h.gap);
    }
  }

  /** A protocol frame (welcome, ack, error, ping): high priority, not counted as a message. */
  control(frame: string): void {
    if (this.state === 'closed' || this.ws.readyState !== this.ws.OPEN) return;
    if (this.inflight === 0 && this.queue.length === 0) this.write(frame);
    else if (this.queue.push(frame, 'high') === 'overflow') this.slowConsumer();
    else this.host.batcher.schedule(this);
  }

  /** Write the welcome, then let held deliveries go. */
  release(welcome: string): void {
    this.write(welcome);
    this.held = false;
    if (this.queue.length > 0) this.host.batcher.schedule(this);
  }

  flush(now: number): boolean {
    if (this.held || this.state !== 'open' || this.queue.length === 0) return false;
    const { batch, sendQueue } = this.host.options;
    if (this.ws.bufferedAmount >= sendQueue.highWaterBytes) return true;
    const due = this.inflight === 0 || this.queue.length >= batch.maxMessages || now - this.queue.since >= batch.maxDelayMs;
    if (!due) return true;
    this.writeBatch(this.queue.take(batch.maxMessages));
    return this.queue.length > 0;
  }

  private writeBatch(frames: Outgoing[]): void {
    const hot = this.host.metrics.hot;
    // Protocol frames (ack, ping...) travel alone; consecutive msg frames share one batch; a
    // shared room batch is written as it is.
    let run: string[] = [];
    const out = () => {
      if (run.length === 0) return;
      hot.sent += run.length;
      hot.frames++;
      if (run.length === 1) this.write(run[0] as string);
      else {
        hot.batches++;
        hot.batched += run.length;
        this.write(encodeBatch(run));
      }
      run = [];
    };
    for (const f of frames) {
      if (typeof f !== 'string') {
        out();
        this.host.metrics.sharedWrites(1, f.count);
        this.write(f.buf);
      } else if (f.startsWith('{"t":"msg"')) run.push(f);
      else {
        out();
        this.write(f);
      }
    }
    out();
  }

  /** Send a text frame (a shared Buffer is written as it is: ws frames it without copying it). */
  private write(data: string | Buffer): void {
    this.inflight++;
    const t = this.deflateThreshold;
    if (t === undefined) return typeof data === 'string' ? this.ws.send(data, this.onWritten) : this.ws.send(data, TEXT, this.onWritten);
    // ws applies its threshold only without context takeover; decide per message here
    const n = data.length;
    const compress = typeof data === 'string' ? n >= t || (n * 3 >= t && Buffer.byteLength(data) >= t) : n >= t;
    this.ws.send(data, { binary: false, compress }, this.onWritten);
  }

  private readonly onWritten = (): void => {
    this.inflight--;
    if (this.inflight === 0 && this.queue.length > 0 && !this.held) this.host.batcher.schedule(this);
  };

  private slowConsumer(): void {
    this.host.metrics.slowConsumers.inc();
    this.queue.clear();
    this._state = 'closing';
    this._closingSince = performance.now();
    this.host.batcher.forget(this);
    try {
      this.ws.close(CloseCode.SlowConsumer, 'slow_consumer');
    } catch {
      this.ws.terminate();
    }
  }

  /**
   * Run the `message` listeners. The ack result is the first `ack(...)` call or the first
   * defined return value; a listener that takes the `ack` parameter and returns nothing is
   * waited for until it calls `ack` (or the connection closes).
   */
  async dispatchMessage(data: unknown, event: string | undefined, wantsAck: boolean): Promise<{ result: unknown }> {
    let acked: { result: unknown } | undefined;
    let settle: (() => void) | undefined;
    const ack: Ack | undefined = wantsAck
      ? (result) => {
          acked ??= { result };
          settle?.();
        }
      : undefined;
    let waitForAck = false;
    for (const l of [...(this.messageListeners ?? [])]) {
      if (l.event !== undefined && l.event !== event) continue;
      const r = await l.fn(data, event, ack);
      if (r !== undefined && !acked) acked = { result: r };
      if (r === undefined && l.takesAck) waitForAck = true;
    }
    if (wantsAck && !acked && waitForAck && this.state !== 'closed') {
      await new Promise<void>((resolve) => {
        settle = resolve;
        (this.closeListeners ??= []).push(() => resolve());
      });
    }
    return acked ?? { result: undefined };
  }

  /** Called once when the socket is closed. */
  closed(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this._state = 'closed';
    this.queue.clear();
    this.host.batcher.forget(this);
    this.host.onClosed(this, code, reason);
    for (const l of [...(this.closeListeners ?? [])]) {
      try {
        l(code, reason);
      } catch {
        // a throwing listener must not stop the others
      }
    }
  }
}

/** @internal the node's side of a connection an application holds (tests; server files hold it already). */
export function connInternalsOf(conn: Connection): ServerConnection {
  if (!(conn instanceof ServerConnection)) throw new Error('not a Switchyard connection');
  return conn;
}
