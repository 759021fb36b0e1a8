import { SwitchyardError, type SwitchyardErrorCode } from './errors.js';

/** Why a connection could not be opened, in plain words (`details.reason` of a connect failure). */
export type ConnectFailureReason = 'refused' | 'dns' | 'timeout' | 'auth' | 'tls' | 'closed' | 'unreachable' | 'other';

/** Where a connect was going: `target` is `host:port` (or several, comma-separated), without credentials. */
export interface ConnectTarget {
  target: string;
  /** TLS was asked for. */
  tls?: boolean;
  /** The deadline of the attempt, named when it ran out. */
  timeoutMs?: number;
}

/** What an adapter says about its own backend; everything else a connect failure says is shared. */
export interface ConnectWords {
  /** The backend as a reader knows it: `Redis`, `NATS`, `PostgreSQL`. */
  backend: string;
  /** `source` of the error (`redis`). */
  source: string;
  /** The options that hold the address, e.g. `the url or connection option`. */
  options: string;
  /** How TLS is asked for with this backend, e.g. `rediss://`. */
  tlsHow: string;
  /** True when the driver said the credentials were refused (its own words or codes). */
  isAuthFailure: (code: string, text: string) => boolean;
  /** The driver's own words for a connection the server closed, beside ECONNRESET, EPIPE and `socket hang up`. */
  closedWords?: RegExp;
  /** The code of a failure none of the reasons explain: what the adapter's driver-error mapping gives it. */
  otherCode: (err: unknown) => SwitchyardErrorCode;
  /** The code of an unreachable backend (refused, unknown host, unreachable, dropped, TLS); default BUS_UNAVAILABLE. */
  unreachableCode?: SwitchyardErrorCode;
  /** More `details` for the error, from its code. */
  details?: (code: SwitchyardErrorCode) => Record<string, unknown>;
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error, its causes and the parts of an AggregateError (a dial to every address of a host), outermost first. */
function errorChain(err: unknown, out: ErrorLike[] = [], depth = 0): ErrorLike[] {
  if (typeof err !== 'object' || err === null || depth > 5 || out.includes(err as ErrorLike)) return out;
  const e = err as ErrorLike;
  out.push(e);
  if (Array.isArray(e.errors)) for (const part of e.errors) errorChain(part, out, depth + 1);
  return errorChain(e.cause, out, depth + 1);
}

type Test = (code: string, text: string) => boolean;

/** Each reason, its words, and how to recognise it in a Node socket error or a driver error; the first that matches wins. */
function reasons(words: ConnectWords): Array<[ConnectFailureReason, string, Test]> {
  return [
    ['auth', 'authentication failed', words.isAuthFailure],
    ['tls', 'TLS handshake failed', (c, t) => /^(ERR_TLS|ERR_SSL|EPROTO|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(c) || /\b(TLS|SSL)\b|certificate/i.test(t)],
    ['dns', 'host not found', (c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EAI_NONAME' || c === 'EAI_FAIL'],
    ['refused', 'connection refused', (c) => c === 'ECONNREFUSED'],
    ['unreachable', 'host or network unreachable', (c) => c === 'EHOSTUNREACH' || c === 'ENETUNREACH' || c === 'EADDRNOTAVAIL'],
    ['timeout', 'timed out', (c, t) => c === 'ETIMEDOUT' || c === 'TIMEOUT' || /timed? ?out/i.test(t)],
    ['closed', 'the server closed the connection', (c, t) => c === 'ECONNRESET' || c === 'EPIPE' || /socket hang up/i.test(t) || (words.closedWords?.test(t) ?? false)],
  ];
}

/** `scheme://user:password@host` → `scheme://host`: no credentials in a message. */
export const withoutCredentials = (text: string): string => text.replace(/\/\/[^/@\s]*@/g, '//');

/**
 * The error an adapter's `connect()` throws when its backend cannot be reached: it names the
 * server (never its credentials), says why in plain words (`details.reason`, `details.target`)
 * and what to check; the driver's error stays as `cause`. Codes: refused, unknown host,
 * unreachable, dropped and TLS failures `unreachableCode` (BUS_UNAVAILABLE, as any connection
 * loss); a timeout TIMEOUT; wrong credentials CONFIG_INVALID (retrying will not help); anything
 * else `otherCode`. Only the backend's own words come from `words`.
 */
export function describeConnectFailure(err: unknown, where: ConnectTarget, words: ConnectWords): SwitchyardError {
  const chain = errorChain(err);
  const seen = chain.map((e) => ({ code: typeof e.code === 'string' ? e.code : '', text: `${String(e.name ?? '')} ${String(e.message ?? '')}` }));
  let reason: ConnectFailureReason = 'other';
  let why = 'connection failed';
  let told: ErrorLike | undefined;
  for (const [r, w, test] of reasons(words)) {
    const i = seen.findIndex((s) => test(s.code, s.text));
    if (i < 0) continue;
    [reason, why, told] = [r, w, chain[i]];
    break;
  }
  // The driver's own words, from the error that told the reason (else the outermost), unless they add nothing.
  const said = [told, ...chain].find((e) => typeof e?.message === 'string' && e.message !== '');
  const detail = said ? withoutCredentials(String(said.message)).replace(/^\[switchyard\] \[[^\]]*\] /, '').replace(/\.$/, '') : '';
  const { target, tls = false, timeoutMs } = where;
  const { backend, options, unreachableCode = 'BUS_UNAVAILABLE' } = words;
  const hint: Record<ConnectFailureReason, string> = {
    refused: `Is ${backend} running on ${target}? Check ${options}.`,
    dns: `Check the host name in ${options}.`,
    timeout: `Is ${target} reachable from here (firewall, wrong address${tls ? ', TLS to a server without it' : ''})? If ${backend} is only slow, raise connectTimeoutMs.`,
    auth: `Check the credentials (user name and password) in ${options}.`,
    tls: `Check that ${backend} on ${target} expects TLS (${words.tlsHow}) and that its certificate is trusted.`,
    closed: `Is ${target} really ${backend}${tls ? ', and does it speak TLS' : ''}? Check ${options}.`,
    unreachable: `Check the host in ${options} and the network between here and ${target}.`,
    other: `Check ${options}.`,
  };
  if (reason === 'timeout' && timeoutMs !== undefined) why = `timed out after ${timeoutMs} ms`;
  const code: SwitchyardErrorCode = reason === 'timeout' ? 'TIMEOUT' : reason === 'auth' ? 'CONFIG_INVALID' : reason === 'other' ? words.otherCode(err) : unreachableCode;
  const redundant =
    !detail || /^time ?out$/i.test(detail) || why.toLowerCase().includes(detail.toLowerCase()) || (reason === 'timeout' && detail.includes(`${timeoutMs} ms`));
  const message = `cannot connect to ${backend} at ${target}: ${why}${redundant ? '' : ` (${detail})`}. ${hint[reason]}`;
  return new SwitchyardError(code, message, { source: words.source, cause: err, details: { target, reason, ...words.details?.(code) } });
}
