/**
 * The frames a node sends, once for both sides: their types, the node's encoders and the
 * SDK's decoder (`parseServerFrame`). No dependencies: the SDK carries no validation library,
 * so the decoder is a few hand-written checks. A reader ignores fields it does not know.
 */
import { PROTOCOL_VERSION } from './version.js';

// ---------------------------------------------------------------- vocabulary

/** The `code` of an `error` frame, of a refused `ack` and of a room refused in `welcome`. */
export type ErrorCode = 'bad_frame' | 'unknown_type' | 'too_large' | 'rate_limited' | 'forbidden' | 'not_in_room' | 'unsupported_version' | 'unavailable' | 'refused' | 'internal';

/** Why a client is told that messages are gone. */
export type GapReason = 'trimmed' | 'epoch' | 'unavailable' | 'malformed' | 'max_replay' | 'ahead' | 'lost';

/** Why a node sends a client elsewhere (`redirect.reason`). */
export type RedirectReason = 'affinity' | 'balancer' | 'rebalance' | 'draining';

export type Priority = 'high' | 'normal' | 'low';

/** What a delivered message carries between nodes (the envelope's `data`), and what history stores. */
export interface WireMessage {
  event?: string;
  data: unknown;
  /** Publishing connection, for client publishes. */
  from?: string;
  /** Send-queue priority on the receiving sockets. */
  p?: Priority;
}

/** Per-room resume state, in `hello.rooms` and `welcome.rooms`. */
export interface RoomPosition {
  offset?: number;
  epoch?: string;
}

/** Room entry of `welcome` and of a `join` ack, as a node writes it. */
export interface RoomState {
  room?: string;
  offset: number;
  epoch?: string;
  history: boolean;
  recovered: boolean;
  gap: boolean;
  /** With `gap`, when the resume offset was refused: `ahead` (beyond the room's head; `offset` is the head). */
  reason?: GapReason;
  error?: { code: ErrorCode; message: string };
}

/**
 * What the server says about a room after a join or resume, as the SDK reads it: a
 * {@link RoomState} with every field optional and the codes open (a later node may add some).
 */
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

// ---------------------------------------------------------------- frames (as the SDK reads them)

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
/**
 * A compact batch, for clients whose hello listed {@link MSGS_CAP}: messages of one room (or, with
 * no `room`, to everyone) with what they share said once. `o` is the first message's offset and
 * `po` its predecessor's (when not `o - 1`); each later message follows the one before it
 * (offset + 1) unless it carries its own `o`.
 */
export interface MsgsFrame {
  t: 'msgs';
  room?: string;
  e?: string;
  o?: number;
  po?: number;
  m: Array<{ event?: string; data?: unknown; from?: string; o?: number }>;
}
/** The hello capability that asks for {@link MsgsFrame}s instead of `batch` frames of room messages. */
export const MSGS_CAP = 'msgs';
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

export type ServerFrame = MsgFrame | BatchFrame | MsgsFrame | GapFrame | WelcomeFrame | AckFrame | ErrorFrame | RedirectFrame | PingFrame;

// ---------------------------------------------------------------- encoders (the node)

/**
 * Encode a `msg` frame once; the same string goes to every target socket. `prev` (the offset
 * before this one in the room's stream) is written as `po` only when it is not `offset - 1`.
 */
export function encodeMsg(m: WireMessage, room?: string, offset?: number, epoch?: string, prev?: number): string {
  return JSON.stringify({
    t: 'msg',
    ...(m.event !== undefined ? { event: m.event } : {}),
    data: m.data === undefined ? null : m.data,
    ...(room !== undefined ? { room } : {}),
    ...(offset !== undefined ? { o: offset } : {}),
    ...(epoch !== undefined ? { e: epoch } : {}),
    ...(offset !== undefined && prev !== undefined && prev !== offset - 1 ? { po: prev } : {}),
    ...(m.from !== undefined ? { from: m.from } : {}),
  });
}

/**
 * A `gap` frame: the room's messages with offsets in (`from`, `to`] of epoch `e` will never be
 * delivered (`to` absent: everything after `from` in that epoch). For a room without history
 * (`lost`) it carries no offsets: at least one message was lost.
 */
