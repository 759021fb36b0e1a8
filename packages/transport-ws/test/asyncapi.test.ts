/**
 * docs/asyncapi.yaml against the code, so that the document cannot drift from what a node and
 * the SDK really do: it parses with no errors; its messages are exactly the frame types the
 * node accepts (zod) and writes (the encoders, and the SDK's ServerFrame); every example is a
 * frame the node (client frames) or the SDK (node frames) accepts; what the encoders write
 * fits the documented payloads; the close codes, enums, path, subprotocol and version are the
 * code's. No services needed.
 *
 * The payload schemas are checked by a small JSON Schema reader below, which refuses any
 * keyword it does not check, so the document cannot lean on one that nothing enforces.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface, type Diagnostic, type MessageInterface } from '@asyncapi/parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseNodeOptions } from '../src/options.js';
import * as wire from '../src/protocol/index.js';
import { CloseCode, closeCodeName, FATAL_CLOSE_CODES, PROTOCOL_VERSION, QUICK_RETRY_CLOSE_CODES, SUBPROTOCOL, parseServerFrame, EARLY_HELLO_MAX_LENGTH, EARLY_HELLO_PREFIX, EARLY_SUBPROTOCOL, offeredSubprotocols, type ServerFrame } from '../src/protocol/index.js';

const DOC = fileURLToPath(new URL('../../../docs/asyncapi.yaml', import.meta.url));

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const sorted = (xs: Iterable<string | number>) => [...xs].map(String).sort();

// ---------------------------------------------------------------- a small JSON Schema reader

/** Keywords that only describe (never refuse a value). `x-` extensions are skipped too. */
const ANNOTATIONS = new Set(['description', 'title', 'examples', 'default', 'format', 'deprecated', '$id', '$schema']);
const CHECKED = new Set(['type', 'const', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'minItems', 'maxItems', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'not', 'allOf', 'anyOf', 'oneOf']);

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v);
const fitsType = (v: unknown, t: string) => typeOf(v) === t || (t === 'number' && typeOf(v) === 'integer');
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The reasons `value` does not fit `schema` (empty when it does). `strict`: an object schema
 * with `properties` and no `additionalProperties` refuses other keys too (the protocol ignores
 * unknown fields, but an example or an encoder writing one means the document misses it).
 */
function mismatches(schema: unknown, value: unknown, strict: boolean, at = '$'): string[] {
  if (schema === true || (isObj(schema) && Object.keys(schema).length === 0)) return [];
  if (schema === false) return [`${at}: nothing is allowed here`];
  if (!isObj(schema)) throw new Error(`${at}: a schema must be an object, got ${JSON.stringify(schema)}`);
  for (const k of Object.keys(schema)) {
    if (!k.startsWith('x-') && !ANNOTATIONS.has(k) && !CHECKED.has(k)) throw new Error(`${at}: keyword ${k} is not checked by this test; use another or teach the test`);
  }
  const out: string[] = [];
  const s = schema;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => fitsType(value, t))) return [`${at}: expected ${types.join('|')}, got ${typeOf(value)}`];
  }
  if ('const' in s && !same(s.const, value)) out.push(`${at}: expected ${JSON.stringify(s.const)}, got ${JSON.stringify(value)}`);
  if (Array.isArray(s.enum) && !s.enum.some((e) => same(e, value))) out.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) out.push(`${at}: ${value} < ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) out.push(`${at}: ${value} > ${s.maximum}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof s.minLength === 'number' && length < s.minLength) out.push(`${at}: shorter than ${s.minLength}`);
    if (typeof s.maxLength === 'number' && length > s.maxLength) out.push(`${at}: longer than ${s.maxLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) out.push(`${at}: ${JSON.stringify(value)} does not match ${s.pattern}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) out.push(`${at}: fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) out.push(`${at}: more than ${s.maxItems} items`);
    if (s.items !== undefined) value.forEach((v, i) => out.push(...mismatches(s.items, v, strict, `${at}[${i}]`)));
  }
  if (isObj(value)) {
    for (const k of (s.required as string[] | undefined) ?? []) if (!Object.hasOwn(value, k)) out.push(`${at}: ${k} is required`);
    const props = isObj(s.properties) ? s.properties : {};
    for (const [k, v] of Object.entries(value)) {
      if (Object.hasOwn(props, k)) out.push(...mismatches(props[k], v, strict, `${at}.${k}`));
      else if (s.additionalProperties !== undefined) out.push(...mismatches(s.additionalProperties, v, strict, `${at}.${k}`));
      else if (strict && s.type === 'object' && isObj(s.properties)) out.push(`${at}: ${k} is not documented`);
    }
  }
  if (s.not !== undefined && mismatches(s.not, value, false).length === 0) out.push(`${at}: matches what \`not\` refuses`);
  for (const sub of (s.allOf as unknown[] | undefined) ?? []) out.push(...mismatches(sub, value, strict, at));
  if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => mismatches(sub, value, strict, at).length === 0)) out.push(`${at}: fits none of anyOf`);
  if (Array.isArray(s.oneOf)) {
    const fits = s.oneOf.filter((sub) => mismatches(sub, value, strict, at).length === 0).length;
    if (fits !== 1) out.push(`${at}: fits ${fits} of oneOf, not exactly 1`);
  }
  return out;
}

