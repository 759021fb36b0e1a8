import { parseConfig } from '@switchyard/core/adapter';
import type { Logger } from '@switchyard/core';
import type pg from 'pg';
import { z } from 'zod';

/** What a schema name or table prefix must look like: lower-case, at most 41 characters. */
export const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]{0,40}$/;

const identifier = (what: string) =>
  z.string().regex(IDENTIFIER_PATTERN, `${what} must match ${IDENTIFIER_PATTERN.source}`);

/** Anything that looks like a `pg.Pool`: the caller's pool, which we never end. */
const poolLike = z.custom<pg.Pool>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { query?: unknown }).query === 'function' &&
    typeof (v as { connect?: unknown }).connect === 'function' &&
    typeof (v as { end?: unknown }).end === 'function',
  'expected a pg.Pool',
);

const loggerLike = z.custom<Logger>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['debug', 'info', 'warn', 'error'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
  'expected a pino-compatible logger (debug, info, warn, error)',
);

/** Connection settings handed to `pg.Pool` / `pg.Client` when we open connections ourselves. */
const poolConfig = z.looseObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().optional(),
  password: z.union([z.string(), z.function()]).optional(),
  database: z.string().optional(),
  ssl: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
  max: z.number().int().min(2).optional(),
  idleTimeoutMillis: z.number().int().nonnegative().optional(),
  connectionTimeoutMillis: z.number().int().nonnegative().optional(),
  statement_timeout: z.number().int().nonnegative().optional(),
  application_name: z.string().optional(),
});

const historySchema = z
  .strictObject({
    /** Keep at most this many entries per stream (trimmed on append). */
    maxLength: z.number().int().positive().default(1000),
    /** Drop entries older than this, ms (judged by the database clock). 0 keeps them regardless of age. */
    maxAgeMs: z.number().int().nonnegative().default(0),
    /** Default and largest page size of `read`. */
    readLimit: z.number().int().positive().max(100_000).default(1000),
  })
  .prefault({});

const busSchema = z
  .strictObject({
    /** Largest payload `publish` accepts, bytes. Above the inline limit payloads go through a table. */
    maxPayloadBytes: z.number().int().positive().max(256 * 1024 * 1024).default(1024 * 1024),
    /** Notifications up to this size (bytes, after encoding) carry the payload inline; NOTIFY allows < 8000. */
    inlineLimitBytes: z.number().int().min(256).max(7999).default(7900),
    /** How long a large payload's row is kept for listeners to fetch, ms. */
    overflowRetentionMs: z.number().int().positive().default(60_000),
    /** First reconnect delay, ms; doubles (with jitter) up to `reconnectMaxDelayMs`. */
    reconnectMinDelayMs: z.number().int().positive().default(100),
    reconnectMaxDelayMs: z.number().int().positive().default(5000),
    /**
     * A `SELECT 1` on each LISTEN connection (the bus's and the registry's) this often, ms: one
     * that gets no answer within `pingTimeoutMs` means the server went silent, and the connection
     * is dropped and opened again (LISTENs restored, buffered publishes flushed). 0 disables.
     */
    pingIntervalMs: z.number().int().nonnegative().default(2000),
    /** How long the liveness `SELECT 1` may go unanswered before the LISTEN connection is replaced, ms. */
    pingTimeoutMs: z.number().int().positive().default(2000),
  })
  .prefault({});

