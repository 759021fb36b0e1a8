import { parseConfig } from '@switchyard/core/adapter';
import type { Logger } from '@switchyard/core';
import type { Kafka } from 'kafkajs';
import { z } from 'zod';

/** `host:port`, loopback or not; no scheme. */
const broker = z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'must look like host:port');

/** Kafka topic names allow `[A-Za-z0-9._-]`, 249 characters at most; the prefix leaves room for ours. */
const prefix = z
  .string()
  .max(100)
  .regex(/^[A-Za-z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-"');

const kafkaInstance = z.custom<Kafka>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { producer?: unknown }).producer === 'function' && typeof (v as { admin?: unknown }).admin === 'function',
  'must be a kafkajs Kafka instance',
);

const logger = z.custom<Logger>(
  (v) => typeof v === 'object' && v !== null && ['debug', 'info', 'warn', 'error'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
  'must have debug, info, warn and error methods',
);

/** Replication factor: -1 takes the broker's `default.replication.factor`. */
const replication = z.number().int().refine((n) => n === -1 || (n >= 1 && n <= 32), 'must be -1 (broker default) or 1..32');

/** The options of `createKafkaAdapter`, with their defaults. */
export const kafkaOptionsSchema = z
  .strictObject({
    /** Bootstrap brokers, `host:port`. Either this or `kafka`. */
    brokers: z.array(broker).min(1, 'needs at least one broker').optional(),
    /** A kafkajs instance you own; used as is and never disconnected by us. Either this or `brokers`. */
    kafka: kafkaInstance.optional(),
    /** Client id sent to the brokers (only used with `brokers`). */
    clientId: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'may hold only letters, digits, ".", "_" and "-"').default('switchyard'),
    /** Prefix of every topic and group id this adapter creates. */
    prefix: prefix.default('switchyard.'),
    /** Partitions of the bus topic (`<prefix>bus`) when it has to be created. */
    partitions: z.number().int().min(1).max(1000).default(6),
    /** Replication factor of the topics we create; -1 uses the broker's default. */
    replicationFactor: replication.default(-1),
    /** How long the bus topic keeps messages (its `retention.ms`), ms. */
    busRetentionMs: z.number().int().min(1000).default(60 * 60 * 1000),
    /** Acknowledgements a bus publish waits for: 1 (leader only, lowest latency) or -1 (all in-sync replicas). */
    busAcks: z.union([z.literal(1), z.literal(-1)]).default(1),
    /** Longest a fetch waits on the broker for data (the consumer's `maxWaitTimeInMs`). Small = low latency, more requests. */
    maxWaitTimeMs: z.number().int().min(1).max(10_000).default(20),
    /** Bytes a fetch waits for before answering (`minBytes`); 1 answers as soon as anything arrives. */
    minBytes: z.number().int().min(1).max(1024 * 1024).default(1),
    /** Largest payload, bytes. Kept under the broker's `message.max.bytes` (1 MiB by default) with room for key and headers. */
    maxPayloadBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1_000_000),
    /** Publishes kept while the broker is unreachable; past it publish rejects with BUFFER_FULL. Old name: `bufferSize`. */
    publishBufferSize: z.number().int().min(0).max(1_000_000).default(10_000),
    /** Time to reach the broker in `connect()`, ms. */
    connectTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
    /**
     * Deadline of one Kafka request, ms (kafkajs' `requestTimeout`, enforced on every request),
     * and of a bus produce as a whole: a broker that does not answer in time makes the bus buffer
     * and go `reconnecting`, and a bus consumer whose request timed out is replaced.
     */
    requestTimeoutMs: z.number().int().min(100).max(600_000).default(5_000),
    /**
     * Deadline of each history call as a whole (several requests, kafkajs' own retries, and for
     * `read` a consumer group join), ms; past it the call rejects with TIMEOUT.
     */
    operationTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
    /** Longest wait between two attempts to reach the broker again, ms. */
    maxReconnectDelayMs: z.number().int().min(50).max(60_000).default(2_000),
    history: z
      .strictObject({
        /** Entries kept per stream. Old name: `historyMaxLength`. */
        maxLength: z.number().int().min(1).max(10_000_000).default(1000),
        /** Entries older than this are not returned (and the topic's `retention.ms` drops them later); 0 keeps them. Old name: `historyMaxAgeMs`. */
        maxAgeMs: z.number().int().min(0).default(0),
        /** Default and largest page of `read`. Old name: `historyReadLimit`. */
        readLimit: z.number().int().min(1).max(100_000).default(1000),
      })
      .prefault({}),
    /** Pino-compatible logger. */
    logger: logger.optional(),
  })
  .refine((o) => o.brokers !== undefined || o.kafka !== undefined, { message: 'give either brokers or kafka', path: ['brokers'] })
  .refine((o) => !(o.brokers !== undefined && o.kafka !== undefined), { message: 'give brokers or kafka, not both', path: ['kafka'] });

/**
 * Option names of earlier releases, still accepted: each is moved to its new name with one
 * warning on `logger` (see the README's options section).
 */
export const KAFKA_OPTION_ALIASES = {
  bufferSize: 'publishBufferSize',
  historyMaxLength: 'history.maxLength',
  historyMaxAgeMs: 'history.maxAgeMs',
  historyReadLimit: 'history.readLimit',
} as const;

/** What callers pass. */
export type KafkaAdapterInput = z.input<typeof kafkaOptionsSchema> & {
  /** @deprecated Use `publishBufferSize`. */
  bufferSize?: number;
  /** @deprecated Use `history.maxLength`. */
  historyMaxLength?: number;
  /** @deprecated Use `history.maxAgeMs`. */
  historyMaxAgeMs?: number;
  /** @deprecated Use `history.readLimit`. */
  historyReadLimit?: number;
};
/** Options after validation and defaults (`bufferSize` repeats `publishBufferSize` for readers of the old name). */
export type KafkaAdapterConfig = z.output<typeof kafkaOptionsSchema> & {
  /** @deprecated Read `publishBufferSize`. */
  bufferSize: number;
};
/**
 * @deprecated The old name of `KafkaAdapterConfig` (options after validation and defaults).
 * What callers pass is `KafkaAdapterInput`.
 */
export type KafkaAdapterOptions = KafkaAdapterConfig;

/** Parse options; a bad value throws CONFIG_INVALID naming the field and the reason. Old option names are accepted (warned). */
export function parseKafkaOptions(input: unknown): KafkaAdapterConfig {
  const o = parseConfig(kafkaOptionsSchema, input ?? {}, 'kafka', { aliases: KAFKA_OPTION_ALIASES });
  return { ...o, bufferSize: o.publishBufferSize };
}