// ---------------------------------------------------------------- the document

const describeDiagnostic = (d: Diagnostic) => `${DiagnosticSeverity[d.severity]} ${d.code} at ${d.path.join('.') || '(root)'} line ${d.range.start.line + 1}: ${d.message}`;

let doc: AsyncAPIDocumentInterface | undefined;
let diagnostics: Diagnostic[] = [];

beforeAll(async () => {
  const out = await new Parser().parse(readFileSync(DOC, 'utf8'), { source: DOC });
  doc = out.document;
  diagnostics = out.diagnostics;
});

function document(): AsyncAPIDocumentInterface {
  if (!doc) throw new Error(`docs/asyncapi.yaml did not parse:\n${diagnostics.map(describeDiagnostic).join('\n')}`);
  return doc;
}

const payloadOf = (m: MessageInterface): Obj => {
  const p: unknown = m.payload()?.json();
  if (!isObj(p)) throw new Error(`message ${m.id()} has no payload schema`);
  return p;
};
/** The frame type a message documents: the `const` of its payload's `t`. */
const frameType = (m: MessageInterface): string => {
  const props = payloadOf(m).properties;
  const t = isObj(props) && isObj(props.t) ? props.t.const : undefined;
  if (typeof t !== 'string') throw new Error(`message ${m.id()}: its payload has no \`t\` const`);
  return t;
};
const messagesOf = (action: 'send' | 'receive'): MessageInterface[] =>
  document()
    .operations()
    .all()
    .filter((o) => o.action() === action)
    .flatMap((o) => o.messages().all());
/** The node receives what a client sends; it sends what a client receives. */
const clientFrames = () => messagesOf('receive');
const nodeFrames = () => messagesOf('send');
const byType = (messages: MessageInterface[], t: string): MessageInterface => {
  const m = messages.find((x) => frameType(x) === t);
  if (!m) throw new Error(`no message documents frame type ${t}`);
  return m;
};
const examplesOf = (m: MessageInterface): unknown[] =>
  m
    .examples()
    .all()
    .map((e) => e.payload());
const schemaNamed = (name: string): Obj => {
  const s = document().components().schemas().get(name)?.json();
  if (!isObj(s)) throw new Error(`components.schemas.${name} is missing`);
  return s;
};
const channel = () => {
  const all = document().channels().all();
  expect(all).toHaveLength(1);
  return all[0] as (typeof all)[number];
};

// ---------------------------------------------------------------- what the code sends and knows

/** The encoders read through this proxy are recorded, so a new encoder without a sample fails the test. */
const usedEncoders = new Set<string>();
const enc = new Proxy(wire, {
  get(target, key, receiver) {
    usedEncoders.add(String(key));
    return Reflect.get(target, key, receiver) as unknown;
  },
});

