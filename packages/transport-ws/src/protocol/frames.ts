import { z } from 'zod';

import { PROTOCOL_VERSION, SUBPROTOCOL } from '../client/close-codes.js';

/** Wire protocol version this build speaks (shared with the SDK). */
export const WIRE_VERSION = PROTOCOL_VERSION;
export { SUBPROTOCOL };

/** Room names: 1 to 128 of A-Z a-z 0-9 _ - . : @ / */
export const roomName = z.string().regex(/^[A-Za-z0-9_.:@/-]{1,128}$/, 'room: 1-128 of A-Z a-z 0-9 _ - . : @ /');
const eventName = z.string().min(1).max(128);
const requestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const cursor = z.object({ offset: z.number().int().min(0).optional(), epoch: z.string().max(128).optional() });

export const helloFrame = z.object({
  t: z.literal('hello'),
  v: z.number().int(),
  session: z.string().min(1).max(128).optional(),
  token: z.string().min(1).max(8192).optional(),
  rooms: z.record(roomName, cursor).optional(),
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

export type ErrorCode = 'bad_frame' | 'unknown_type' | 'too_large' | 'rate_limited' | 'forbidden' | 'not_in_room' | 'unsupported_version' | 'unavailable' | 'internal';

export type ParseResult = { ok: true; frame: ClientFrame } | { ok: false; code: 'bad_frame' | 'unknown_type'; reason: 'bad_json' | 'unknown_type' | 'bad_fields'; message: string; id?: number };

/** Parse and validate one text frame from a client. Never throws. */
export function parseClientFrame(text: string): ParseResult {
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
  return { ok: true, frame: parsed.data };
}

/** Room entry of `welcome` and of a `join` ack. */
export interface RoomState {
  room?: string;
  offset: number;
  epoch?: string;
  history: boolean;
  recovered: boolean;
  gap: boolean;
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

/** Encode a `msg` frame once; the same string goes to every target socket. */
export function encodeMsg(m: WireMessage, room?: string, offset?: number, epoch?: string): string {
  return JSON.stringify({
    t: 'msg',
    ...(m.event !== undefined ? { event: m.event } : {}),
    data: m.data === undefined ? null : m.data,
    ...(room !== undefined ? { room } : {}),
    ...(offset !== undefined ? { o: offset } : {}),
    ...(epoch !== undefined ? { e: epoch } : {}),
    ...(m.from !== undefined ? { from: m.from } : {}),
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
