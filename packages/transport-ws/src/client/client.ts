import { backoffDelay } from './backoff.js';
import { CloseCode, FATAL_CLOSE_CODES, QUICK_RETRY_CLOSE_CODES } from '../protocol/close-codes.js';
import { Emitter } from './emitter.js';
import { clientError, type SwitchyardClientError } from './errors.js';
import { isWsUrl, MSGS_CAP, parseServerFrame, type AckFrame, type MsgFrame, type MsgsFrame, type RoomPosition, type RoomResult, type ServerFrame, type WelcomeFrame } from '../protocol/server-frames.js';
import { PROTOCOL_VERSION, SUBPROTOCOL } from '../protocol/version.js';
import { EARLY_SUBPROTOCOL, offeredSubprotocols } from '../protocol/early-hello.js';
import { resolveOptions, type ClientOptions, type ResolvedOptions, type WebSocketConstructor, type WebSocketLike } from './options.js';
import type { AnyEvents, EventData, EventMap, EventName } from './events.js';
import { Room, type ClientMessage, type GapInfo, type PublishResult, type RoomHandle, type RoomHost } from './room.js';

/** Frames this SDK reads beyond the base protocol, sent in the hello. */
const CAPS = [MSGS_CAP];

/** The connection's state. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Sent with `connected`. */
export interface ConnectedInfo {
  url: string;
  session: string;
  conn: string;
  node: string;
  /** The authenticated user id, when the server tells. */
  user?: string;
  /** The server resumed the previous session. */
  resumed: boolean;
  /** Every room given for resume was recovered without a gap (true when there was nothing to recover). */
  recovered: boolean;
  heartbeatMs: number;
  maxPayload: number;
  rooms: Record<string, RoomResult>;
}

/** Sent with `disconnected`. */
export interface DisconnectedInfo {
  code: number;
  reason: string;
  willReconnect: boolean;
  /** Delay before the next attempt, when reconnecting. */
  delayMs?: number;
}

/** Events of the client. */
export interface ClientEvents<S extends EventMap = AnyEvents> {
  connecting: (e: { url: string; attempt: number }) => void;
  connected: (e: ConnectedInfo) => void;
  disconnected: (e: DisconnectedInfo) => void;
  redirect: (e: { url: string; reason: string; count: number }) => void;
  /** Every delivered message, room messages included (with `room`). */
  message: (m: ClientMessage<S>) => void;
  /** Messages of a room that will never be delivered, said explicitly (also emitted on the room). */
  gap: (g: GapInfo) => void;
  error: (err: SwitchyardClientError) => void;
  state: (e: { from: ConnectionState; to: ConnectionState }) => void;
}

interface Pending {
  resolve: (result: unknown) => void;
  reject: (err: SwitchyardClientError) => void;
  timer?: ReturnType<typeof setTimeout>;
  /** Written to the current socket (its fate is unknown if the socket is lost). */
  sent: boolean;
  /** Internal (join/leave): no ack timeout; on loss the next welcome takes over. */
  internal: boolean;
}

interface Outgoing {
  text: string;
  id?: number;
}

/**
 * The Switchyard client: one logical connection that survives reconnects, redirects and node
 * deaths. Create it with `createClient`. Runs in browsers and in Node (pass `WebSocket` from
 * the `ws` package on Node 20).
 */
export class SwitchyardClient<S extends EventMap = AnyEvents, C extends EventMap = AnyEvents> extends Emitter<ClientEvents<S>> implements RoomHost {
  private readonly o: ResolvedOptions;
  private readonly WS: WebSocketConstructor;
  private _state: ConnectionState = 'idle';
  private ws: WebSocketLike | null = null;
  private wsUrl = '';
  private nextUrl: string;
  private session: string | undefined;
  private _welcome: ConnectedInfo | undefined;
  private readonly rooms = new Map<string, Room<S>>();
  /** Rooms sent in the current hello, and whether each carried an offset. */
  private helloRooms = new Map<string, boolean>();
  private readonly pending = new Map<number, Pending>();
  private buffer: Outgoing[] = [];
  private nextId = 1;
  private attempt = 0;
  private quickTrack = false;
  private redirects = 0;
  private noRedirect = false;
  /** The node we lost abnormally (crash, dead link): the next hello names it so nodes stop sending us back there. */
  private lostNode: string | undefined;
  /** The URL of that node: not dialled again while another URL is left. */
  private lostUrl: string | undefined;
  private hint: string | undefined;
  private hintReason = 'redirect';
  private maxPayload = 0;
  private heartbeatMs = 0;
  private lastHeard = 0;
  private openSeq = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private waiters: { resolve: () => void; reject: (e: SwitchyardClientError) => void }[] = [];
  /** Why each URL's last dial failed, since the last welcome (for `error` events and `ready()` timeouts). */
  private readonly dialFailures = new Map<string, string>();
  private fatalError: SwitchyardClientError | undefined;