/** Frames as the node's encoders write them, by type; the keys are every type the SDK knows. */
const nodeSamples = (): Record<ServerFrame['t'], string[]> => {
  const chat: wire.WireMessage = { event: 'chat', data: { text: 'hi' }, from: 'n1~Kq81x' };
  const joined: wire.RoomState = { room: 'lobby', offset: 15, epoch: 'ab', history: true, recovered: false, gap: false };
  return {
    msg: [enc.encodeMsg(chat, 'lobby', 16, 'ab', 15), enc.encodeMsg(chat, 'lobby', 17, 'ab', 15), enc.encodeMsg({ data: undefined }), enc.encodeMsg({ event: 'tick', data: [1, 2] }, 'ticker')],
    batch: [enc.encodeBatch([enc.encodeMsg(chat, 'lobby', 43, 'ab', 42), enc.encodeMsg({ data: 'b' }, 'lobby', 44, 'ab', 43)])],
    msgs: [
      enc.encodeMsgs('lobby', [enc.encodeMsgsItem(chat), enc.encodeMsgsItem({ data: 'b' }), enc.encodeMsgsItem({ event: 'chat', data: 'c' })], { epoch: 'ab', prev: 40, offsets: [43, 44, 46] }),
      enc.encodeMsgs(undefined, [enc.encodeMsgsItem({ event: 'tick', data: 1 }), enc.encodeMsgsItem({ event: 'tick', data: 2 })]),
    ],
    gap: [enc.encodeGap('lobby', 'trimmed', { epoch: 'ab', from: 41, to: 47 }), enc.encodeGap('lobby', 'epoch', { epoch: 'ab', from: 47 }), enc.encodeGap('ticker', 'lost')],
    welcome: [
      enc.encodeWelcome({
        session: 's-7Hq2',
        conn: 'n1~Kq81x',
        node: 'n1',
        user: 'alice',
        resumed: true,
        heartbeatMs: 25_000,
        maxPayload: 65_536,
        rooms: {
          lobby: { offset: 15, epoch: 'ab', history: true, recovered: true, gap: false },
          old: { offset: 46, epoch: 'ab', history: true, recovered: false, gap: true, reason: 'ahead' },
          admin: { offset: 0, history: false, recovered: false, gap: false, error: { code: 'forbidden', message: 'join refused for room admin' } },
        },
      }),
      enc.encodeWelcome({ session: 'Tz3k', conn: 'n2~b7', node: 'n2', user: undefined, resumed: false, heartbeatMs: 25_000, maxPayload: 65_536, rooms: {} }),
    ],
    ack: [enc.encodeAck(1, joined), enc.encodeAck(3, { room: 'lobby' }), enc.encodeAck(4, { offset: 16, epoch: 'ab' }), enc.encodeAck(5), enc.encodeNack(2, 'forbidden', 'join refused for room admin'), enc.encodeNack(8, 'refused', 'you are not in this channel')],
    error: [enc.encodeError('bad_frame', 'hello expected first', 7), enc.encodeError('rate_limited', 'too many frames; slow down')],
    redirect: (Object.keys(REDIRECT_REASONS) as RedirectReason[]).map((r) => enc.encodeRedirect('ws://127.0.0.1:4002/ws', r)),
    ping: [enc.PING],
    pong: [enc.PONG],
  };
};

type RedirectReason = Parameters<typeof wire.encodeRedirect>[1];
const REDIRECT_REASONS: Record<RedirectReason, true> = { affinity: true, balancer: true, rebalance: true, draining: true };
const ERROR_CODES: Record<wire.ErrorCode, true> = {
  bad_frame: true,
  unknown_type: true,
  too_large: true,
  rate_limited: true,
  forbidden: true,
  not_in_room: true,
  unsupported_version: true,
  unavailable: true,
  refused: true,
  internal: true,
};
const GAP_REASONS: Record<wire.GapReason, true> = { trimmed: true, epoch: true, unavailable: true, malformed: true, max_replay: true, ahead: true, lost: true };

