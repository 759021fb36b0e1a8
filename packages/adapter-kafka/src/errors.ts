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

/** The innermost kafkajs error (retries wrap the real one in `cause`). */
function original(err: unknown): KafkaJsLike {
  let e = (typeof err === 'object' && err !== null ? err : {}) as KafkaJsLike;
  for (let i = 0; i < 5 && e.name === 'KafkaJSNumberOfRetriesExceeded' && typeof e.cause === 'object' && e.cause !== null; i++) {
    e = e.cause as KafkaJsLike;
  }
  return e;
}

/** Protocol error type of a kafkajs error, e.g. `UNKNOWN_TOPIC_OR_PARTITION`, if any. */
export function protocolType(err: unknown): string | undefined {
  const t = original(err).type;
  return typeof t === 'string' ? t : undefined;
}

/**
 * True when the broker could not be reached or did not answer in time: the caller should
 * buffer and try again rather than give up.
 */
export function isUnreachable(err: unknown): boolean {
  const outer = (typeof err === 'object' && err !== null ? err : {}) as KafkaJsLike;
  const e = original(err);
  const name = typeof e.name === 'string' ? e.name : '';
  if (['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound', 'KafkaJSMetadataNotLoaded', 'KafkaJSLockTimeout', 'KafkaJSNoBrokerAvailableError', 'KafkaJSGroupCoordinatorNotFound'].includes(name)) return true;
  if (['LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT', 'NETWORK_EXCEPTION', 'NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'KAFKA_STORAGE_ERROR', 'BROKER_NOT_AVAILABLE', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS'].includes(protocolType(err) ?? '')) return true;
  return outer.name === 'KafkaJSNumberOfRetriesExceeded' && e.retriable === true;
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
