import type { Logger } from '@switchyard/core';
import { parseConfig } from '@switchyard/core/adapter';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { SOURCE } from './errors.js';

const isConnection = (v: unknown): v is NatsConnection =>
  typeof v === 'object' && v !== null &&
  ['publish', 'subscribe', 'status', 'flush', 'close'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function');

const connectionSchema = z.custom<NatsConnection>(isConnection, { message: 'expected a NatsConnection from @nats-io/transport-node' });

const loggerSchema = z.custom<Logger>(
  (v) => typeof v === 'object' && v !== null && ['debug', 'info', 'warn', 'error'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
  { message: 'expected a pino-compatible logger (debug, info, warn, error)' },
);

/**
 * A subject prefix: one or more tokens joined by `.`, each of letters, digits, `_` and `-`.
 * No wildcard (`*`, `>`), no whitespace, no empty token: it can never widen a subscription.
 */
export const SUBJECT_PREFIX_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/** Stream and bucket names: letters, digits, `_` and `-` (no `.`, wildcards, spaces or path separators). */
export const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

const subjectPrefix = z.string().max(64).regex(SUBJECT_PREFIX_PATTERN, 'NATS subject tokens only: A-Z a-z 0-9 _ - separated by single dots, no wildcards');
const resourceName = z.string().min(1).max(64).regex(NAME_PATTERN, 'only A-Z a-z 0-9 _ - (no dots, wildcards or spaces)');
const storage = z.enum(['file', 'memory']);
const server = z.string().min(1).regex(/^(nats|tls|ws|wss):\/\/[^\s]+$|^[^\s:/]+(:\d+)?$/, 'expected nats://host:port, tls://host:port or host:port');

/** The options of every NATS port of this package. Defaults live here; test/readme-options.test.ts keeps the README's options table in line with it. */
export const natsOptionsSchema = z
  .strictObject({
    /** Server URL(s) to connect to, e.g. `nats://127.0.0.1:4222`. We own that connection and close it. */
    servers: z.union([server, z.array(server).min(1)]).optional(),
    /** A connection you opened. We use it and never close it (not even on `close()`). */
    connection: connectionSchema.optional(),
    /** Client name shown in the server's monitoring. */
    name: z.string().min(1).max(128).default('switchyard'),
    /** Prefix of every subject this package uses (`<prefix>.t.*` bus, `<prefix>.h.*` history). */
    prefix: subjectPrefix.default('switchyard'),
    /** Time allowed to open the first connection, ms. */
    connectTimeoutMs: z.number().int().min(1).default(5000),
    /** Delay between reconnect attempts, ms (the client retries forever). */
    reconnectTimeWaitMs: z.number().int().min(1).default(250),
    /**
     * Client PING interval, ms (nats.js' stale-connection check). A server that answers none of
     * `maxPingOut` PINGs in a row is silent: the connection is dropped and dialled again (bus status
     * `reconnecting`, counted as `disconnect`), so a silent peer is noticed after about
     * `(maxPingOut + 1) * pingIntervalMs` (3 s with the defaults), not when TCP gives up.
     */
    pingIntervalMs: z.number().int().min(100).default(1000),
    /** PINGs left unanswered before the connection is declared stale (see `pingIntervalMs`). */
    maxPingOut: z.number().int().min(1).default(2),
    /**
     * nats.js async traces on the connection we open: every request then builds two Error objects
     * up front to keep its caller's stack, used only if it fails. Off by default: a failed call's
     * SwitchyardError names the operation already, and under load (a failover's session reads)
     * those Errors took about a sixth of a node's CPU. A `connection` you pass keeps its own setting.
     */
    asyncTraces: z.boolean().default(false),
    /**
     * Deadline of every JetStream and KV call (each request and publish acknowledgement), of the
     * round trip that confirms a bus subscribe or unsubscribe, and (added to the 2 s pull window)
     * of a history read's fetch, ms. A call with no answer by then rejects with TIMEOUT.
     */
    requestTimeoutMs: z.number().int().min(1).default(5000),
    /** Publishes kept while disconnected; past it publish rejects with BUFFER_FULL. 0 refuses every publish while disconnected. */
    publishBufferSize: z.number().int().min(0).default(10_000),
    /** Bytes kept while disconnected (sum of payloads); past it publish rejects with BUFFER_FULL. */
    publishBufferBytes: z.number().int().min(0).default(16 * 1024 * 1024),
    history: z
      .strictObject({
        /** The JetStream stream holding every room's history (subjects `<prefix>.h.>`). */
        stream: resourceName.default('SWITCHYARD_HISTORY'),
        /** The KV bucket holding each room's epoch. */
        epochBucket: resourceName.default('switchyard_epochs'),
        /** Keep at most this many entries per room (the stream's `max_msgs_per_subject`). */
        maxLength: z.number().int().min(1).default(1000),
        /** Drop entries older than this, ms (the stream's `max_age`). 0 keeps them regardless of age. */
        maxAgeMs: z.number().int().min(0).default(0),
        /** Default and largest page of `read`. */
        readLimit: z.number().int().min(1).max(10_000).default(1000),
        /** Stream storage: `file` survives a server restart, `memory` does not. */
        storage: storage.default('file'),
        /** Stream replicas (clustered JetStream). */
        replicas: z.number().int().min(1).max(5).default(1),
        /** When the stream exists with other limits: `update` changes it to ours, `keep` leaves it (logged). */
        onMismatch: z.enum(['update', 'keep']).default('update'),
      })
      .prefault({}),
    registry: z
      .strictObject({
        /** The KV bucket holding node records and leases. */
        bucket: resourceName.default('switchyard_registry'),
        /**
         * The bucket's `max_age`, ms: a backstop that drops records nobody refreshed (a crashed node's)
         * even when nobody calls `list()`. Every node TTL and lease TTL must be at most this. 0 turns it off.
         */
        maxAgeMs: z.number().int().min(0).default(60 * 60 * 1000),
        storage: storage.default('file'),
        replicas: z.number().int().min(1).max(5).default(1),
      })
      .prefault({}),
    sessions: z
      .strictObject({
        /** The KV bucket holding sessions and affinity keys. */
        bucket: resourceName.default('switchyard_sessions'),
        /** The bucket's `max_age` backstop, ms; every session and affinity TTL must be at most this. 0 turns it off. */
        maxAgeMs: z.number().int().min(0).default(24 * 60 * 60 * 1000),
        storage: storage.default('file'),
        replicas: z.number().int().min(1).max(5).default(1),
      })
      .prefault({}),
    /** Pino-compatible logger; silent when absent. */
    logger: loggerSchema.optional(),
  })
  .superRefine((o, ctx) => {
    if (!o.servers && !o.connection) {
      ctx.addIssue({ code: 'custom', path: ['servers'], message: 'give servers or a connection' });
    }
    if (o.servers && o.connection) {
      ctx.addIssue({ code: 'custom', path: ['servers'], message: 'give servers or a connection, not both' });
    }
  });

/** What callers pass. */
export type NatsAdapterOptions = z.input<typeof natsOptionsSchema>;
/** Options after validation and defaults. */
export type NatsAdapterConfig = z.output<typeof natsOptionsSchema>;

/** Validate options; a bad value throws CONFIG_INVALID naming the field and the reason. */
export function parseNatsOptions(input: NatsAdapterOptions | NatsAdapterConfig): NatsAdapterConfig {
  return parseConfig(natsOptionsSchema, input, SOURCE);
}