/** Client frames on which the node's zod schemas and the document must agree (accepted or refused). */
const AGREEMENT: Obj[] = [
  { t: 'hello', v: 1 },
  { t: 'hello', v: 1, session: 's', token: 't', rooms: { a: { offset: 3, epoch: 'e' }, b: {} }, params: { region: 'eu' }, noRedirect: true, lost: 'n3' },
  { t: 'hello' },
  { t: 'hello', v: 1, session: '' },
  { t: 'hello', v: 1, token: 'x'.repeat(8193) },
  { t: 'hello', v: 1, rooms: { a: { offset: -1 } } },
  { t: 'hello', v: 1, rooms: { a: { epoch: 'e'.repeat(129) } } },
  { t: 'hello', v: 1, noRedirect: 'yes' },
  { t: 'join', room: 'lobby' },
  { t: 'join', id: 0, room: 'a:b@c/d.e-f_G9', offset: 0, epoch: 'ab' },
  { t: 'join', room: 'r'.repeat(128) },
  { t: 'join', room: 'r'.repeat(129) },
  { t: 'join', room: '' },
  { t: 'join', room: 'a b' },
  { t: 'join', room: 'a*' },
  { t: 'join', room: 'a>' },
  { t: 'join', room: '__proto__' },
  { t: 'join', room: 'constructor' },
  { t: 'join', room: 'prototype' },
  { t: 'join', id: -1, room: 'r' },
  { t: 'join', id: 1.5, room: 'r' },
  { t: 'join', id: Number.MAX_SAFE_INTEGER, room: 'r' },
  { t: 'join', id: Number.MAX_SAFE_INTEGER + 1, room: 'r' },
  { t: 'join', room: 'r', offset: -1 },
  { t: 'join', room: 'r', offset: 1.5 },
  { t: 'join' },
  { t: 'leave', id: 2, room: 'r' },
  { t: 'leave' },
  { t: 'pub', room: 'r' },
  { t: 'pub', id: 3, room: 'r', event: 'chat', data: { deep: [1, { x: null }] } },
  { t: 'pub', room: 'r', event: '' },
  { t: 'pub', room: 'r', event: 'e'.repeat(128) },
  { t: 'pub', room: 'r', event: 'e'.repeat(129) },
  { t: 'pub', room: 'r', event: 5 },
  { t: 'pub', data: 1 },
  { t: 'msg' },
  { t: 'msg', id: 4, event: 'whoami', data: null },
  { t: 'msg', event: '' },
  { t: 'ping' },
  { t: 'ping', extra: 1 },
  { t: 'pong' },
  { t: 'subscribe', room: 'r' },
  { t: 'welcome', v: 1, session: 's' },
  { room: 'r' },
];

// ---------------------------------------------------------------- tests

