import { SwitchyardError, isSwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

/** Source name on every error this package raises. */
export const SOURCE = 'redis';

export const redisError = (code: SwitchyardErrorCode, message: string, cause?: unknown): SwitchyardError =>
  new SwitchyardError(code, message, { source: SOURCE, cause });

export const closedError = (what: string): SwitchyardError => redisError('CLOSED', `${what} is closed`);

/**
 * Map an ioredis error into a SwitchyardError: connection loss and retry exhaustion become
 * BUS_UNAVAILABLE, timeouts TIMEOUT, server replies BACKEND_ERROR. SwitchyardErrors pass through.
 */
export function mapRedisError(err: unknown, operation: string): SwitchyardError {
  if (isSwitchyardError(err)) return err;
  const e = err as { name?: string; message?: string; code?: string };
  const message = e?.message ?? String(err);
  let code: SwitchyardErrorCode = 'BACKEND_ERROR';
  if (e?.name === 'MaxRetriesPerRequestError' || /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|ClusterAllFailed|Failed to refresh slots cache/i.test(message)) {
    code = 'BUS_UNAVAILABLE';
  } else if (/timed? ?out|ETIMEDOUT/i.test(message)) {
    code = 'TIMEOUT';
  } else if (/Cluster is ended|Connection is ended/i.test(message)) {
    code = 'CLOSED';
  }
  return redisError(code, `${operation} failed: ${message}`, err);
}

/** Why a connection could not be opened, in plain words (`details.reason` of a connect failure). */
export type ConnectFailureReason = 'refused' | 'dns' | 'timeout' | 'auth' | 'tls' | 'closed' | 'unreachable' | 'other';

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

/** Each reason, its words, and how to recognise it in a Node socket error or a driver error; the first that matches wins. */
const REASONS: Array<[ConnectFailureReason, string, (code: string, text: string) => boolean]> = [
  ['auth', 'authentication failed', (_c, t) => /WRONGPASS|NOAUTH|invalid password|invalid username-password|auth(entication)? failed/i.test(t)],
  ['tls', 'TLS handshake failed', (c, t) => /^(ERR_TLS|ERR_SSL|EPROTO|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(c) || /\b(TLS|SSL)\b|certificate/i.test(t)],
  ['dns', 'host not found', (c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EAI_NONAME' || c === 'EAI_FAIL'],
  ['refused', 'connection refused', (c) => c === 'ECONNREFUSED'],
  ['unreachable', 'host or network unreachable', (c) => c === 'EHOSTUNREACH' || c === 'ENETUNREACH' || c === 'EADDRNOTAVAIL'],
  ['timeout', 'timed out', (c, t) => c === 'ETIMEDOUT' || c === 'TIMEOUT' || /timed? ?out/i.test(t)],
  ['closed', 'the server closed the connection', (c, t) => c === 'ECONNRESET' || c === 'EPIPE' || /Protocol error|socket hang up/i.test(t)],
];

/** `scheme://user:password@host` → `scheme://host`: no credentials in a message. */
export const withoutCredentials = (text: string): string => text.replace(/\/\/[^/@\s]*@/g, '//');

/** Where a connect was going: `target` is `host:port` (or several, comma-separated), without credentials. */
export interface ConnectTarget {
  target: string;
  /** TLS was asked for. */
  tls?: boolean;
  /** The deadline of the attempt, named when it ran out. */
  timeoutMs?: number;
}

/**
 * The error `connect()` throws when Redis cannot be reached: it names the server, says why in
 * plain words (`details.reason`) and what to check; the driver's error stays as `cause`.
 * Codes: refused, unknown host, unreachable, dropped and TLS failures
 * BUS_UNAVAILABLE (as any connection loss); a timeout TIMEOUT; wrong credentials CONFIG_INVALID
 * (retrying will not help); anything else the code `mapRedisError` gives it.
 */
export function connectError(err: unknown, where: ConnectTarget): SwitchyardError {
  const chain = errorChain(err);
  const seen = chain.map((e) => ({ code: typeof e.code === 'string' ? e.code : '', text: `${String(e.name ?? '')} ${String(e.message ?? '')}` }));
  let reason: ConnectFailureReason = 'other';
  let words = 'connection failed';
  let told: ErrorLike | undefined;
  for (const [r, w, test] of REASONS) {
    const i = seen.findIndex((s) => test(s.code, s.text));
    if (i < 0) continue;
    [reason, words, told] = [r, w, chain[i]];
    break;
  }
  // The driver's own words, from the error that told the reason (else the outermost), unless they add nothing.
  const said = [told, ...chain].find((e) => typeof e?.message === 'string' && e.message !== '');
  const detail = said ? withoutCredentials(String(said.message)).replace(/^\[switchyard\] \[[^\]]*\] /, '').replace(/\.$/, '') : '';
  const { target, tls = false, timeoutMs } = where;
  const options = 'the url or connection option';
  const hint: Record<ConnectFailureReason, string> = {
    refused: `Is Redis running on ${target}? Check ${options}.`,
    dns: `Check the host name in ${options}.`,
    timeout: `Is ${target} reachable from here (firewall, wrong address${tls ? ', TLS to a server without it' : ''})? If Redis is only slow, raise connectTimeoutMs.`,
    auth: `Check the credentials (user name and password) in ${options}.`,
    tls: `Check that Redis on ${target} expects TLS (rediss://) and that its certificate is trusted.`,
    closed: `Is ${target} really Redis${tls ? ', and does it speak TLS' : ''}? Check ${options}.`,
    unreachable: `Check the host in ${options} and the network between here and ${target}.`,
    other: `Check ${options}.`,
  };
  const why = reason === 'timeout' && timeoutMs !== undefined ? `timed out after ${timeoutMs} ms` : words;
  const code: SwitchyardErrorCode =
    reason === 'timeout' ? 'TIMEOUT' : reason === 'auth' ? 'CONFIG_INVALID' : reason === 'other' ? mapRedisError(err, 'connect').code : 'BUS_UNAVAILABLE';
  const redundant =
    !detail || /^time ?out$/i.test(detail) || why.toLowerCase().includes(detail.toLowerCase()) || (reason === 'timeout' && detail.includes(`${timeoutMs} ms`));
  const message = `cannot connect to Redis at ${target}: ${why}${redundant ? '' : ` (${detail})`}. ${hint[reason]}`;
  return new SwitchyardError(code, message, { source: SOURCE, cause: err, details: { target, reason } });
}
