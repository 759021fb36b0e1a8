/**
 * Frames of protocol v1 as the client sees them, and small hand-written checks for what
 * the server sends (the SDK carries no validation library). Unknown fields are ignored.
 */

/** Per-room resume state, in `hello.rooms` and `welcome.rooms`. */
export interface RoomPosition {
  offset?: number;
  epoch?: string;
}

/** What the server says about a room after a join or resume. */
export interface RoomResult extends RoomPosition {
  room?: string;
  /** The room keeps history (offsets are meaningful). */
  history?: boolean;
  recovered?: boolean;
  gap?: boolean;
  /** With `gap`: why the resume position was refused (`ahead`: beyond the room's head, which `offset` gives). */
  reason?: string;
  /** In `welcome` only: the join hook refused the room. */
  error?: { code: string; message?: string };
}

export interface MsgFrame {
  t: 'msg';
  event?: string;
  data?: unknown;
  room?: string;
  o?: number;
  e?: string;
  /** Offset of the previous message this socket got in the room, when it is not `o - 1`. */
  po?: number;
  from?: string;
}
/**
 * Messages of `room` will not come: with history, those with offsets in (`from`, `to`] of epoch
 * `e` (`to` absent: the rest of that epoch); without history (`reason` lost), at least one.
 */
export interface GapFrame {
  t: 'gap';
  room: string;
  reason: string;
  e?: string;
  from?: number;
  to?: number;
}
export interface BatchFrame {
  t: 'batch';
  m: MsgFrame[];
}
export interface WelcomeFrame {
  t: 'welcome';
  v: number;
  session: string;
  conn: string;
  node: string;
  user?: string;
  resumed: boolean;
  heartbeatMs: number;
  maxPayload: number;
  rooms: Record<string, RoomResult>;
}
export interface AckFrame {
  t: 'ack';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}
export interface ErrorFrame {
  t: 'error';
  code: string;
  message: string;
  id?: number;
}
export interface RedirectFrame {
  t: 'redirect';
  url: string;
  reason?: string;
}
export interface PingFrame {
  t: 'ping' | 'pong';
}

export type ServerFrame = MsgFrame | BatchFrame | GapFrame | WelcomeFrame | AckFrame | ErrorFrame | RedirectFrame | PingFrame;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const optStr = (v: unknown) => v === undefined || typeof v === 'string';
const optBool = (v: unknown) => v === undefined || typeof v === 'boolean';
const isOffset = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const optOffset = (v: unknown) => v === undefined || isOffset(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

const validMsg = (f: Obj) => optStr(f.event) && optStr(f.room) && optOffset(f.o) && optStr(f.e) && optOffset(f.po) && optStr(f.from);
const validError = (e: unknown) => e === undefined || (isObj(e) && typeof e.code === 'string' && optStr(e.message));
const validRoomResult = (r: unknown) => isObj(r) && optOffset(r.offset) && optStr(r.epoch) && optBool(r.history) && optBool(r.recovered) && optBool(r.gap) && optStr(r.reason) && validError(r.error);

function valid(f: Obj): boolean {
  switch (f.t) {
    case 'msg':
      return validMsg(f);
    case 'gap':
      return typeof f.room === 'string' && typeof f.reason === 'string' && optStr(f.e) && optOffset(f.from) && optOffset(f.to);
    case 'batch':
      return Array.isArray(f.m) && f.m.every((m) => isObj(m) && (m.t === undefined || m.t === 'msg') && validMsg(m));
    case 'welcome':
      return (
        typeof f.session === 'string' &&
        optStr(f.conn) &&
        optStr(f.node) &&
        optStr(f.user) &&
        optBool(f.resumed) &&
        (f.heartbeatMs === undefined || (typeof f.heartbeatMs === 'number' && f.heartbeatMs >= 0)) &&
        (f.maxPayload === undefined || (typeof f.maxPayload === 'number' && f.maxPayload > 0)) &&
        (f.rooms === undefined || (isObj(f.rooms) && Object.values(f.rooms).every(validRoomResult)))
      );
    case 'ack':
      return isId(f.id) && typeof f.ok === 'boolean' && validError(f.error);
    case 'error':
      return typeof f.code === 'string' && optStr(f.message) && (f.id === undefined || isId(f.id));
    case 'redirect':
      return typeof f.url === 'string' && optStr(f.reason);
    default:
      return true; // ping, pong and types this SDK does not know yet (ignored by the caller)
  }
}

/** The outcome of reading one WebSocket text frame. */
export type ParseResult = { ok: true; frame: ServerFrame | { t: string } } | { ok: false; reason: string };

/** Parses and checks one frame from the server; never throws. */
export function parseServerFrame(text: unknown): ParseResult {
  if (typeof text !== 'string') return { ok: false, reason: 'binary frame' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed JSON' };
  }
  if (!isObj(value) || typeof value.t !== 'string') return { ok: false, reason: 'not an object with a string `t`' };
  if (!valid(value)) return { ok: false, reason: `invalid \`${value.t}\` frame` };
  if (value.t === 'welcome') {
    value.rooms ??= {};
    value.heartbeatMs ??= 0;
    value.maxPayload ??= 0;
    value.resumed ??= false;
  }
  return { ok: true, frame: value as unknown as ServerFrame };
}

/** Whether a redirect or hint target is a WebSocket URL the SDK may follow. */
export function isWsUrl(s: unknown): s is string {
  return typeof s === 'string' && /^wss?:\/\/[^\s]+$/i.test(s);
}
