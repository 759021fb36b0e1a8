import { SwitchyardError, noopLogger, type Logger } from '@switchyard/core';
import { parseConfig } from '@switchyard/core/adapter';
import type pg from 'pg';
import { z } from 'zod';
import { SOURCE, mapPgError } from './errors.js';
import { Names } from './names.js';
import { IDENTIFIER_PATTERN } from './options.js';

/** One schema change. Statements are idempotent (`IF NOT EXISTS`) and run in one transaction. */
export interface Migration {
  version: number;
  name: string;
  statements: (n: Names) => string[];
}

/** Every migration, oldest first. Append new versions; never edit an applied one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions and affinity',
    statements: (n) => [
      `CREATE TABLE IF NOT EXISTS ${n.table('sessions')} (
        id text PRIMARY KEY,
        node_id text NOT NULL,
        user_id text,
        rooms jsonb NOT NULL DEFAULT '{}'::jsonb,
        data jsonb,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        expires_at timestamptz NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${n.index('sessions_user_idx')} ON ${n.table('sessions')} (user_id) WHERE user_id IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS ${n.index('sessions_node_idx')} ON ${n.table('sessions')} (node_id)`,
      `CREATE INDEX IF NOT EXISTS ${n.index('sessions_exp_idx')} ON ${n.table('sessions')} (expires_at)`,
      `CREATE TABLE IF NOT EXISTS ${n.table('affinity')} (
        key text PRIMARY KEY,
        node_id text NOT NULL,
        expires_at timestamptz NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${n.index('affinity_exp_idx')} ON ${n.table('affinity')} (expires_at)`,
    ],
  },
  {
    version: 2,
    name: 'node registry and leases',
    statements: (n) => [
      `CREATE TABLE IF NOT EXISTS ${n.table('nodes')} (
        id text PRIMARY KEY,
        info jsonb NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${n.index('nodes_exp_idx')} ON ${n.table('nodes')} (expires_at)`,
      `CREATE TABLE IF NOT EXISTS ${n.table('leases')} (
        name text PRIMARY KEY,
        holder text NOT NULL,
        token bigint NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`,
    ],
  },
  {
    version: 3,
    name: 'history streams',
    statements: (n) => [
      `CREATE TABLE IF NOT EXISTS ${n.table('streams')} (
        stream text PRIMARY KEY,
        epoch text NOT NULL,
        last_offset bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE IF NOT EXISTS ${n.table('history')} (
        stream text NOT NULL,
        "offset" bigint NOT NULL,
        payload bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stream, "offset")
      )`,
      `CREATE INDEX IF NOT EXISTS ${n.index('history_ts_idx')} ON ${n.table('history')} (created_at)`,
    ],
  },
  {
    version: 4,
    name: 'bus overflow payloads',
    statements: (n) => [
      `CREATE TABLE IF NOT EXISTS ${n.table('bus_payloads')} (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        payload bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX IF NOT EXISTS ${n.index('bus_payloads_ts_idx')} ON ${n.table('bus_payloads')} (created_at)`,
    ],
  },
];

/** The schema version this build needs. */
export const LATEST_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

const migrateOptionsSchema = z.object({
  schema: z.string().regex(IDENTIFIER_PATTERN, `schema must match ${IDENTIFIER_PATTERN.source}`).default('switchyard'),
  tablePrefix: z.string().regex(IDENTIFIER_PATTERN, `tablePrefix must match ${IDENTIFIER_PATTERN.source}`).default('sy_'),
  /** How long to wait for another node's migration lock, ms. */
  lockTimeoutMs: z.number().int().positive().default(60_000),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null).optional(),
});

export type MigrateOptions = z.input<typeof migrateOptionsSchema>;

export interface MigrateResult {
  /** Versions this call applied (empty when the schema was already current). */
  applied: number[];
  /** The schema version after the call. */
  version: number;
}

/** A pool (we take one client for the lock and give it back) or a connected client of the caller's. */
export type Queryable = pg.Pool | pg.ClientBase;

const isPool = (q: Queryable): q is pg.Pool => typeof (q as pg.Pool).totalCount === 'number';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Bring the schema up to date. Runs under a session-level `pg_advisory_lock` keyed on schema
 * and prefix, so any number of nodes may call it at once: one applies what is missing, the
 * others wait and then find nothing to do. Each migration runs in its own transaction and is
 * recorded once in `<prefix>migrations`.
 */
export async function migrate(db: Queryable, options: MigrateOptions = {}): Promise<MigrateResult> {
  const o = parseConfig(migrateOptionsSchema, options, SOURCE, { what: 'migrate options' });
  const names = new Names(o.schema, o.tablePrefix);
  const logger = o.logger ?? noopLogger;
  const client = isPool(db) ? await db.connect().catch((err: unknown) => Promise.reject(mapPgError(err, 'migrate: connect'))) : db;
  let broken: unknown;
  try {
    await takeLock(client, names.lockKey('migrate'), o.lockTimeoutMs);
    try {
      return await applyPending(client, names, logger);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [names.lockKey('migrate')]).catch((err: unknown) => {
        broken = err;
      });
    }
  } catch (err) {
    broken = err;
    throw mapPgError(err, 'migrate');
  } finally {
    if (isPool(db)) (client as pg.PoolClient).release(broken instanceof Error ? broken : undefined);
  }
}

async function takeLock(client: pg.ClientBase, key: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
    if (r.rows[0]?.ok) return;
    if (Date.now() + delay > deadline) {
      throw new SwitchyardError('TIMEOUT', `migrate: another node held the migration lock for more than ${timeoutMs} ms`, { source: SOURCE });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 250);
  }
}

async function applyPending(client: pg.ClientBase, names: Names, logger: Logger): Promise<MigrateResult> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${names.schema}`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${names.table('migrations')} (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const done = new Set(
    (await client.query<{ version: number }>(`SELECT version FROM ${names.table('migrations')}`)).rows.map((r) => r.version),
  );
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    await client.query('BEGIN');
    try {
      for (const sql of m.statements(names)) await client.query(sql);
      await client.query(`INSERT INTO ${names.table('migrations')} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    applied.push(m.version);
    logger.info({ schema: names.schemaName, version: m.version, migration: m.name }, 'applied migration');
  }
  return { applied, version: Math.max(0, ...done, ...applied) };
}

/** The schema version recorded in `<prefix>migrations`, 0 when nothing was applied yet. */
export async function schemaVersion(db: Queryable, options: Pick<MigrateOptions, 'schema' | 'tablePrefix'> = {}): Promise<number> {
  const names = new Names(options.schema ?? 'switchyard', options.tablePrefix ?? 'sy_');
  try {
    const exists = await db.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${names.table('migrations')}`]);
    if (!exists.rows[0]?.t) return 0;
    const r = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${names.table('migrations')}`);
    return r.rows[0]?.v ?? 0;
  } catch (err) {
    throw mapPgError(err, 'schema version');
  }
}
