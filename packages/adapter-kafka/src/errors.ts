import { SwitchyardError, isSwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';
import { describeConnectFailure, type ConnectTarget, type ConnectWords } from '@switchyard/core/adapter';

export { withoutCredentials, type ConnectFailureReason, type ConnectTarget } from '@switchyard/core/adapter';

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

/** What a connect failure says about Kafka itself; the rest is core's `describeConnectFailure`. */
const CONNECT_WORDS: ConnectWords = {
  backend: 'Kafka',
  source: SOURCE,
  options: 'the brokers option',
  tlsHow: 'the ssl option of the kafkajs client you pass',
  isAuthFailure: (_c, t) => /SASL|authentication/i.test(t),
  closedWords: /Connection closed/i,
  otherCode: (err) => mapKafkaError(err, 'connect').code,
};

/**
 * The error `connect()` throws when Kafka cannot be reached: it names the server, says why in
 * plain words (`details.reason`) and what to check; the driver's error stays as `cause`.
 * Codes: refused, unknown host, unreachable, dropped and TLS failures BUS_UNAVAILABLE (as any
 * connection loss); a timeout TIMEOUT; wrong credentials CONFIG_INVALID (retrying will not help);
 * anything else the code `mapKafkaError` gives it.
 */
export const connectError = (err: unknown, where: ConnectTarget): SwitchyardError => describeConnectFailure(err, where, CONNECT_WORDS);