export function encodeGap(room: string, reason: GapReason, at?: { epoch: string | undefined; from: number; to?: number | undefined }): string {
  return JSON.stringify({
    t: 'gap',
    room,
    reason,
    ...(at?.epoch !== undefined ? { e: at.epoch } : {}),
    ...(at ? { from: at.from } : {}),
    ...(at?.to !== undefined ? { to: at.to } : {}),
  });
}

/** Join already-encoded `msg` frames into one `batch` frame without re-encoding them. */
export const encodeBatch = (frames: readonly string[]): string => `{"t":"batch","m":[${frames.join(',')}]}`;

/** One message of a `msgs` frame without its offset: `{"event":..,"data":..,"from":..}`. */
export const encodeMsgsItem = (m: WireMessage): string =>
  `{${m.event !== undefined ? `"event":${JSON.stringify(m.event)},` : ''}"data":${JSON.stringify(m.data === undefined ? null : m.data)}${m.from !== undefined ? `,"from":${JSON.stringify(m.from)}` : ''}}`;

/**
 * A `msgs` frame from items encoded by {@link encodeMsgsItem}. For a room with history, `offsets`
 * gives each item's offset and `prev` the first one's predecessor; an item whose offset is not
 * the previous one's + 1 gets its own `o` (spliced into its encoding).
 */
export function encodeMsgs(room: string | undefined, items: readonly string[], at?: { epoch: string; prev: number; offsets: readonly number[] }): string {
  let head = '{"t":"msgs"';
  if (room !== undefined) head += `,"room":${JSON.stringify(room)}`;
  if (!at) return `${head},"m":[${items.join(',')}]}`;
  const first = at.offsets[0] as number;
  head += `,"e":${JSON.stringify(at.epoch)},"o":${first}`;
  if (at.prev !== first - 1) head += `,"po":${at.prev}`;
  let body = items[0] as string;
  for (let i = 1; i < items.length; i++) {
    const o = at.offsets[i] as number;
    const item = items[i] as string;
    body += o === (at.offsets[i - 1] as number) + 1 ? `,${item}` : `,{"o":${o},${item.slice(1)}`;
  }
  return `${head},"m":[${body}]}`;
}

export const encodeAck = (id: number, result?: unknown): string => JSON.stringify(result === undefined ? { t: 'ack', id, ok: true } : { t: 'ack', id, ok: true, result });
export const encodeNack = (id: number, code: ErrorCode, message: string): string => JSON.stringify({ t: 'ack', id, ok: false, error: { code, message } });
export const encodeError = (code: ErrorCode, message: string, id?: number): string => JSON.stringify(id === undefined ? { t: 'error', code, message } : { t: 'error', code, message, id });
export const encodeRedirect = (url: string, reason: RedirectReason): string => JSON.stringify({ t: 'redirect', url, reason });
export const PING = '{"t":"ping"}';
export const PONG = '{"t":"pong"}';

/** What a node writes in `welcome`, besides `t` and `v`. */
export interface WelcomeFields {
  session: string;
  conn: string;
  node: string;
  user?: string | undefined;
  resumed: boolean;
  heartbeatMs: number;
  maxPayload: number;
  rooms: Record<string, RoomState>;
}
export const encodeWelcome = (w: WelcomeFields): string => JSON.stringify({ t: 'welcome', v: PROTOCOL_VERSION, ...w });

// ---------------------------------------------------------------- decoder (the SDK)

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
    case 'msgs':
      return optStr(f.room) && optStr(f.e) && optOffset(f.o) && optOffset(f.po) && Array.isArray(f.m) && f.m.every((m) => isObj(m) && optStr(m.event) && optStr(m.from) && optOffset(m.o));
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

/** The outcome of reading one WebSocket text frame from a node. */
export type ParsedServerFrame = { ok: true; frame: ServerFrame | { t: string } } | { ok: false; reason: string };

/** Parses and checks one frame from the server; never throws. */
export function parseServerFrame(text: unknown): ParsedServerFrame {
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
