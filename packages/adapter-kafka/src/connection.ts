import { childLogger, isSwitchyardError, noopLogger, type Logger, type SwitchyardError } from '@switchyard/core';
import { Kafka, logLevel, type Admin, type ITopicConfig, type logCreator } from 'kafkajs';
import { connectError, mapKafkaError } from './errors.js';
import type { KafkaAdapterConfig } from './options.js';

/** Send kafkajs's own log lines to our logger (errors are reported by us, so they go to debug). */
function logCreatorFor(logger: Logger): logCreator {
  return () => ({ namespace, level, log }) => {
    const { message, ...rest } = log;
    const obj = { kafkajs: namespace, ...rest };
    if (level === logLevel.WARN) logger.warn(obj, message);
    else logger.debug(obj, message);
  };
}

/** The logger of a component, bound to `adapter: kafka`. */
export const loggerFor = (options: KafkaAdapterConfig, component: string): Logger =>
  childLogger(options.logger ?? noopLogger, { adapter: 'kafka', component });

/**
 * The kafkajs client to use: the caller's own (never disconnected by us; kafkajs clients hold
 * no connection themselves, their producers/consumers/admins do) or one built from `brokers`.
 */
export function kafkaClient(options: KafkaAdapterConfig, logger: Logger): Kafka {
  if (options.kafka) return options.kafka;
  return new Kafka({
    brokers: options.brokers ?? [],
    clientId: options.clientId,
    connectionTimeout: Math.min(options.connectTimeoutMs, 3000),
    requestTimeout: options.requestTimeoutMs,
    // kafkajs' default too, stated: a request nobody answers fails instead of waiting forever.
    enforceRequestTimeout: true,
    // Short, bounded retries: the adapter keeps its own reconnect loop and buffer above kafkajs.
    retry: { initialRetryTime: 100, maxRetryTime: options.maxReconnectDelayMs, retries: 3 },
    logLevel: logLevel.WARN,
    logCreator: logCreatorFor(logger),
  });
}

/** The brokers a kafkajs error names (`KafkaJSConnectionError.broker`), outermost first. */
function brokersIn(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err, i = 0; typeof e === 'object' && e !== null && i < 6; e = (e as { cause?: unknown }).cause, i++) {
    const broker = (e as { broker?: unknown }).broker;
    if (typeof broker === 'string' && !out.includes(broker)) out.push(broker);
  }
  return out;
}

/**
 * The error `connect()` throws: when the brokers could not be reached (refused, unknown host,
 * timed out, SASL or TLS refused) it names them, the cause and what to check (see
 * `connectError`); any other failure (a topic the broker refused to create) is mapped as usual.
 */
export function connectFailure(options: KafkaAdapterConfig, err: unknown): SwitchyardError {
  if (isSwitchyardError(err) && err.code === 'CLOSED') return err;
  const brokers = options.brokers ?? brokersIn(err);
  const target = brokers.length > 0 ? brokers.join(', ') : 'the brokers of the kafkajs client you passed';
  const failure = connectError(err, { target, timeoutMs: options.connectTimeoutMs });
  return failure.details?.reason === 'other' ? mapKafkaError(err, 'connect') : failure;
}

/** Create `topic` with our settings when it is missing; an existing topic is left as it is. */
export async function ensureTopic(admin: Admin, topic: ITopicConfig): Promise<boolean> {
  return admin.createTopics({ topics: [topic], waitForLeaders: true });
}

/** Reject with `onTimeout()` when `p` takes longer than `ms`; the timer never outlives the race. */
export async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run `fn` again while it fails because the cluster is not ready yet (no leader, broker just
 * started), with a short growing pause, until `deadline` (ms since epoch). Other errors throw.
 */
export async function retryTransient<T>(fn: () => Promise<T>, deadline: number, isTransient: (err: unknown) => boolean): Promise<T> {
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || Date.now() + delay > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
