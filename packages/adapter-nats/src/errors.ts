import { SwitchyardError, isSwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

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
  ['auth', 'authentication failed', (_c, t) => /Authorization|authentication|invalid password|user (is )?disabled/i.test(t)],
  ['tls', 'TLS handshake failed', (c, t) => /^(ERR_TLS|ERR_SSL|EPROTO|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(c) || /\b(TLS|SSL)\b|certificate/i.test(t)],
  ['dns', 'host not found', (c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EAI_NONAME' || c === 'EAI_FAIL'],
  ['refused', 'connection refused', (c) => c === 'ECONNREFUSED'],
  ['unreachable', 'host or network unreachable', (c) => c === 'EHOSTUNREACH' || c === 'ENETUNREACH' || c === 'EADDRNOTAVAIL'],
  ['timeout', 'timed out', (c, t) => c === 'ETIMEDOUT' || c === 'TIMEOUT' || /timed? ?out/i.test(t)],
  ['closed', 'the server closed the connection', (c, t) => c === 'ECONNRESET' || c === 'EPIPE' || /socket hang up/i.test(t)],
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
 * The error `connect()` throws when NATS cannot be reached: it names the server, says why in
 * plain words (`details.reason`) and what to check; the driver's error stays as `cause`.
 * Codes: refused, unknown host, unreachable, dropped and TLS failures
 * BUS_UNAVAILABLE (as any connection loss); a timeout TIMEOUT; wrong credentials CONFIG_INVALID
 * (retrying will not help); anything else the code `mapNatsError` gives it.
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
  const options = 'the servers option';
  const hint: Record<ConnectFailureReason, string> = {
    refused: `Is NATS running on ${target}? Check ${options}.`,
    dns: `Check the host name in ${options}.`,
    timeout: `Is ${target} reachable from here (firewall, wrong address${tls ? ', TLS to a server without it' : ''})? If NATS is only slow, raise connectTimeoutMs.`,
    auth: `Check the credentials (user name and password) in ${options}.`,
    tls: `Check that NATS on ${target} expects TLS (a tls:// server URL) and that its certificate is trusted.`,
    closed: `Is ${target} really NATS${tls ? ', and does it speak TLS' : ''}? Check ${options}.`,
    unreachable: `Check the host in ${options} and the network between here and ${target}.`,
    other: `Check ${options}.`,
  };
  const why = reason === 'timeout' && timeoutMs !== undefined ? `timed out after ${timeoutMs} ms` : words;
  const code: SwitchyardErrorCode =
    reason === 'timeout' ? 'TIMEOUT' : reason === 'auth' ? 'CONFIG_INVALID' : reason === 'other' ? mapNatsError(err, 'connect').code : 'BUS_UNAVAILABLE';
  const redundant =
    !detail || /^time ?out$/i.test(detail) || why.toLowerCase().includes(detail.toLowerCase()) || (reason === 'timeout' && detail.includes(`${timeoutMs} ms`));
  const message = `cannot connect to NATS at ${target}: ${why}${redundant ? '' : ` (${detail})`}. ${hint[reason]}`;
  return new SwitchyardError(code, message, { source: SOURCE, cause: err, details: { target, reason } });
}
