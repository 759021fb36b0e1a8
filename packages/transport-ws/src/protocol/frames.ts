import { z } from 'zod';

import { PROTOCOL_VERSION, SUBPROTOCOL } from '../client/close-codes.js';

/** Wire protocol version this build speaks (shared with the SDK). */
export const WIRE_VERSION = PROTOCOL_VERSION;
export { SUBPROTOCOL };

/** Names a room may not have: they collide with JavaScript object internals in clients. */
export const RESERVED_ROOM_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * Room names: 1 to 128 of A-Z a-z 0-9 _ - . : @ /, not `__proto__`, `constructor` or `prototype`.
 * The messages do not name the field: a bad frame's message puts its path first (`room: ...`).
 */
export const roomName = z
  .string()
  .regex(/^[A-Za-z0-9_.:@/-]{1,128}$/, '1 to 128 characters from A-Z a-z 0-9 _ - . : @ /')
  .refine((r) => !RESERVED_ROOM_NAMES.has(r), '__proto__, constructor and prototype are reserved');
const eventName = z.string().min(1).max(128);
const requestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const cursor = z.object({ offset: z.number().int().min(0).optional(), epoch: z.string().max(128).optional() });

export const helloFrame = z.object({
  t: z.literal('hello'),
  v: z.number().int(),
  session: z.string().min(1).max(128).optional(),
  token: z.string().min(1).max(8192).optional(),
  /** Rooms to (re)join with their resume positions. Names are checked one by one: a bad one gets an error in `welcome`, not a refused hello. */
  rooms: z.record(z.string(), cursor).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  noRedirect: z.boolean().optional(),
  /** The node this client lost abnormally (crash, dead link): never redirect it back there. */
  lost: z.string().min(1).max(128).optional(),
});
export const joinFrame = z.object({ t: z.literal('join'), id: requestId.optional(), room: roomName, offset: z.number().int().min(0).optional(), epoch: z.string().max(128).optional() });
export const leaveFrame = z.object({ t: z.literal('leave'), id: requestId.optional(), room: roomName });
export const pubFrame = z.object({ t: z.literal('pub'), id: requestId.optional(), room: roomName, event: eventName.optional(), data: z.unknown().optional() });
export const msgFrame = z.object({ t: z.literal('msg'), id: requestId.optional(), event: eventName.optional(), data: z.unknown().optional() });
export const pingFrame = z.object({ t: z.literal('ping') });
export const pongFrame = z.object({ t: z.literal('pong') });

/** Every frame a client may send, by its `t`. */
export const clientFrame = z.discriminatedUnion('t', [helloFrame, joinFrame, leaveFrame, pubFrame, msgFrame, pingFrame, pongFrame]);
export type ClientFrame = z.infer<typeof clientFrame>;
export type HelloFrame = z.infer<typeof helloFrame>;
export type JoinFrame = z.infer<typeof joinFrame>;
export type PubFrame = z.infer<typeof pubFrame>;
export type MsgFrame = z.infer<typeof msgFrame>;

const KNOWN = new Set(['hello', 'join', 'leave', 'pub', 'msg', 'ping', 'pong']);

export type ErrorCode = 'bad_frame' | 'unknown_type' | 'too_large' | 'rate_limited' | 'forbidden' | 'not_in_room' | 'unsupported_version' | 'unavailable' | 'refused' | 'internal';

export type ParseResult =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: 'bad_frame' | 'unknown_type'; reason: 'bad_json' | 'unknown_type' | 'bad_fields' | 'too_deep'; message: string; id?: number };

/** Deepest nesting of arrays and objects in a frame by default (a deeper frame is a `bad_frame`). */
export const DEFAULT_MAX_DEPTH = 64;

/** True when the JSON text nests arrays/objects deeper than `max` (strings are skipped). Linear, no recursion. */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** Parse and validate one text frame from a client. Never throws. */
export function parseClientFrame(text: string, maxDepth = DEFAULT_MAX_DEPTH): ParseResult {
  // A frame nested thousands deep parses, but re-encoding it (publish, history) overflows the stack.
  if (nestedDeeperThan(text, maxDepth)) return { ok: false, code: 'bad_frame', reason: 'too_deep', message: `frame nests deeper than ${maxDepth} levels` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'bad_frame', reason: 'bad_json', message: 'frame is not valid JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, code: 'bad_frame', reason: 'bad_fields', message: 'frame must be a JSON object' };
  const o = raw as Record<string, unknown>;
  const id = typeof o.id === 'number' && Number.isSafeInteger(o.id) && o.id >= 0 ? o.id : undefined;
  if (typeof o.t !== 'string' || !KNOWN.has(o.t)) {
    return { ok: false, code: 'unknown_type', reason: 'unknown_type', message: `unknown frame type ${JSON.stringify(o.t)?.slice(0, 40) ?? 'undefined'}`, ...(id !== undefined ? { id } : {}) };
  }
  const parsed = clientFrame.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : o.t;
    return { ok: false, code: 'bad_frame', reason: 'bad_fields', message: `${where}: ${issue?.message ?? 'invalid'}`, ...(id !== undefined ? { id } : {}) };
  }
  const frame = parsed.data;
  // zod's record drops an own `__proto__` key; take the rooms as sent (checked one by one in the hello)
  if (frame.t === 'hello' && frame.rooms) frame.rooms = ownEntries(o.rooms as Record<string, unknown>, frame.rooms);
  return { ok: true, frame };
}

/** The hello's rooms as the client sent them, in a null-prototype object (so `__proto__` is a key like any other). */
function ownEntries(raw: Record<string, unknown>, parsed: Record<string, z.infer<typeof cursor>>): Record<string, z.infer<typeof cursor>> {
  const out = Object.create(null) as Record<string, z.infer<typeof cursor>>;
  for (const [k, v] of Object.entries(raw)) {
    if (Object.hasOwn(parsed, k)) out[k] = parsed[k] as z.infer<typeof cursor>;
    else {
      const c = cursor.safeParse(v);
      out[k] = c.success ? c.data : {};
    }
  }
  return out;
}

/** Room entry of `welcome` and of a `join` ack. */
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

/** What a delivered message carries between nodes (the envelope's `data`), and what history stores. */
export interface WireMessage {
  event?: string;
  data: unknown;
  /** Publishing connection, for client publishes. */
  from?: string;
  /** Send-queue priority on the receiving sockets. */
  p?: Priority;
}

export type Priority = 'high' | 'normal' | 'low';

// ---------------------------------------------------------------- server frame encoders

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

/** Why a client is told that messages are gone. */
export type GapReason = 'trimmed' | 'epoch' | 'unavailable' | 'malformed' | 'max_replay' | 'ahead' | 'lost';

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

export const encodeAck = (id: number, result?: unknown): string => JSON.stringify(result === undefined ? { t: 'ack', id, ok: true } : { t: 'ack', id, ok: true, result });
export const encodeNack = (id: number, code: ErrorCode, message: string): string => JSON.stringify({ t: 'ack', id, ok: false, error: { code, message } });
export const encodeError = (code: ErrorCode, message: string, id?: number): string => JSON.stringify(id === undefined ? { t: 'error', code, message } : { t: 'error', code, message, id });
export const encodeRedirect = (url: string, reason: 'affinity' | 'balancer' | 'rebalance' | 'draining'): string => JSON.stringify({ t: 'redirect', url, reason });
export const PING = '{"t":"ping"}';
export const PONG = '{"t":"pong"}';

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
export const encodeWelcome = (w: WelcomeFields): string => JSON.stringify({ t: 'welcome', v: WIRE_VERSION, ...w });
