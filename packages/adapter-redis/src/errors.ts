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
