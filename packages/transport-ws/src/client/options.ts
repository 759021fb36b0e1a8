import { defaultBackoff, type BackoffOptions } from './backoff.js';
import { clientError } from './errors.js';

/** The part of the WebSocket API the SDK uses (the browser's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol?: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** How the SDK calls a WebSocket constructor. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * What the `WebSocket` option accepts: `globalThis.WebSocket`, or `WebSocket` from the `ws`
 * package (any class with the browser's `onopen`/`onmessage`/`onclose`/`onerror`, `send`, `close`).
 */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => object;

/** A pino-compatible logger (the SDK never writes to the console). */
export interface ClientLogger {
  debug(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
}

/** What the `isFatal` hook receives. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/** Options of `createClient`. */
export interface ClientOptions {
  /** The node to connect to (`ws://` or `wss://`). Give `url` or `urls`. */
  url?: string;
  /** Several nodes: tried in turn after a failure, so the client lands on a healthy one. */
  urls?: string[];
  /** A credential sent in `hello` (or in the query, see `tokenInQuery`). */
  token?: string;
  /** Called before every connection attempt for a fresh credential; wins over `token`. */
  getToken?: () => string | undefined | Promise<string | undefined>;
  /** Also put the token in the URL as `?token=` (for servers that authenticate at the upgrade). Default false. */
  tokenInQuery?: boolean;
  /**
   * Send the hello inside the upgrade request (in `Sec-WebSocket-Protocol`), so the node answers
   * the upgrade and the welcome at once: one round trip less per connect and reconnect. Default
   * true. The hello holds the token and session id when there are any: set false if a proxy
   * between the client and the nodes logs that header. A hello over 4 KB (many rooms) and a node
   * that does not take it fall back to a hello frame by themselves.
   */
  earlyHello?: boolean;
  /** A session id to resume (e.g. kept in sessionStorage across page loads); see `client.sessionId`. */
  session?: string;
  /** Application parameters sent in `hello.params` (an object or a function returning one). */
  params?: Record<string, unknown> | (() => Record<string, unknown> | Promise<Record<string, unknown>>);
  /** The WebSocket constructor; `globalThis.WebSocket` when absent (Node 20 needs the `ws` package's). */
  WebSocket?: WebSocketClass;
  /** Reconnect backoff: exponential with full jitter. */
  reconnect?: Partial<BackoffOptions>;
  /** Redirects followed in a row before connecting with `noRedirect` (default 3). */
  maxRedirects?: number;
  /** Outgoing frames kept while not connected (default 1000); beyond it: `BUFFER_FULL`. */
  bufferSize?: number;
  /** Default ack timeout of `request` and `publish`, ms (default 10000). */
  ackTimeoutMs?: number;
  /** Time from opening the socket to `welcome` before giving up on the attempt, ms (default 10000). */
  handshakeTimeoutMs?: number;
  /**
   * Rooms with history: how long a message that arrived ahead of a missing one waits before the
   * client asks the node to replay the hole, ms (default 1000). Messages are always delivered in
   * offset order; a hole the node cannot fill becomes a `gap` event.
   */
  holeTimeoutMs?: number;
  /** Decides whether a close stops reconnecting; default: 1008, 4001, 4003, 4400 are fatal. */
  isFatal?: (close: CloseInfo) => boolean;
  /** Connect on first use (room, send, request, ready) instead of at once. Default false. */
  lazy?: boolean;
  /** A pino-compatible logger for debug output. */
  logger?: ClientLogger;
  /** A random source in [0, 1) for jitter (tests). */
  random?: () => number;
}

/** Options after defaults were applied and values checked. */
export interface ResolvedOptions {
  urls: string[];
  token: string | undefined;
  session: string | undefined;
  getToken: ClientOptions['getToken'];
  tokenInQuery: boolean;
  earlyHello: boolean;
  params: ClientOptions['params'];
  WebSocket: WebSocketConstructor | undefined;
  reconnect: BackoffOptions;
  maxRedirects: number;
  bufferSize: number;
  ackTimeoutMs: number;
  handshakeTimeoutMs: number;
  holeTimeoutMs: number;
  isFatal: ((close: CloseInfo) => boolean) | undefined;
  lazy: boolean;
  logger: ClientLogger | undefined;
  random: () => number;
}

const bad = (field: string, reason: string) => clientError('CONFIG_INVALID', `invalid option \`${field}\`: ${reason}`);

function int(o: Record<string, unknown>, field: string, dflt: number, min: number): number {
  const v = o[field];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw bad(field, `expected an integer >= ${min}`);
  return v;
}

function fn<T>(o: Record<string, unknown>, field: string): T | undefined {
  const v = o[field];
  if (v !== undefined && typeof v !== 'function') throw bad(field, 'expected a function');
  return v as T | undefined;
}

const KNOWN: readonly string[] = ['url', 'urls', 'token', 'getToken', 'tokenInQuery', 'earlyHello', 'session', 'params', 'WebSocket', 'reconnect', 'maxRedirects', 'bufferSize', 'ackTimeoutMs', 'handshakeTimeoutMs', 'holeTimeoutMs', 'isFatal', 'lazy', 'logger', 'random'];

/** Edit distance, for naming the option a misspelled key meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/** Refuse a key no option has, naming the closest one. */
function checkKeys(o: Record<string, unknown>, known: readonly string[], where = ''): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const near = known.map((n) => [n, distance(k.toLowerCase(), n.toLowerCase())] as const).sort((x, y) => x[1] - y[1])[0];
    const hint = near && near[1] <= Math.max(2, Math.floor(k.length / 3)) ? ` (did you mean \`${where}${near[0]}\`?)` : '';
    throw clientError('CONFIG_INVALID', `unknown option \`${where}${k}\`${hint}`);
  }
}