/** Options of every Postgres port and of `createPostgresAdapter`. Give exactly one of `connectionString`, `poolConfig` or `pool`. */
export const postgresOptionsSchema = z
  .strictObject({
    /** e.g. `postgres://user@127.0.0.1:5432/app`. We open (and end) our own pool. */
    connectionString: z.string().min(1).optional(),
    /** `pg.Pool` settings. We open (and end) our own pool. */
    poolConfig: poolConfig.optional(),
    /** A pool the caller owns. We use it and never end it. */
    pool: poolLike.optional(),
    /** Schema holding every table; created by the migrations. */
    schema: identifier('schema').default('switchyard'),
    /** Prefix of every table, index and notification channel name. */
    tablePrefix: identifier('tablePrefix').default('sy_'),
    /** Run the migrations (under an advisory lock) on `connect()`. When false, `connect()` checks the schema version instead. */
    autoMigrate: z.boolean().default(true),
    /** How long `migrate` waits for another node's migration lock, ms. */
    migrationLockTimeoutMs: z.number().int().positive().default(60_000),
    /** Sweepers (expired sessions, affinity keys, nodes, aged history, bus overflow rows) run this often, ms. */
    sweepIntervalMs: z.number().int().min(10).default(1000),
    /** Rows a sweeper deletes per statement; it repeats while batches come back full. */
    sweepBatchSize: z.number().int().positive().max(100_000).default(500),
    /** Retries of an idempotent statement that failed because the connection was lost. */
    queryRetries: z.number().int().nonnegative().max(20).default(5),
    /** First retry delay, ms; doubles per retry. */
    queryRetryDelayMs: z.number().int().positive().default(100),
    /**
     * Client-side deadline of every statement, ms (pg's `query_timeout`, set per statement so it
     * also holds on a pool you pass in), and of a transaction as a whole. A statement the server
     * does not answer in time rejects with TIMEOUT and its connection is discarded; it is not
     * retried. Migrations are not bounded by it (they wait for `migrationLockTimeoutMs`).
     */
    queryTimeoutMs: z.number().int().positive().default(5000),
    /** Deadline to open a connection (pg's `connectionTimeoutMillis`) on connections we open, ms; TIMEOUT past it. */
    connectTimeoutMs: z.number().int().positive().default(5000),
    /** TCP keep-alive on connections we open: first probe after this much idle time, ms (a backstop; the deadlines above come first). */
    keepAliveInitialDelayMs: z.number().int().nonnegative().default(10_000),
    /** Publishes kept while the bus's LISTEN connection is down; past it publish rejects with BUFFER_FULL. Old name: `bus.bufferSize`. */
    publishBufferSize: z.number().int().nonnegative().default(10_000),
    history: historySchema,
    bus: busSchema,
    /** A pino-compatible logger; nothing is logged without one. */
    logger: loggerLike.optional(),
  })
  .superRefine((o, ctx) => {
    const given = [o.connectionString, o.poolConfig, o.pool].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['connectionString'],
        message: 'give exactly one of connectionString, poolConfig or pool',
      });
    }
  });

/** Option names of earlier releases, still accepted: each is moved to its new name with one warning on `logger`. */
export const POSTGRES_OPTION_ALIASES = { 'bus.bufferSize': 'publishBufferSize' } as const;

type Input = z.input<typeof postgresOptionsSchema>;
type Output = z.output<typeof postgresOptionsSchema>;

/** What callers pass (defaults applied later). */
export type PostgresAdapterOptions = Input & {
  bus?: Input['bus'] & {
    /** @deprecated Use `publishBufferSize`. */
    bufferSize?: number;
  };
};
/** Options after validation, with every default filled in (`bus.bufferSize` repeats `publishBufferSize` for readers of the old name). */
export type PostgresAdapterConfig = Output & {
  bus: Output['bus'] & {
    /** @deprecated Read `publishBufferSize`. */
    bufferSize: number;
  };
};
/** @deprecated The old name of `PostgresAdapterOptions`. */
export type PostgresOptions = PostgresAdapterOptions;
/** @deprecated The old name of `PostgresAdapterConfig`. */
export type ResolvedPostgresOptions = PostgresAdapterConfig;

/** Validate options; a bad value throws CONFIG_INVALID naming the field and the reason. Old option names are accepted (warned). */
export function parseOptions(input: PostgresAdapterOptions): PostgresAdapterConfig {
  const o = parseConfig(postgresOptionsSchema, input, 'postgres', { aliases: POSTGRES_OPTION_ALIASES });
  return { ...o, bus: { ...o.bus, bufferSize: o.publishBufferSize } };
}
