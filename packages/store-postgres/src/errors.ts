import { SwitchyardError, isSwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

export const SOURCE = 'postgres';

/** Node socket errors that mean the connection is gone, not that the statement was wrong. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

interface PgLikeError {
  code?: unknown;
  message?: unknown;
  severity?: unknown;
}

/** pg's and pg-pool's client-side deadlines: a statement (`query_timeout`) or a connection attempt that got no answer. */
const TIMEOUT_MESSAGES = /Query read timeout|connection timeout|timeout exceeded when trying to connect/i;

/**
 * True when a client-side deadline passed: the server did not answer a statement within
 * `queryTimeoutMs`, or a connection attempt within `connectTimeoutMs`. The connection it happened
 * on is not trusted again (it is also a connection error), but the statement is not retried: a
 * silent server is a failure to report, not a wait.
 */
export function isTimeoutError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const msg = (err as PgLikeError).message;
  return typeof msg === 'string' && TIMEOUT_MESSAGES.test(msg);
}

/**
 * True when the error means "the connection was lost or the server is not taking connections
 * right now": SQLSTATE class 08, 57P01-57P03 (shutdown, crash, starting up), 53300 (too many
 * connections), socket errors, pg's own "Connection terminated" messages, and client-side
 * timeouts (see `isTimeoutError`). Retrying on a new connection may succeed.
 */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as PgLikeError;
  const code = typeof e.code === 'string' ? e.code : '';
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  if (SOCKET_CODES.has(code)) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return isTimeoutError(err) || /Connection terminated|Client has encountered a connection error|not queryable|Client was closed/i.test(msg);
}

function codeFor(sqlstate: string): SwitchyardErrorCode {
  if (sqlstate === '57014') return 'TIMEOUT'; // query_canceled (statement_timeout)
  if (sqlstate === '55P03') return 'TIMEOUT'; // lock_not_available
  if (sqlstate === '23505' || sqlstate === '40001' || sqlstate === '40P01') return 'CONFLICT';
  if (sqlstate.startsWith('28') || sqlstate === '3D000') return 'CONFIG_INVALID'; // auth, unknown database
  return 'BACKEND_ERROR';
}

/**
 * Turn anything pg throws into a SwitchyardError (source `postgres`): client-side deadlines
 * (`queryTimeoutMs`, `connectTimeoutMs`) TIMEOUT, lost connections BUS_UNAVAILABLE (the code of
 * an unreachable backend in every adapter, stores and bus alike; NOT_CONNECTED only means
 * `connect()` was not called), server timeouts TIMEOUT, unique/serialization/deadlock failures
 * CONFLICT, auth and unknown database CONFIG_INVALID, the rest BACKEND_ERROR. The SQLSTATE is
 * kept in `details.sqlstate` and the original as `cause`. `connectionCode` overrides the code of
 * a lost connection (default BUS_UNAVAILABLE); a retryable error already mapped takes it.
 */
export function mapPgError(err: unknown, doing: string, connectionCode: SwitchyardErrorCode = 'BUS_UNAVAILABLE'): SwitchyardError {
  if (isSwitchyardError(err)) {
    const retryable = err.details?.retryable === true;
    if (!retryable || err.code === connectionCode || err.code === 'TIMEOUT') return err;
    return new SwitchyardError(connectionCode, err.message.replace(/^\[switchyard\] \[[^\]]*\] /, ''), {
      source: SOURCE,
      cause: err.cause ?? err,
      details: err.details,
    });
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as PgLikeError;
  const sqlstate = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const timedOut = isTimeoutError(err);
  const code = timedOut ? 'TIMEOUT' : isConnectionError(err) ? connectionCode : codeFor(sqlstate);
  const hint = sqlstate === '42P01' || sqlstate === '3F000' ? ' (have the migrations run?)' : '';
  return new SwitchyardError(code, `${doing} failed: ${message}${hint}`, {
    source: SOURCE,
    cause: err,
    details: { sqlstate: sqlstate || undefined, retryable: isConnectionError(err) && !timedOut },
  });
}

