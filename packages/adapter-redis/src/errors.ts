import { SwitchyardError, isSwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';
import { describeConnectFailure, type ConnectTarget, type ConnectWords } from '@switchyard/core/adapter';

export { withoutCredentials, type ConnectFailureReason, type ConnectTarget } from '@switchyard/core/adapter';

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

/** What a connect failure says about Redis itself; the rest is core's `describeConnectFailure`. */
const CONNECT_WORDS: ConnectWords = {
  backend: 'Redis',
  source: SOURCE,
  options: 'the url or connection option',
  tlsHow: 'rediss://',
  isAuthFailure: (_c, t) => /WRONGPASS|NOAUTH|invalid password|invalid username-password|auth(entication)? failed/i.test(t),
  closedWords: /Protocol error/i,
  otherCode: (err) => mapRedisError(err, 'connect').code,
};

/**
 * The error `connect()` throws when Redis cannot be reached: it names the server, says why in
 * plain words (`details.reason`) and what to check; the driver's error stays as `cause`.
 * Codes: refused, unknown host, unreachable, dropped and TLS failures BUS_UNAVAILABLE (as any
 * connection loss); a timeout TIMEOUT; wrong credentials CONFIG_INVALID (retrying will not help);
 * anything else the code `mapRedisError` gives it.
 */
export const connectError = (err: unknown, where: ConnectTarget): SwitchyardError => describeConnectFailure(err, where, CONNECT_WORDS);
