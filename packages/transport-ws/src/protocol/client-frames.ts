/**
 * The frames a client sends, as a node reads them: zod schemas and `parseClientFrame`. The
 * node's side only (zod); the SDK writes these frames and never imports this file.
 */
import { z } from 'zod';

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
  /** Frames this client reads beyond protocol 1 (`msgs`: compact room batches); unknown names are ignored. */
  caps: z.array(z.string().max(32)).max(16).optional(),
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
/** A client's `msg` (to the node's `message` handler); a node's `msg` to a client is `MsgFrame`. */
export type ClientMsgFrame = z.infer<typeof msgFrame>;

const KNOWN = new Set(['hello', 'join', 'leave', 'pub', 'msg', 'ping', 'pong']);

// The same rules as the schemas above, written out for the frames that pass them (nearly all):
// a hello, a join or a pub is checked in a few comparisons instead of a zod parse (zod took
// about 5 % of a node's busy time in a connect storm). A frame they refuse is parsed by zod
// again, for its error message.
const ROOM_NAME = /^[A-Za-z0-9_.:@/-]{1,128}$/;
const MAX_ID = Number.MAX_SAFE_INTEGER;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isOffset = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const optOffset = (v: unknown) => v === undefined || isOffset(v);
const optStr = (v: unknown, min: number, max: number) => v === undefined || (typeof v === 'string' && v.length >= min && v.length <= max);
const optId = (v: unknown) => v === undefined || (isOffset(v) && (v as number) <= MAX_ID);
const optEvent = (v: unknown) => optStr(v, 1, 128);
const validCursor = (c: unknown) => isObj(c) && optOffset(c.offset) && optStr(c.epoch, 0, 128);

/** Whether `r` is a room name a client may use (the rule of `roomName`, without zod). */
export function isRoomName(r: unknown): r is string {
  return typeof r === 'string' && ROOM_NAME.test(r) && !RESERVED_ROOM_NAMES.has(r);
}

function passes(o: Obj): boolean {
  switch (o.t) {
    case 'pub':
      return optId(o.id) && isRoomName(o.room) && optEvent(o.event);
    case 'msg':
      return optId(o.id) && optEvent(o.event);
    case 'join':
      return optId(o.id) && isRoomName(o.room) && optOffset(o.offset) && optStr(o.epoch, 0, 128);
    case 'leave':
      return optId(o.id) && isRoomName(o.room);
    case 'hello':
      return (
        typeof o.v === 'number' &&
        Number.isInteger(o.v) &&
        optStr(o.session, 1, 128) &&
        optStr(o.token, 1, 8192) &&
        (o.rooms === undefined || (isObj(o.rooms) && Object.values(o.rooms).every(validCursor))) &&
        (o.params === undefined || (isObj(o.params) && !Object.hasOwn(o.params, '__proto__'))) &&
        (o.noRedirect === undefined || typeof o.noRedirect === 'boolean') &&
        optStr(o.lost, 1, 128) &&
        (o.caps === undefined || (Array.isArray(o.caps) && o.caps.length <= 16 && o.caps.every((c) => optStr(c, 0, 32) && c !== undefined)))
      );
    default:
      return o.t === 'ping' || o.t === 'pong';
  }
}

const FIELDS = { pub: ['id', 'room', 'event', 'data'], msg: ['id', 'event', 'data'], join: ['id', 'room', 'offset', 'epoch'], leave: ['id', 'room'] } as const;

/** A frame that `passes`, as zod would return it: only the fields the schema knows. */
function known(o: Obj): ClientFrame {
  switch (o.t) {
    case 'hello': {
      const f: Obj = { t: 'hello', v: o.v };
      for (const k of ['session', 'token', 'params', 'noRedirect', 'lost'] as const) if (o[k] !== undefined) f[k] = o[k];
      if (o.caps !== undefined) f.caps = [...(o.caps as string[])];
      if (o.rooms !== undefined) {
        const rooms = Object.create(null) as Record<string, { offset?: number; epoch?: string }>;
        for (const [name, c] of Object.entries(o.rooms as Record<string, Obj>)) rooms[name] = { ...(c.offset !== undefined ? { offset: c.offset as number } : {}), ...(c.epoch !== undefined ? { epoch: c.epoch as string } : {}) };
        f.rooms = rooms;
      }
      return f as ClientFrame;
    }
    case 'pub':
    case 'msg':
    case 'join':
    case 'leave': {
      const f: Obj = { t: o.t };
      for (const k of FIELDS[o.t]) if (o[k] !== undefined) f[k] = o[k];
      return f as ClientFrame;
    }
    default:
      return { t: o.t } as ClientFrame;
  }
}

/** The outcome of reading one WebSocket text frame from a client. */
export type ParsedClientFrame =
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
export function parseClientFrame(text: string, maxDepth = DEFAULT_MAX_DEPTH): ParsedClientFrame {
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
  if (passes(o)) return { ok: true, frame: known(o) };
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