describe('docs/asyncapi.yaml', () => {
  it('is a valid AsyncAPI 3.0 document (no diagnostic of severity error)', () => {
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    if (errors.length) console.error(`docs/asyncapi.yaml:\n${errors.map(describeDiagnostic).join('\n')}`);
    expect(errors.map(describeDiagnostic)).toEqual([]);
    expect(document().version()).toBe('3.0.0');
  });

  it('documents exactly the frame types the node accepts from a client', () => {
    const accepted = wire.clientFrame.options.map((o) => o.shape.t.value);
    expect(sorted(clientFrames().map(frameType))).toEqual(sorted(accepted));
    for (const m of clientFrames()) expect(m.name(), `message ${m.id()}`).toBe(frameType(m));
  });

  it('documents exactly the frame types the node writes and the SDK knows', () => {
    const samples = nodeSamples();
    expect(sorted(nodeFrames().map(frameType))).toEqual(sorted(Object.keys(samples)));
    for (const m of nodeFrames()) expect(m.name(), `message ${m.id()}`).toBe(frameType(m));
    // every frame encoder of the protocol module has a sample above
    const encoders = Object.keys(wire).filter((k) => /^encode[A-Z]/.test(k) || k === 'PING' || k === 'PONG');
    expect(encoders.filter((k) => !usedEncoders.has(k))).toEqual([]);
  });

  it('every example of a client frame is one the node accepts, and fits its payload', () => {
    for (const m of clientFrames()) {
      const examples = examplesOf(m);
      expect(examples.length, `message ${m.id()} has examples`).toBeGreaterThan(0);
      for (const example of examples) {
        const text = JSON.stringify(example);
        const parsed = wire.parseClientFrame(text);
        expect(parsed, `${m.id()} example ${text}`).toMatchObject({ ok: true, frame: { t: frameType(m) } });
        expect(mismatches(payloadOf(m), example, true), `${m.id()} example ${text}`).toEqual([]);
      }
    }
  });

  it('every example of a node frame is one the SDK accepts, and fits its payload', () => {
    for (const m of nodeFrames()) {
      const examples = examplesOf(m);
      expect(examples.length, `message ${m.id()} has examples`).toBeGreaterThan(0);
      for (const example of examples) {
        const text = JSON.stringify(example);
        expect(parseServerFrame(text), `${m.id()} example ${text}`).toMatchObject({ ok: true, frame: { t: frameType(m) } });
        expect(mismatches(payloadOf(m), example, true), `${m.id()} example ${text}`).toEqual([]);
      }
    }
  });

  it("what the node's encoders write fits the documented payloads (no undocumented field)", () => {
    for (const [t, frames] of Object.entries(nodeSamples())) {
      const m = byType(nodeFrames(), t);
      for (const text of frames) {
        expect(mismatches(payloadOf(m), JSON.parse(text), true), text).toEqual([]);
        expect(parseServerFrame(text), text).toMatchObject({ ok: true, frame: { t } });
      }
    }
  });

  it("the documented client payloads accept and refuse what the node's zod schemas do", () => {
    for (const frame of AGREEMENT) {
      const text = JSON.stringify(frame);
      const byNode = wire.parseClientFrame(text).ok;
      const byDoc = clientFrames().some((m) => mismatches(payloadOf(m), frame, false).length === 0);
      expect({ frame: text, byDoc }).toEqual({ frame: text, byDoc: byNode });
    }
    // and a hello of another version is refused by the document (the node answers unsupported_version)
    expect(mismatches(payloadOf(byType(clientFrames(), 'hello')), { t: 'hello', v: 2 }, false)).not.toEqual([]);
  });

  it("its enums are the code's: error codes, gap reasons, redirect reasons", () => {
    expect(sorted(schemaNamed('ErrorCode').enum as string[])).toEqual(sorted(Object.keys(ERROR_CODES)));
    const roomReasons = ((schemaNamed('RoomState').properties as Obj).reason as Obj).enum as string[];
    expect(sorted([...(schemaNamed('GapReason').enum as string[]), ...roomReasons])).toEqual(sorted(Object.keys(GAP_REASONS)));
    const redirect = payloadOf(byType(nodeFrames(), 'redirect'));
    expect(sorted(((redirect.properties as Obj).reason as Obj).enum as string[])).toEqual(sorted(Object.keys(REDIRECT_REASONS)));
  });

  it("documents every close code with the code's name and the SDK's reaction, and no other", () => {
    const table = channel().json()['x-close-codes'];
    expect(Array.isArray(table)).toBe(true);
    const rows = (table as unknown[]).filter(isObj);
    expect(sorted(rows.map((r) => r.code as number))).toEqual(sorted(Object.values(CloseCode)));
    for (const row of rows) {
      const code = row.code as number;
      expect({ code, name: row.name, fatal: row.fatal, quickRetry: row.quickRetry }).toEqual({
        code,
        name: closeCodeName(code),
        fatal: FATAL_CLOSE_CODES.includes(code),
        quickRetry: QUICK_RETRY_CLOSE_CODES.includes(code),
      });
      expect(typeof row.meaning, `meaning of ${code}`).toBe('string');
      // the table people read in the channel's description has the same row
      expect(channel().description(), `description row of ${code}`).toContain(`| ${code} | ${closeCodeName(code)} |`);
    }
  });

  it('names the transport as the node does: path, subprotocol, version, token', () => {
    expect(channel().address()).toBe(parseNodeOptions({}).path);
    const servers = document().servers().all();
    expect(servers.map((s) => s.protocol())).toEqual(['ws']);
    expect(servers[0]?.host()).toMatch(/^127\.0\.0\.1:/);

    const ws = channel().bindings().get('ws')?.value() as Obj | undefined;
    const headers = (ws?.headers as Obj | undefined)?.properties as Obj | undefined;
    // what the SDK offers, with and without the early hello, fits the documented header
    const offered = headers?.['Sec-WebSocket-Protocol'];
    expect(mismatches(offered, SUBPROTOCOL, false)).toEqual([]);
    expect(mismatches(offered, offeredSubprotocols(SUBPROTOCOL, JSON.stringify({ t: 'hello', v: PROTOCOL_VERSION, token: 'eyJ.x.y' })).join(', '), false)).toEqual([]);
    expect(mismatches(offered, 'switchyard.v2', false)).not.toEqual([]);
    expect(channel().json()['x-early-hello']).toMatchObject({ subprotocol: EARLY_SUBPROTOCOL, prefix: EARLY_HELLO_PREFIX, maxLength: EARLY_HELLO_MAX_LENGTH });
    expect(mismatches(headers?.Authorization, 'Bearer eyJ.x.y', false)).toEqual([]);
    expect(Object.keys(((ws?.query as Obj | undefined)?.properties as Obj | undefined) ?? {})).toEqual(['token']);

    const version = (t: string, messages: MessageInterface[]) => ((payloadOf(byType(messages, t)).properties as Obj).v as Obj).const;
    expect(version('hello', clientFrames())).toBe(PROTOCOL_VERSION);
    expect(version('welcome', nodeFrames())).toBe(wire.WIRE_VERSION);
  });
});
