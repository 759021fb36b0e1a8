import { SwitchyardError, isSwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

/** Every error this package raises says `[switchyard] [kafka]`. */
export const SOURCE = 'kafka';

export const kafkaError = (code: SwitchyardErrorCode, message: string, cause?: unknown, details?: Record<string, unknown>): SwitchyardError =>
  new SwitchyardError(code, message, { source: SOURCE, cause, details });

export const closedError = (what: string): SwitchyardError => kafkaError('CLOSED', `${what} is closed`);

interface KafkaJsLike {
  name?: unknown;
  type?: unknown;
  retriable?: unknown;
  cause?: unknown;
  message?: unknown;
}

/** The error and its causes, outermost first (kafkajs wraps the real error when retries run out). */
function chain(err: unknown): KafkaJsLike[] {
  const out: KafkaJsLike[] = [];
  let e: unknown = err;
  for (let i = 0; i < 6 && typeof e === 'object' && e !== null; i++) {
    out.push(e as KafkaJsLike);
    e = (e as KafkaJsLike).cause;
  }
  return out;
}

/** The innermost error of the chain. */
const original = (err: unknown): KafkaJsLike => chain(err).at(-1) ?? {};

/** Protocol error type of a kafkajs error, e.g. `UNKNOWN_TOPIC_OR_PARTITION`, if any. */
export function protocolType(err: unknown): string | undefined {
  const t = original(err).type;
  return typeof t === 'string' ? t : undefined;
}

/**
 * True when the broker could not be reached or did not answer in time (a kafkajs request
 * timeout, or one of our deadlines): the caller should buffer and try again rather than give up.
 */
export function isUnreachable(err: unknown): boolean {
  const names = ['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound', 'KafkaJSMetadataNotLoaded', 'KafkaJSLockTimeout', 'KafkaJSNoBrokerAvailableError', 'KafkaJSGroupCoordinatorNotFound'];
  const types = ['LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT', 'NETWORK_EXCEPTION', 'NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'KAFKA_STORAGE_ERROR', 'BROKER_NOT_AVAILABLE', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS'];
  // Our own deadlines (a produce that did not finish in time) mean the same: nobody answered.
  return chain(err).some((e) => names.includes(String(e.name)) || types.includes(String(e.type)) || (isSwitchyardError(e) && e.code === 'TIMEOUT'));
}

/** Map a kafkajs (or any) error into a SwitchyardError; Switchyard errors pass through. */
export function mapKafkaError(err: unknown, action: string): SwitchyardError {
  if (isSwitchyardError(err)) return err;
  const type = protocolType(err);
  const msg = (original(err).message as string | undefined) ?? String(err);
  if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
    return kafkaError('PAYLOAD_TOO_LARGE', `${action}: the broker refused the message as too large (${msg})`, err);
  }
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION') return kafkaError('NOT_FOUND', `${action}: ${msg}`, err);
  if (isUnreachable(err)) return kafkaError('BUS_UNAVAILABLE', `${action}: broker unreachable (${msg})`, err);
  return kafkaError('BACKEND_ERROR', `${action}: ${msg}`, err, type ? { type } : undefined);
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
  ['auth', 'authentication failed', (_c, t) => /SASL|authentication/i.test(t)],
  ['tls', 'TLS handshake failed', (c, t) => /^(ERR_TLS|ERR_SSL|EPROTO|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(c) || /\b(TLS|SSL)\b|certificate/i.test(t)],
  ['dns', 'host not found', (c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EAI_NONAME' || c === 'EAI_FAIL'],
  ['refused', 'connection refused', (c) => c === 'ECONNREFUSED'],
  ['unreachable', 'host or network unreachable', (c) => c === 'EHOSTUNREACH' || c === 'ENETUNREACH' || c === 'EADDRNOTAVAIL'],
  ['timeout', 'timed out', (c, t) => c === 'ETIMEDOUT' || c === 'TIMEOUT' || /timed? ?out/i.test(t)],
  ['closed', 'the server closed the connection', (c, t) => c === 'ECONNRESET' || c === 'EPIPE' || /Connection closed|socket hang up/i.test(t)],
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
 * The error `connect()` throws when Kafka cannot be reached: it names the server, says why in
 * plain words (`details.reason`) and what to check; the driver's error stays as `cause`.
 * Codes: refused, unknown host, unreachable, dropped and TLS failures
 * BUS_UNAVAILABLE (as an unreachable broker anywhere); a timeout TIMEOUT; wrong credentials CONFIG_INVALID
 * (retrying will not help); anything else the code `mapKafkaError` gives it.
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
  const options = 'the brokers option';
  const hint: Record<ConnectFailureReason, string> = {
    refused: `Is Kafka running on ${target}? Check ${options}.`,
    dns: `Check the host name in ${options}.`,
    timeout: `Is ${target} reachable from here (firewall, wrong address${tls ? ', TLS to a server without it' : ''})? If Kafka is only slow, raise connectTimeoutMs.`,
    auth: `Check the credentials (user name and password) in ${options}.`,
    tls: `Check that Kafka on ${target} expects TLS (the ssl option of the kafkajs client you pass) and that its certificate is trusted.`,
    closed: `Is ${target} really Kafka${tls ? ', and does it speak TLS' : ''}? Check ${options}.`,
    unreachable: `Check the host in ${options} and the network between here and ${target}.`,
    other: `Check ${options}.`,
  };
  const why = reason === 'timeout' && timeoutMs !== undefined ? `timed out after ${timeoutMs} ms` : words;
  const code: SwitchyardErrorCode =
    reason === 'timeout' ? 'TIMEOUT' : reason === 'auth' ? 'CONFIG_INVALID' : reason === 'other' ? mapKafkaError(err, 'connect').code : 'BUS_UNAVAILABLE';
  const redundant =
    !detail || /^time ?out$/i.test(detail) || why.toLowerCase().includes(detail.toLowerCase()) || (reason === 'timeout' && detail.includes(`${timeoutMs} ms`));
  const message = `cannot connect to Kafka at ${target}: ${why}${redundant ? '' : ` (${detail})`}. ${hint[reason]}`;
  return new SwitchyardError(code, message, { source: SOURCE, cause: err, details: { target, reason } });
}