  constructor(options: ClientOptions) {
    super();
    this.o = resolveOptions(options);
    const WS = this.o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw clientError('CONFIG_INVALID', 'invalid option `WebSocket`: no global WebSocket here; pass one (e.g. `WebSocket` from the ws package)');
    this.WS = WS;
    this.nextUrl = this.o.urls[0] as string;
    this.session = this.o.session;
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this._state;
  }

  /** The session id (after the first welcome). */
  get sessionId(): string | undefined {
    return this.session;
  }

  /** The last welcome's information while connected. */
  get connection(): ConnectedInfo | undefined {
    return this._state === 'connected' ? this._welcome : undefined;
  }

  /** The URL of the current (or last) socket. */
  get url(): string {
    return this.wsUrl;
  }

  /** Frames waiting to be sent until the connection is back. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Starts connecting (idempotent). `createClient` calls it unless `lazy` is set. */
  connect(): void {
    if (this._state !== 'idle') return;
    this.setState('connecting');
    void this.open();
  }

  /**
   * Resolves once connected (at once if connected now); rejects with `CLOSED` if the client
   * closes first, and with `TIMEOUT` (naming every URL tried and why it failed) when
   * `timeoutMs` is given and passes first. The client goes on reconnecting after a timeout.
   */
  ready(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this._state === 'connected') return Promise.resolve();
    if (this._state === 'closed') return Promise.reject(this.fatalError ?? clientError('CLOSED', 'client closed'));
    this.connect();
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs;
      if (timeoutMs === undefined) {
        this.waiters.push({ resolve, reject });
        return;
      }
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: SwitchyardClientError) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const tried = [...this.dialFailures].map(([url, why]) => `${url} (${why})`);
        reject(clientError('TIMEOUT', `not connected within ${timeoutMs} ms${tried.length ? `; tried ${tried.join(', ')}` : ''}; the client keeps retrying (close() stops it)`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The room `name` (get-or-create, never throws): subscribes it if it is not subscribed. */
  room(name: string): Room<S> {
    let room = this.rooms.get(name);
    if (!room) this.rooms.set(name, (room = new Room<S>(name, this)));
    if (this._state !== 'closed') room.join();
    return room;
  }

  /** Rooms this client knows (subscribed or not). */
  get roomNames(): string[] {
    return [...this.rooms.keys()];
  }

  /**
   * Sends a message to the server application (no ack). Buffered while reconnecting.
   * Returns false (and emits `error` with `BUFFER_FULL`, `CLOSED` or `PAYLOAD_TOO_LARGE`) when dropped.
   */
  send<E extends EventName<C>>(event: E, data?: EventData<C, E>): boolean {
    const err = this.out({ t: 'msg', event, data });
    if (err) this.emit('error', err);
    return err === undefined;
  }

  /** Sends a message to the server application and resolves with its reply (the ack's `result`). */
  request<T = unknown, E extends EventName<C> = EventName<C>>(event: E, data?: EventData<C, E>, options: { timeoutMs?: number } = {}): Promise<T> {
    return this.call({ t: 'msg', event, data }, options.timeoutMs) as Promise<T>;
  }

  /** Stops everything: closes the socket with 1000, clears every timer, no reconnect. Idempotent. */
  close(): void {
    if (this._state === 'closed') return;
    const wasConnected = this._state === 'connected';
    this.shutdown(clientError('CLOSED', 'client closed'));
    if (wasConnected) this.emit('disconnected', { code: CloseCode.Normal, reason: 'client closed', willReconnect: false });
  }

  // ---- RoomHost ----

  /** @internal */
  joinRoom(room: RoomHandle): void {
    if (this._state === 'idle' && this.o.lazy) this.connect();
    if (this._state !== 'connected') return; // the next hello carries it
    this.sendJoin(room);
  }

  /** @internal */
  leaveRoom(room: RoomHandle): Promise<void> {
    room.joinSeq++;
    if (this._state !== 'connected') return Promise.resolve();
    return this.call({ t: 'leave', room: room.name }, undefined, true).then(
      () => undefined,
      () => undefined,
    );
  }

  /** @internal */
  publishRoom(room: RoomHandle, event: string | undefined, data: unknown, timeoutMs?: number): Promise<PublishResult> {
    return this.call({ t: 'pub', room: room.name, event, data }, timeoutMs).then((r) => {
      const { offset, epoch } = (r ?? {}) as { offset?: unknown; epoch?: unknown };
      if (typeof offset !== 'number') return {};
      return typeof epoch === 'string' ? { offset, epoch } : { offset };
    });
  }

  /** @internal */
  replayRoom(room: RoomHandle, offset: number, epoch: string | undefined): void {
    if (this._state !== 'connected') return; // the resume replays from the room's offset anyway
    this.o.logger?.debug({ room: room.name, offset }, 'switchyard client: asking for a replay of a hole');
    this.call({ t: 'join', room: room.name, offset, ...(epoch !== undefined ? { epoch } : {}) }, undefined, true).catch(() => undefined);
  }

  /** @internal */
  roomMessage(m: ClientMessage): void {
    this.emit('message', m as ClientMessage<S>);
  }

  /** @internal */
  roomGap(g: GapInfo): void {
    this.o.logger?.warn({ ...g }, 'switchyard client: room messages lost');
    this.emit('gap', g);
  }

  /** @internal */
  get holeTimeoutMs(): number {
    return this.o.holeTimeoutMs;
  }

  // ---- sending ----

  private call(frame: Record<string, unknown>, timeoutMs = this.o.ackTimeoutMs, internal = false): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const p: Pending = { resolve, reject, sent: false, internal };
      this.pending.set(id, p);
      if (!internal) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(clientError('TIMEOUT', `no ack within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      const err = this.out({ ...frame, id }, id);
      if (err) {
        this.settle(id);
        if (err.code === 'BUFFER_FULL') this.emit('error', err);
        reject(err);
      }
    });
  }

  /** Sends now when connected, else buffers; returns the error when the frame is dropped. */
  private out(frame: Record<string, unknown>, id?: number): SwitchyardClientError | undefined {
    if (this._state === 'closed') return clientError('CLOSED', 'client closed');
    if (this._state === 'idle' && this.o.lazy) this.connect();
    const text = JSON.stringify(frame);
    if (this.tooLarge(text)) return clientError('PAYLOAD_TOO_LARGE', `frame of ${text.length} characters exceeds the server's maxPayload ${this.maxPayload}`);
    if (this._state === 'connected' && this.ws) {
      this.write(text, id);
      return undefined;
    }
    if (this.buffer.length >= this.o.bufferSize) return clientError('BUFFER_FULL', `send buffer full (${this.o.bufferSize} frames) while not connected`);
    this.buffer.push(id === undefined ? { text } : { text, id });
    return undefined;
  }

  private tooLarge(text: string): boolean {
    if (this.maxPayload <= 0 || text.length * 3 <= this.maxPayload) return false;
    return new TextEncoder().encode(text).length > this.maxPayload;
  }

  private write(text: string, id?: number): void {
    if (id !== undefined) {
      const p = this.pending.get(id);
      if (!p) return; // timed out while buffered
      p.sent = true;
    }
    try {
      this.ws?.send(text);
    } catch (err) {
      this.o.logger?.warn({ err }, 'switchyard client: send failed');
    }
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    if (p.timer !== undefined) clearTimeout(p.timer);
    return p;
  }

  private sendJoin(room: RoomHandle): void {
    const seq = ++room.joinSeq;
    const pos = room.position();
    const asked = pos.offset !== undefined;
    this.call({ t: 'join', room: room.name, ...pos }, undefined, true).then(
      (result) => {
        if (room.joinSeq === seq) room.confirmed(isRecord(result) ? (result as RoomResult) : {}, asked);
      },
      (err: SwitchyardClientError) => {
        if (room.joinSeq === seq && err.code === 'BACKEND_ERROR') room.refused(err);
      },
    );
  }

  // ---- connecting ----

  private async open(): Promise<void> {
    const seq = ++this.openSeq;
    const url = this.nextUrl;
    let token: string | undefined;
    let params: Record<string, unknown> | undefined;
    try {
      // one microtask first: rooms asked for right after createClient() go in this hello
      await undefined;
      token = this.o.getToken ? await this.o.getToken() : this.o.token;
      params = typeof this.o.params === 'function' ? await this.o.params() : this.o.params;
    } catch (cause) {
      if (seq !== this.openSeq || this._state === 'closed') return;
      this.emit('error', clientError('NOT_CONNECTED', 'getToken or params failed', { cause }));
      this.lost(CloseCode.Abnormal, 'getToken or params failed', false);
      return;
    }
    if (seq !== this.openSeq || this._state === 'closed') return;
    // The hello is made before the dial: it travels in the upgrade (the early hello) when it fits
    // and the option allows, else as the first frame. Rooms added or left meanwhile are settled
    // at the welcome (joined, or left), as for a hello frame.
    const rooms: Record<string, RoomPosition> = {};
    this.helloRooms = new Map();
    for (const room of this.rooms.values()) {
      if (room.state === 'unsubscribed') continue;
      const pos = room.position();
      rooms[room.name] = pos;
      this.helloRooms.set(room.name, pos.offset !== undefined);
    }
    const fields: Record<string, unknown> = { t: 'hello', v: PROTOCOL_VERSION, rooms, caps: CAPS };
    if (this.session !== undefined) fields.session = this.session;
    if (token !== undefined) fields.token = token;
    if (params !== undefined) fields.params = params;
    if (this.noRedirect) fields.noRedirect = true;
    if (this.lostNode !== undefined) fields.lost = this.lostNode;
    const hello = JSON.stringify(fields);
    this.wsUrl = url;
    this.emit('connecting', { url, attempt: this.attempt });
    let ws: WebSocketLike;
    try {
      const target = token !== undefined && this.o.tokenInQuery ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url;
      ws = new this.WS(target, this.o.earlyHello ? offeredSubprotocols(SUBPROTOCOL, hello) : SUBPROTOCOL);
    } catch (cause) {
      this.emit('error', clientError('NOT_CONNECTED', `cannot open ${url}`, { cause }));
      this.lost(CloseCode.Abnormal, 'cannot open socket', false);
      return;
    }
    this.ws = ws;
    this.lastHeard = Date.now();
    let opened = false;
    let dialError: unknown;
    this.handshakeTimer = setTimeout(() => {
      this.dialFailed(url, opened ? `no welcome within ${this.o.handshakeTimeoutMs} ms` : `no answer within ${this.o.handshakeTimeoutMs} ms`);
      this.drop(ws, CloseCode.HeartbeatTimeout, 'no welcome in time', false);
    }, this.o.handshakeTimeoutMs);
    ws.onopen = () => {
      opened = true;
      // a node that took the hello from the upgrade says so by its subprotocol; any other sends it now
      if (ws.protocol !== EARLY_SUBPROTOCOL) ws.send(hello);
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      this.onText(ws, ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.detach(ws);
      if (this._state !== 'connected' && !opened) this.dialFailed(url, describeDialError(dialError, ev.code));
      this.lost(ev.code, ev.reason ?? '', QUICK_RETRY_CLOSE_CODES.includes(ev.code));
    };
    ws.onerror = (ev) => {
      dialError = ev; // a close event follows
    };
  }

  /** A dial that never reached the server's welcome: say where and why (`error`), and remember it for `ready()`. */
  private dialFailed(url: string, why: string): void {
    this.dialFailures.set(url, why);
    this.emit('error', clientError('NOT_CONNECTED', `cannot connect to ${url}: ${why} (attempt ${this.attempt + 1}; retrying with backoff)`));
  }

  private onText(ws: WebSocketLike, data: unknown): void {
    const parsed = parseServerFrame(data);
    if (!parsed.ok) {
      this.emit('error', clientError('ENVELOPE_INVALID', `bad frame from the server: ${parsed.reason}`));
      return;
    }
    const f = parsed.frame as ServerFrame;
    switch (f.t) {
      case 'msg':
        return this.onMsg(f);
      case 'batch':
        for (const m of f.m) this.onMsg(m);
        return;
      case 'msgs':
        return this.onMsgs(f);
      case 'gap':
        this.rooms.get(f.room)?.gapFrame(f);
        return;
      case 'ping':
        if (ws.readyState === 1) ws.send('{"t":"pong"}');
        return;
      case 'ack':
        return this.onAck(f);
      case 'error': {
        const err = clientError('BACKEND_ERROR', `server error ${f.code}: ${f.message}`, { serverCode: f.code, serverMessage: f.message });
        const p = f.id === undefined ? undefined : this.settle(f.id);
        if (p) p.reject(err);
        else this.emit('error', err);
        return;
      }
      case 'redirect':
        if (!isWsUrl(f.url)) return;
        this.hint = f.url;
        this.hintReason = f.reason ?? 'redirect';
        // before welcome a redirect means "not here": go now, without waiting for the 4300 close
        if (this._state !== 'connected') this.drop(ws, CloseCode.Redirect, f.url, false);
        return;
      case 'welcome':
        return this.onWelcome(f);
      default:
        return; // pong and frame types this SDK does not know
    }
  }

  private onAck(f: AckFrame): void {
    const p = this.settle(f.id);
    if (!p) return;
    if (f.ok) p.resolve(f.result);
    else {
      const code = f.error?.code ?? 'error';
      const message = f.error?.message ?? '';
      // `refused`: the application's own words, which say enough without the code
      const text = code === 'refused' ? `refused: ${message}` : `refused: ${code}${message ? `: ${message}` : ''}`;
      p.reject(clientError('BACKEND_ERROR', text, { serverCode: code, serverMessage: message }));
    }
  }

  /** A compact batch: each element as the `msg` frame it stands for (room, epoch and offsets filled in), in order. */
  private onMsgs(f: MsgsFrame): void {
    // offset of the element before (undefined: none yet)
    let last: number | undefined;
    for (const it of f.m) {
      const m: MsgFrame = { t: 'msg', event: it.event, data: it.data, room: f.room, from: it.from };
      const o = it.o ?? (last === undefined ? f.o : last + 1);
      if (o !== undefined) {
        // the first element's predecessor is the frame's `po` (absent: o - 1); a later one's, the element before
        const prev = last ?? f.po;
        m.o = o;
        m.e = f.e;
        if (prev !== undefined && prev !== o - 1) m.po = prev;
        last = o;
      }
      this.onMsg(m);
    }
  }

  private onMsg(m: MsgFrame): void {
    const out: ClientMessage = { event: m.event, data: m.data };
    if (m.room !== undefined) out.room = m.room;
    if (m.o !== undefined) out.offset = m.o;
    if (m.e !== undefined) out.epoch = m.e;
    if (m.from !== undefined) out.from = m.from;
    const room = m.room === undefined ? undefined : this.rooms.get(m.room);
    // the server is trusted to send what the map says: the SDK does not validate application data
    const typed = out as ClientMessage<S>;
    if (room) room.receive(m, typed);
    else this.emit('message', typed);
  }

  private onWelcome(f: WelcomeFrame): void {
    if (this._state === 'connected') return;
    clearTimeout(this.handshakeTimer);
    this.dialFailures.clear();
    this.session = f.session;
    this.attempt = 0;
    this.quickTrack = false;
    this.redirects = 0;
    this.noRedirect = false;
    this.lostNode = undefined;
    this.lostUrl = undefined;
    this.hint = undefined;
    this.maxPayload = f.maxPayload;
    this.heartbeatMs = f.heartbeatMs;
    let recovered = true;
    const result = (name: string): RoomResult | undefined => (Object.hasOwn(f.rooms, name) ? f.rooms[name] : undefined);
    for (const [name, asked] of this.helloRooms) {
      const r = result(name);
      if (asked && (!r || r.error || r.recovered === false || r.gap === true)) recovered = false;
    }
    this._welcome = {
      url: this.wsUrl,
      session: f.session,
      conn: f.conn,
      node: f.node,
      resumed: f.resumed,
      recovered,
      heartbeatMs: f.heartbeatMs,
      maxPayload: f.maxPayload,
      rooms: f.rooms,
    };
    if (f.user !== undefined) this._welcome.user = f.user;
    this.setState('connected');
    this.armWatchdog();
    // rooms: confirm what the server re-joined, join the rest, leave what we no longer want
    for (const room of this.rooms.values()) {
      if (room.state !== 'subscribing') continue;
      const r = result(room.name);
      if (r?.error) room.refused(clientError('BACKEND_ERROR', `join refused: ${r.error.code}${r.error.message ? `: ${r.error.message}` : ''}`, { serverCode: r.error.code }));
      else if (r && this.helloRooms.has(room.name)) room.confirmed(r, this.helloRooms.get(room.name) === true);
      else this.sendJoin(room);
    }
    for (const name of Object.keys(f.rooms)) {
      const room = this.rooms.get(name);
      if (room && room.state === 'unsubscribed' && !result(name)?.error) this.call({ t: 'leave', room: name }, undefined, true).catch(() => undefined);
    }
    const queued = this.buffer;
    this.buffer = [];
    for (const item of queued) {
      if (this.tooLarge(item.text)) {
        const p = item.id === undefined ? undefined : this.settle(item.id);
        const err = clientError('PAYLOAD_TOO_LARGE', `buffered frame exceeds the server's maxPayload ${this.maxPayload}`);
        if (p) p.reject(err);
        else this.emit('error', err);
        continue;
      }
      this.write(item.text, item.id);
    }
    this.emit('connected', this._welcome);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    if (this.heartbeatMs <= 0) return;
    const limit = 2 * this.heartbeatMs;
    const ws = this.ws;
    const check = () => {
      if (this.ws !== ws || !ws) return;
      const idle = Date.now() - this.lastHeard;
      if (idle >= limit) this.drop(ws, CloseCode.HeartbeatTimeout, `nothing heard for ${idle} ms`, true);
      else this.watchdog = setTimeout(check, limit - idle);
    };
    this.watchdog = setTimeout(check, limit);
  }

  /** Gives up on a socket ourselves (handshake timeout, dead connection, redirect frame). */
  private drop(ws: WebSocketLike, code: number, reason: string, quick: boolean): void {
    if (this.ws !== ws) return;
    this.detach(ws);
    try {
      ws.close(CloseCode.Normal);
    } catch {
      // already closing
    }
    this.lost(code, reason, quick);
  }

  private detach(ws: WebSocketLike): void {
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => undefined;
    if (this.ws === ws) this.ws = null;
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.watchdog);
  }

  /** A socket ended (or an attempt failed): decide whether and where to reconnect. */
  private lost(code: number, reason: string, quick: boolean): void {
    if (this._state === 'closed') return;
    const wasConnected = this._state === 'connected';
    if (wasConnected && (code === CloseCode.Abnormal || code === CloseCode.HeartbeatTimeout || code === CloseCode.Fenced)) {
      this.lostNode = this._welcome?.node;
      this.lostUrl = this.wsUrl;
    }
    this._welcome = undefined;
    for (const [id, p] of this.pending) {
      if (!p.sent) continue;
      this.settle(id);
      p.reject(clientError('NOT_CONNECTED', 'connection lost before the ack (the frame may or may not have been processed)'));
    }
    for (const room of this.rooms.values()) room.lost();

    const fatal = this.o.isFatal ? this.o.isFatal({ code, reason }) : FATAL_CLOSE_CODES.includes(code);
    if (fatal) {
      this.emit('disconnected', { code, reason, willReconnect: false });
      const err = clientError('CLOSED', `connection closed with fatal code ${code}${reason ? ` (${reason})` : ''}`, { closeCode: code });
      this.emit('error', err);
      this.shutdown(err);
      return;
    }

    let delay: number;
    if (code === CloseCode.Redirect && (isWsUrl(reason) || this.hint)) {
      const target = isWsUrl(reason) ? reason : (this.hint as string);
      this.hint = undefined;
      this.redirects++;
      if (this.redirects > this.o.maxRedirects) {
        this.noRedirect = true; // stay where we are
        this.nextUrl = this.wsUrl || this.nextUrl;
      } else {
        this.nextUrl = target;
        this.emit('redirect', { url: target, reason: this.hintReason, count: this.redirects });
        this.hintReason = 'redirect';
      }
      delay = 0;
    } else {
      if (wasConnected) this.quickTrack = quick;
      const hinted = code === CloseCode.ServiceRestart && isWsUrl(reason) ? reason : this.hint;
      this.hint = undefined;
      this.nextUrl = hinted ?? this.rotate();
      delay = backoffDelay(this.attempt, this.quickTrack, this.o.reconnect, this.o.random);
      this.attempt++;
    }
    this.emit('disconnected', { code, reason, willReconnect: true, delayMs: delay });
    if ((this._state as ConnectionState) === 'closed') return; // a listener closed the client: no reconnect, no timer
    if (this._state === 'connected') this.setState('reconnecting');
    this.o.logger?.debug({ code, reason, delay, url: this.nextUrl }, 'switchyard client: reconnecting');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.open();
    }, delay);
  }

  /**
   * The URL to try after a failure: a random one of the others (the same one when there is only
   * one), never the node just lost while another is left. Random, not the next in the list: the
   * clients of a crashed node share one list order, and would otherwise all land on the same
   * survivor at once and queue behind each other there.
   */
  private rotate(): string {
    const urls = this.o.urls;
    if (urls.length === 1) return urls[0] as string;
    let candidates = urls.filter((u) => u !== this.wsUrl && u !== this.lostUrl);
    if (candidates.length === 0) candidates = urls.filter((u) => u !== this.wsUrl);
    if (candidates.length === 0) candidates = urls;
    return candidates[Math.min(candidates.length - 1, Math.floor(this.o.random() * candidates.length))] as string;
  }

  private shutdown(err: SwitchyardClientError): void {
    this.fatalError = err.code === 'CLOSED' && err.closeCode !== undefined ? err : undefined;
    this.openSeq++;
    clearTimeout(this.retryTimer);
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.watchdog);
    const ws = this.ws;
    if (ws) {
      this.detach(ws);
      try {
        ws.close(CloseCode.Normal, 'client closed');
      } catch {
        // already closing
      }
    }
    this._welcome = undefined;
    this.setState('closed');
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(err);
    this.buffer = [];
    for (const room of this.rooms.values()) room.lost(true);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }

  private setState(to: ConnectionState): void {
    const from = this._state;
    if (from === to) return;
    this._state = to;
    this.emit('state', { from, to });
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Creates a client. Unless `lazy` is set it starts connecting at once; with `lazy` the first
 * `room()`, `send()`, `request()` or `ready()` connects.
 */
export function createClient<S extends EventMap = AnyEvents, C extends EventMap = AnyEvents>(options: ClientOptions): SwitchyardClient<S, C> {
  const client = new SwitchyardClient<S, C>(options);
  if (options.lazy !== true) client.connect();
  return client;
}

/**
 * Plain words for a failed dial. Node's `ws` puts the socket error on the error event
 * (`ECONNREFUSED`, `ENOTFOUND`, an HTTP status); browsers say nothing beyond the close code.
 */
function describeDialError(ev: unknown, closeCode: number): string {
  const err = (ev as { error?: unknown } | undefined)?.error ?? ev;
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = (err as { message?: unknown } | undefined)?.message ?? (ev as { message?: unknown } | undefined)?.message;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the server running on that port?)',
    ENOTFOUND: 'host not found (check the host name)',
    EAI_AGAIN: 'host name lookup failed (check DNS or the host name)',
    ETIMEDOUT: 'timed out (is the host reachable?)',
    ECONNRESET: 'connection reset by the server or a proxy',
    EHOSTUNREACH: 'host unreachable',
  };
  if (typeof code === 'string' && words[code]) return `${words[code]} [${code}]`;
  if (typeof message === 'string' && message) return message;
  return `closed before the handshake (close code ${closeCode})`;
}
