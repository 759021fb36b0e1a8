import type { Logger } from '@switchyard/core';
import { parseConfig } from '@switchyard/core/adapter';
import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';

/** A connected or connectable ioredis client: a single server or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

const isClient = (v: unknown): v is RedisClient =>
  typeof v === 'object' && v !== null && typeof (v as { duplicate?: unknown }).duplicate === 'function' &&
  typeof (v as { status?: unknown }).status === 'string';

const clientSchema = z.custom<RedisClient>(isClient, { message: 'expected an ioredis Redis or Cluster instance' });

const loggerSchema = z.custom<Logger>(
  (v) => typeof v === 'object' && v !== null && ['debug', 'info', 'warn', 'error'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
  { message: 'expected a pino-compatible logger (debug, info, warn, error)' },
);

const hostPort = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(6379),
});

/** Validated prefix: letters, digits and `:_.-` only, so it can never change a key's meaning. */
export const KEY_PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{0,64}$/;

/** The options of every Redis adapter of this package. Defaults live here; test/readme-options.test.ts keeps the README's options table in line with it. */
export const redisOptionsSchema = z
  .strictObject({
    /** `redis://[user:pass@]host:port[/db]` or `rediss://` for TLS. Standalone mode. */
    url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
    /** Connection options when no `url` is given (standalone mode). */
    connection: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(1).max(65535).default(6379),
        username: z.string().optional(),
        password: z.string().optional(),
        db: z.number().int().min(0).max(15).default(0),
        tls: z.boolean().default(false),
      })
      .optional(),
    /** Cluster seed nodes (sharded mode). */
    nodes: z.array(hostPort).min(1).optional(),
    /** A command client you own. We use it and never close it. */
    client: clientSchema.optional(),
    /** A subscriber client you own (bus and registry watch). When absent we duplicate `client`, and close our duplicate. */
    subscriber: clientSchema.optional(),
    /** `standalone`: one server (or a proxy). `sharded`: Redis Cluster, bus on SSUBSCRIBE/SPUBLISH. */
    mode: z.enum(['standalone', 'sharded']).default('standalone'),
    /** Prefix of every key and channel. */
    keyPrefix: z.string().regex(KEY_PREFIX_PATTERN, 'only A-Z a-z 0-9 : _ . - and at most 64 characters').default('sy:'),
    /** Largest bus payload in bytes; larger publishes reject with PAYLOAD_TOO_LARGE. */
    maxPayloadBytes: z.number().int().min(1).max(512 * 1024 * 1024).default(16 * 1024 * 1024),
    /** Publishes kept while Redis is unreachable; past it publish rejects with BUFFER_FULL. */
    publishBufferSize: z.number().int().min(0).default(10_000),
    /** Delay before the first reconnect attempt, ms; doubles up to `reconnectMaxDelayMs`. */
    reconnectMinDelayMs: z.number().int().min(1).default(50),
    /** Longest delay between reconnect attempts, ms. */
    reconnectMaxDelayMs: z.number().int().min(1).default(2000),
    /** Time allowed to open a connection, ms. */
    connectTimeoutMs: z.number().int().min(1).default(10_000),
    /** Reconnect attempts a command (other than a buffered publish) waits through before it fails. */
    maxRetriesPerRequest: z.number().int().min(0).default(20),
    /**
     * Deadline of every Redis call, ms: a command (and a registry, session or history call as a
     * whole, and a liveness PING) that has no answer by then rejects with TIMEOUT instead of waiting
     * for a peer that went silent. Also bounds a reconnect's handshake.
     */
    commandTimeoutMs: z.number().int().min(1).default(2000),
    /**
     * How often each long-lived connection (bus publisher and subscriber, registry watcher, command
     * clients) is probed with a PING that must answer within `commandTimeoutMs`, ms. A connection
     * that does not answer is counted (`disconnect`), marked down, and reconnected, after which
     * subscriptions are restored and buffered publishes flushed. 0 turns the probe off.
     */
    healthCheckIntervalMs: z.number().int().min(0).default(1000),
    /** How often an active `watch()` compares `list()` with what it saw, to report joins and timeouts it missed, ms. 0 turns it off. */
    registryReconcileMs: z.number().int().min(0).default(5000),
    history: z
      .strictObject({
        /** Keep at most this many entries per stream (exact trim). */
        maxLength: z.number().int().min(1).default(1000),
        /** Drop entries older than this, ms. 0 keeps them regardless of age. */
        maxAgeMs: z.number().int().min(0).default(0),
        /** Default and largest page of `read`. */
        readLimit: z.number().int().min(1).default(1000),
      })
      .prefault({}),
    /** Pino-compatible logger; silent when absent. */
    logger: loggerSchema.optional(),
  })
  .superRefine((o, ctx) => {
    if (o.mode === 'sharded' && !o.nodes && !o.client) {
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'sharded mode needs cluster seed nodes or a Cluster client' });
    }
    if (o.mode === 'standalone' && o.nodes) {
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'nodes are for sharded mode; use url or connection in standalone mode' });
    }
    if (o.url && o.connection) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give url or connection, not both' });
    }
    if (o.reconnectMaxDelayMs < o.reconnectMinDelayMs) {
      ctx.addIssue({ code: 'custom', path: ['reconnectMaxDelayMs'], message: 'must be at least reconnectMinDelayMs' });
    }
    if (o.subscriber && !o.client) {
      ctx.addIssue({ code: 'custom', path: ['subscriber'], message: 'a subscriber client needs a command client too' });
    }
  });

/** What callers pass. */
export type RedisAdapterOptions = z.input<typeof redisOptionsSchema>;
/** Options after validation and defaults. */
export type RedisAdapterConfig = z.output<typeof redisOptionsSchema>;

/** Validate options; a bad value throws CONFIG_INVALID naming the field and the reason. */
export function parseRedisOptions(input: RedisAdapterOptions | RedisAdapterConfig = {}): RedisAdapterConfig {
  return parseConfig(redisOptionsSchema, input, 'redis');
}