/** Checks options and applies defaults; throws `CONFIG_INVALID` naming the field. */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw bad('options', 'expected an object');
  const o = options as unknown as Record<string, unknown>;
  checkKeys(o, KNOWN);
  if (typeof o.reconnect === 'object' && o.reconnect !== null) checkKeys(o.reconnect as Record<string, unknown>, ['baseMs', 'maxMs', 'firstRetryMaxMs'], 'reconnect.');
  const urls = options.urls ?? (options.url === undefined ? [] : [options.url]);
  if (!Array.isArray(urls) || urls.length === 0) throw bad('url', 'give `url` or a non-empty `urls`');
  for (const u of urls) if (typeof u !== 'string' || !/^wss?:\/\/\S+$/i.test(u)) throw bad(options.urls ? 'urls' : 'url', `not a ws:// or wss:// URL: ${String(u)}`);
  if (options.token !== undefined && typeof options.token !== 'string') throw bad('token', 'expected a string');
  if (options.session !== undefined && (typeof options.session !== 'string' || options.session.length === 0)) throw bad('session', 'expected a non-empty string');
  if (options.params !== undefined && typeof options.params !== 'object' && typeof options.params !== 'function') throw bad('params', 'expected an object or a function');
  const r = options.reconnect ?? {};
  if (typeof r !== 'object' || r === null) throw bad('reconnect', 'expected an object');
  const ro = r as Record<string, unknown>;
  const reconnect: BackoffOptions = {
    baseMs: int(ro, 'baseMs', defaultBackoff.baseMs, 1),
    maxMs: int(ro, 'maxMs', defaultBackoff.maxMs, 1),
    firstRetryMaxMs: int(ro, 'firstRetryMaxMs', defaultBackoff.firstRetryMaxMs, 0),
  };
  if (reconnect.maxMs < reconnect.baseMs) throw bad('reconnect.maxMs', 'must be >= reconnect.baseMs');
  return {
    urls: [...urls],
    token: options.token,
    session: options.session,
    getToken: fn(o, 'getToken'),
    tokenInQuery: options.tokenInQuery === true,
    earlyHello: options.earlyHello !== false,
    params: options.params,
    WebSocket: fn<WebSocketConstructor>(o, 'WebSocket'),
    reconnect,
    maxRedirects: int(o, 'maxRedirects', 3, 0),
    bufferSize: int(o, 'bufferSize', 1000, 0),
    ackTimeoutMs: int(o, 'ackTimeoutMs', 10_000, 1),
    handshakeTimeoutMs: int(o, 'handshakeTimeoutMs', 10_000, 1),
    holeTimeoutMs: int(o, 'holeTimeoutMs', 1000, 1),
    isFatal: fn(o, 'isFatal'),
    lazy: options.lazy === true,
    logger: options.logger,
    random: fn(o, 'random') ?? Math.random,
  };
}
