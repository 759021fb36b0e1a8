import { SwitchyardError, isSwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';
import { describeConnectFailure, type ConnectTarget, type ConnectWords } from '@switchyard/core/adapter';

export { withoutCredentials, type ConnectFailureReason, type ConnectTarget } from '@switchyard/core/adapter';

/** Source name on every error this package raises. */
export const SOURCE = 'nats';

/** JetStream API error codes this package reacts to. */
export const JsCodes = {
  /** `Nats-Expected-Last-Subject-Sequence` did not match: someone else wrote first. */
  wrongLastSequence: 10071,
  streamNotFound: 10059,
  noMessageFound: 10037,
} as const;

export const natsError = (code: SwitchyardErrorCode, message: string, cause?: unknown, details?: Record<string, unknown>): SwitchyardError =>
  new SwitchyardError(code, message, { source: SOURCE, cause, ...(details ? { details } : {}) });

export const closedError = (what: string): SwitchyardError => natsError('CLOSED', `${what} is closed`);
export const notConnectedError = (what: string): SwitchyardError => natsError('NOT_CONNECTED', `${what} is not connected: call connect() first`);

/** The JetStream API error code of a driver error, if it carries one. */
export function jsErrorCode(err: unknown): number | undefined {
  const e = err as { name?: string; code?: unknown };
  return e?.name === 'JetStreamApiError' && typeof e.code === 'number' ? e.code : undefined;
}

/** True when a compare-and-set write lost (KV update/create, expected last subject sequence). */
export const isWrongLastSequence = (err: unknown): boolean => {
  const code = jsErrorCode(err);
  return code === JsCodes.wrongLastSequence || code === 10164;
};

/**
 * Map a nats.js error into a SwitchyardError: lost or refused connections become
 * BUS_UNAVAILABLE, a closed connection CLOSED, timeouts TIMEOUT, lost compare-and-set writes
 * CONFLICT, other server replies BACKEND_ERROR. SwitchyardErrors pass through.
 */
export function mapNatsError(err: unknown, operation: string): SwitchyardError {
  if (isSwitchyardError(err)) return err;
  const e = err as { name?: string; message?: string };
  const message = e?.message ?? String(err);
  let code: SwitchyardErrorCode = 'BACKEND_ERROR';
  switch (e?.name) {
    case 'ClosedConnectionError':
    case 'DrainingConnectionError':
      code = 'CLOSED';
      break;
    case 'ConnectionError':
    case 'RequestError':
    case 'NoResponders':
    case 'JetStreamNotEnabled':
      code = 'BUS_UNAVAILABLE';
      break;
    case 'TimeoutError':
      code = 'TIMEOUT';
      break;
    case 'JetStreamApiError':
      code = isWrongLastSequence(err) ? 'CONFLICT' : 'BACKEND_ERROR';
      break;
    case 'JetStreamError':
      // A consumer that stopped hearing from the server: a silent peer, like a timeout.
      code = /heartbeats? missed/i.test(message) ? 'TIMEOUT' : 'BACKEND_ERROR';
      break;
    default:
      if (/ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|disconnected/i.test(message)) code = 'BUS_UNAVAILABLE';
      else if (/timeout|timed out/i.test(message)) code = 'TIMEOUT';
  }
  return natsError(code, `${operation} failed: ${message}`, err);
}

/** What a connect failure says about NATS itself; the rest is core's `describeConnectFailure`. */
const CONNECT_WORDS: ConnectWords = {
  backend: 'NATS',
  source: SOURCE,
  options: 'the servers option',
  tlsHow: 'a tls:// server URL',
  isAuthFailure: (_c, t) => /Authorization|authentication|invalid password|user (is )?disabled/i.test(t),
  otherCode: (err) => mapNatsError(err, 'connect').code,
};

/**
 * The error `connect()` throws when NATS cannot be reached: it names the server, says why in
 * plain words (`details.reason`) and what to check; the driver's error stays as `cause`.
 * Codes: refused, unknown host, unreachable, dropped and TLS failures BUS_UNAVAILABLE (as any
 * connection loss); a timeout TIMEOUT; wrong credentials CONFIG_INVALID (retrying will not help);
 * anything else the code `mapNatsError` gives it.
 */
export const connectError = (err: unknown, where: ConnectTarget): SwitchyardError => describeConnectFailure(err, where, CONNECT_WORDS);
