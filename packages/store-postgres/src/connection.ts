import { SwitchyardError, childLogger, isSwitchyardError, noopLogger, type AdapterObserver, type Logger } from '@switchyard/core';
import { noopObserver } from '@switchyard/core/adapter';
import pg from 'pg';
import { withDeadline } from './deadline.js';
import { SOURCE, connectError, isConnectionError, isTimeoutError, mapPgError, type ConnectTarget } from './errors.js';
import { LATEST_VERSION, migrate, schemaVersion, type MigrateResult } from './migrations.js';
import { Names } from './names.js';
import type { PostgresAdapterConfig } from './options.js';

/** A dedicated connection (LISTEN, publishing) and how to give it back. */
export interface DedicatedClient {
  client: pg.ClientBase;
  /** Close it (ours) or hand it back to the caller's pool, destroyed. */
  dispose(): void;
}

/** A statement with pg's per-statement client-side deadline (`query_timeout`, honoured by pg 8 but missing from its types). */
export type TimedQuery = pg.QueryConfig & { query_timeout: number };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The server connections go to, for connect errors, without credentials: the host and port of the
 * connection string or `poolConfig` (pg's defaults `localhost:5432`), else (your pool) the
 * address the socket error names.
 */
function serverOf(options: PostgresAdapterConfig, err: unknown): ConnectTarget {
  let host: string | undefined;
  let port: string | number | undefined;
  let tls = false;
  if (options.connectionString) {
    try {
      const u = new URL(options.connectionString);
      host = decodeURIComponent(u.hostname) || u.searchParams.get('host') || 'localhost';
      port = u.port || 5432;
      tls = /^(require|verify-ca|verify-full)$/.test(u.searchParams.get('sslmode') ?? '') || u.searchParams.get('ssl') === 'true';
    } catch {
      // not a URL (a key=value string): fall back to the socket error's address
    }
  } else if (options.poolConfig) {
    host = options.poolConfig.host ?? 'localhost';
    port = options.poolConfig.port ?? 5432;
    tls = options.poolConfig.ssl !== undefined && options.poolConfig.ssl !== false;
  }
  if (host === undefined) {
    for (let e = err as { address?: unknown; hostname?: unknown; port?: unknown; cause?: unknown } | undefined, i = 0; e && i < 6 && host === undefined; e = e.cause as typeof e, i++) {
      const h = typeof e.address === 'string' ? e.address : typeof e.hostname === 'string' ? e.hostname : undefined;
      if (h !== undefined) [host, port] = [h, typeof e.port === 'number' ? e.port : undefined];
    }
  }
  if (host === undefined) return { target: 'the server of the pool you passed', tls };
  const shown = host.includes(':') ? `[${host}]` : host; // an IPv6 address
  return { target: port === undefined ? shown : `${shown}:${port}`, tls };
}

/**
 * The pool and settings shared by the ports of one adapter. Reference counted: each port
 * calls `open()` in its `connect()` and `release()` in its `close()`; the pool is created on
 * the first open and ended after the last release, and only when we created it. Creating one
 * does no I/O.
 */
export class PgConnection {
  readonly names: Names;
  readonly logger: Logger;
  private observers = new Set<AdapterObserver>();
  private pool: pg.Pool | undefined;
  private refs = 0;
  private migrated: Promise<void> | undefined;
  private readonly onPoolError = (err: Error) => {
    this.count('error');
    this.logger.warn({ err: err.message }, 'idle postgres connection failed; the pool replaces it');
  };

  constructor(readonly options: PostgresAdapterConfig) {
    this.names = new Names(options.schema, options.tablePrefix);
    this.logger = childLogger(options.logger ?? noopLogger, { adapter: SOURCE });
  }

  /** True when the pool is the caller's (never ended by us). */
  get callerPool(): boolean {
    return this.options.pool !== undefined;
  }

  addObserver(observer: AdapterObserver): void {
    if (observer !== noopObserver) this.observers.add(observer);
  }

  count(event: Parameters<AdapterObserver['count']>[1], n = 1): void {
    for (const o of this.observers) o.count(SOURCE, event, n);
  }

  /** Settings for `pg.Client` / `pg.Pool` when we open connections ourselves (explicit `poolConfig` values win). */
  clientConfig(): pg.PoolConfig {
    const base: pg.PoolConfig = this.options.connectionString
      ? { connectionString: this.options.connectionString }
      : { ...(this.options.poolConfig as pg.PoolConfig) };
    return {
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: this.options.keepAliveInitialDelayMs,
      application_name: 'switchyard',
      ...base,
    };
  }

  /** A statement with the client-side deadline (`queryTimeoutMs`) attached, for any pool or client. */
  statement(sql: string, params: unknown[] = [], timeoutMs = this.options.queryTimeoutMs): TimedQuery {
    return { text: sql, values: params, query_timeout: timeoutMs };
  }

  /** Take a reference; the first creates the pool (no I/O yet) and runs or checks migrations (unless `checkSchema` is false). */
  async open(checkSchema = true): Promise<void> {
    this.refs++;
    if (!this.pool) {
      if (this.options.pool) {
        this.pool = this.options.pool;
      } else {
        this.pool = new pg.Pool(this.clientConfig());
        this.pool.on('error', this.onPoolError);
      }
    }
    if (!checkSchema) return;
    try {
      await this.ensureSchema();
    } catch (err) {
      await this.release();
      throw this.connectFailure(err);
    }
  }

  /**
   * What `connect()` throws when the server could not be reached (refused, unknown host, timed
   * out, authentication, TLS): where, why and what to check (see `connectError`). A failure once
   * connected (an old schema, a migration that failed) is thrown as it is.
   */
  private connectFailure(err: unknown): unknown {
    const original = isSwitchyardError(err) && err.cause !== undefined ? err.cause : err;
    if (isSwitchyardError(original)) return err;
    const failure = connectError(original, { ...serverOf(this.options, original), timeoutMs: this.options.connectTimeoutMs });
    return failure.details?.reason === 'other' ? err : failure;
  }

  /** Drop a reference; the last one ends the pool if it is ours. */
  async release(): Promise<void> {
    if (this.refs === 0) return;
    this.refs--;
    if (this.refs > 0 || !this.pool) return;
    const pool = this.pool;
    this.pool = undefined;
    this.migrated = undefined;
    if (!this.callerPool) {
      await pool.end().catch(() => undefined);
      pool.off('error', this.onPoolError);
    }
  }

  private ensureSchema(): Promise<void> {
    this.migrated ??= (async () => {
      const pool = this.requirePool();
      if (this.options.autoMigrate) {
        await this.runMigrations();
        return;
      }
      const version = await schemaVersion(pool, { schema: this.options.schema, tablePrefix: this.options.tablePrefix });
      if (version < LATEST_VERSION) {
        throw new SwitchyardError(
          'BACKEND_ERROR',
          `schema ${this.options.schema} is at version ${version}, this build needs ${LATEST_VERSION}: run the migrations (switchyard-pg-migrate) or set autoMigrate`,
          { source: SOURCE },
        );
      }
    })().catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  /** Run the migrations with this connection's schema and prefix. */
  async runMigrations(): Promise<MigrateResult> {
    const pool = this.requirePool();
    return this.retry('migrate', () =>
      migrate(pool, {
        schema: this.options.schema,
        tablePrefix: this.options.tablePrefix,
        lockTimeoutMs: this.options.migrationLockTimeoutMs,
        logger: this.logger,
      }),
    );
  }

  requirePool(): pg.Pool {
    if (!this.pool) throw new SwitchyardError('NOT_CONNECTED', 'postgres connection is not open: call connect() first', { source: SOURCE });
    return this.pool;
  }

  /**
   * Run one statement on the pool, with the client-side deadline `queryTimeoutMs` (TIMEOUT, and
   * the connection is discarded). Failures become SwitchyardErrors. When `idempotent`, a lost
   * connection is retried (a new pool connection each time) with a doubling delay; a timeout is not.
   */
  async query<R extends pg.QueryResultRow>(doing: string, sql: string, params: unknown[], idempotent: boolean): Promise<pg.QueryResult<R>> {
    const ours = () => this.requirePool().query<R>(this.statement(sql, params));
    // A pool you pass in may have no connect timeout: bound the wait for one of its clients too.
    const run = this.callerPool
      ? () => withDeadline(ours(), this.options.connectTimeoutMs + this.options.queryTimeoutMs, doing)
      : ours;
    if (!idempotent) {
      try {
        return await run();
      } catch (err) {
        if (isConnectionError(err)) this.count('error');
        throw mapPgError(err, doing);
      }
    }
    return this.retry(doing, run);
  }

  private async retry<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    let delay = this.options.queryRetryDelayMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const cause = (err as { cause?: unknown }).cause ?? err;
        if (!isConnectionError(cause) || isTimeoutError(cause) || attempt >= this.options.queryRetries || !this.pool) throw mapPgError(err, doing);
        this.count('error');
        this.logger.debug({ doing, attempt, err: (cause as Error).message }, 'postgres connection lost; retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  /**
   * Run `fn` in a transaction on one pool connection. The whole transaction has the deadline
   * `queryTimeoutMs`: past it, it rejects with TIMEOUT and the connection is discarded (the
   * server rolls back what it had when the connection goes).
   */
  async transaction<T>(doing: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.connectClient(this.requirePool(), doing);
    } catch (err) {
      throw mapPgError(err, doing);
    }
    let broken: Error | undefined;
    const work = (async () => {
      await client.query(this.statement('BEGIN'));
      const out = await fn(client);
      await client.query(this.statement('COMMIT'));
      return out;
    })();
    try {
      return await withDeadline(work, this.options.queryTimeoutMs, doing);
    } catch (err) {
      // A connection that went silent (or was lost) is discarded, never used for a ROLLBACK.
      if (isConnectionError(err) || (isSwitchyardError(err) && err.code === 'TIMEOUT')) broken = err as Error;
      else await client.query(this.statement('ROLLBACK')).catch((e: unknown) => (broken = e as Error));
      throw mapPgError(err, doing);
    } finally {
      client.release(broken);
    }
  }

  /**
   * A client from `pool` within `connectTimeoutMs` (a pool you pass in may have no connect
   * timeout of its own): TIMEOUT past it, and a client that arrives later is given back.
   */
  private connectClient(pool: pg.Pool, doing: string): Promise<pg.PoolClient> {
    return withDeadline(pool.connect(), this.options.connectTimeoutMs, `${doing} (connect)`, (late) => late.release(true));
  }

  /** A connection of its own for LISTEN: a new client, or one taken from the caller's pool for good. */
  async dedicatedClient(onLost: (err: Error | undefined) => void): Promise<DedicatedClient> {
    let client: pg.ClientBase;
    let dispose: () => void;
    let lost = false;
    const handleError = (err: Error) => {
      if (lost) return;
      lost = true;
      onLost(err);
    };
    const handleEnd = () => handleError(new Error('Connection terminated'));
    if (this.options.pool) {
      const pc = await this.connectClient(this.options.pool, 'listen connect');
      client = pc;
      dispose = () => {
        lost = true;
        pc.removeListener('error', handleError);
        pc.removeListener('end', handleEnd);
        pc.on('error', () => undefined);
        pc.release(true);
      };
    } else {
      const c = new pg.Client(this.clientConfig());
      c.on('error', handleError);
      c.on('end', handleEnd);
      try {
        await c.connect();
      } catch (err) {
        lost = true;
        c.removeListener('end', handleEnd);
        await c.end().catch(() => undefined);
        throw err;
      }
      client = c;
      dispose = () => {
        lost = true;
        c.removeListener('end', handleEnd);
        void c.end().catch(() => undefined);
      };
    }
    if (this.options.pool) {
      client.on('error', handleError);
      client.on('end', handleEnd);
    }
    return { client, dispose };
  }
}
