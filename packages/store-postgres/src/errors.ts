import { SwitchyardError, isSwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';
import { describeConnectFailure, type ConnectTarget, type ConnectWords } from '@switchyard/core/adapter';

export { withoutCredentials, type ConnectFailureReason, type ConnectTarget } from '@switchyard/core/adapter';

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

/** What a connect failure says about PostgreSQL itself; the rest is core's `describeConnectFailure`. */
const CONNECT_WORDS = {
  backend: 'PostgreSQL',
  source: SOURCE,
  options: 'the connectionString or poolConfig option',
  tlsHow: 'the ssl option, or sslmode in the connection string',
  isAuthFailure: (c: string, t: string) => c === '28P01' || c === '28000' || /password authentication failed|no pg_hba\.conf entry|SASL/i.test(t),
  closedWords: /Connection terminated|server closed the connection/i,
} satisfies Partial<ConnectWords>;

/**
 * The error `connect()` throws when PostgreSQL cannot be reached: it names the server, says why in
 * plain words (`details.reason`) and what to check; the driver's error stays as `cause`.
 * Codes: refused, unknown host, unreachable, dropped and TLS failures
 * `unreachable` (BUS_UNAVAILABLE, for stores and bus alike); a timeout TIMEOUT; wrong credentials CONFIG_INVALID
 * (retrying will not help); anything else the code `mapPgError` gives it. `details.retryable` as
 * mapPgError sets it: a caller that passes its own connectionCode re-codes it on it.
 */
export function connectError(err: unknown, where: ConnectTarget, unreachable: SwitchyardErrorCode = 'BUS_UNAVAILABLE'): SwitchyardError {
  return describeConnectFailure(err, where, {
    ...CONNECT_WORDS,
    unreachableCode: unreachable,
    otherCode: (e) => mapPgError(e, 'connect', unreachable).code,
    details: (code) => ({ retryable: code === unreachable }),
  });
}