export const closedError = (what: string): SwitchyardError =>
  new SwitchyardError('CLOSED', `${what} is closed`, { source: SOURCE });

export const notConnectedError = (what: string): SwitchyardError =>
  new SwitchyardError('NOT_CONNECTED', `${what} is not connected: call connect() first`, { source: SOURCE });

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
  ['auth', 'authentication failed', (c, t) => c === '28P01' || c === '28000' || /password authentication failed|no pg_hba\.conf entry|SASL/i.test(t)],
  ['tls', 'TLS handshake failed', (c, t) => /^(ERR_TLS|ERR_SSL|EPROTO|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(c) || /\b(TLS|SSL)\b|certificate/i.test(t)],
  ['dns', 'host not found', (c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EAI_NONAME' || c === 'EAI_FAIL'],
  ['refused', 'connection refused', (c) => c === 'ECONNREFUSED'],
  ['unreachable', 'host or network unreachable', (c) => c === 'EHOSTUNREACH' || c === 'ENETUNREACH' || c === 'EADDRNOTAVAIL'],
  ['timeout', 'timed out', (c, t) => c === 'ETIMEDOUT' || c === 'TIMEOUT' || /timed? ?out/i.test(t)],
  ['closed', 'the server closed the connection', (c, t) => c === 'ECONNRESET' || c === 'EPIPE' || /Connection terminated|server closed the connection|socket hang up/i.test(t)],
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
 * The error `connect()` throws when PostgreSQL cannot be reached: it names the server, says why in
 * plain words (`details.reason`) and what to check; the driver's error stays as `cause`.
 * Codes: refused, unknown host, unreachable, dropped and TLS failures
 * `unreachable` (BUS_UNAVAILABLE, for stores and bus alike); a timeout TIMEOUT; wrong credentials CONFIG_INVALID
 * (retrying will not help); anything else the code `mapPgError` gives it.
 */
export function connectError(err: unknown, where: ConnectTarget, unreachable: SwitchyardErrorCode = 'BUS_UNAVAILABLE'): SwitchyardError {
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
  const options = 'the connectionString or poolConfig option';
  const hint: Record<ConnectFailureReason, string> = {
    refused: `Is PostgreSQL running on ${target}? Check ${options}.`,
    dns: `Check the host name in ${options}.`,
    timeout: `Is ${target} reachable from here (firewall, wrong address${tls ? ', TLS to a server without it' : ''})? If PostgreSQL is only slow, raise connectTimeoutMs.`,
    auth: `Check the credentials (user name and password) in ${options}.`,
    tls: `Check that PostgreSQL on ${target} expects TLS (the ssl option, or sslmode in the connection string) and that its certificate is trusted.`,
    closed: `Is ${target} really PostgreSQL${tls ? ', and does it speak TLS' : ''}? Check ${options}.`,
    unreachable: `Check the host in ${options} and the network between here and ${target}.`,
    other: `Check ${options}.`,
  };
  const why = reason === 'timeout' && timeoutMs !== undefined ? `timed out after ${timeoutMs} ms` : words;
  const code: SwitchyardErrorCode =
    reason === 'timeout' ? 'TIMEOUT' : reason === 'auth' ? 'CONFIG_INVALID' : reason === 'other' ? mapPgError(err, 'connect', unreachable).code : unreachable;
  const redundant =
    !detail || /^time ?out$/i.test(detail) || why.toLowerCase().includes(detail.toLowerCase()) || (reason === 'timeout' && detail.includes(`${timeoutMs} ms`));
  const message = `cannot connect to PostgreSQL at ${target}: ${why}${redundant ? '' : ` (${detail})`}. ${hint[reason]}`;
  // `retryable` as mapPgError sets it: a caller that passes its own connectionCode re-codes it on it.
  return new SwitchyardError(code, message, { source: SOURCE, cause: err, details: { target, reason, retryable: code === unreachable } });
}
