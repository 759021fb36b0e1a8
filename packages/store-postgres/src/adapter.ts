import type { ClusterAdapter } from '@switchyard/core';
import { composeAdapter } from '@switchyard/core/adapter';
import { PostgresBus } from './bus.js';
import { PgConnection } from './connection.js';
import { PostgresHistory } from './history.js';
import type { MigrateResult } from './migrations.js';
import { parseOptions, type PostgresAdapterOptions } from './options.js';
import { PostgresRegistry } from './registry.js';
import { PostgresSessionStore } from './sessions.js';

/**
 * Every port on one shared pool: a `ClusterAdapter` that lacks nothing, plus `migrate()`.
 * Each port still has its own `connect()`/`close()`.
 */
export interface PostgresAdapter extends ClusterAdapter<PostgresBus, PostgresRegistry, PostgresSessionStore, PostgresHistory> {
  readonly capabilities: { readonly bus: true; readonly registry: true; readonly sessions: true; readonly history: true };
  /** Run the migrations now (opens the pool for the call if no port is connected). */
  migrate(): Promise<MigrateResult>;
}

/**
 * Build the Postgres bus, registry, session store and history on one pool. Validates the
 * options (CONFIG_INVALID on a bad value) and does no I/O: the pool is opened by the first
 * port's `connect()` and ended after the last port's `close()` (unless it is the caller's).
 */
export function createPostgresAdapter(options: PostgresAdapterOptions): PostgresAdapter {
  const conn = new PgConnection(parseOptions(options));
  const bus = new PostgresBus(options, conn);
  const registry = new PostgresRegistry(options, conn);
  const sessions = new PostgresSessionStore(options, conn);
  const history = new PostgresHistory(options, conn);
  return {
    // the pool ends with the last port's close
    ...composeAdapter({ bus, registry, sessions, history }),
    migrate: async () => {
      await conn.open(false);
      try {
        return await conn.runMigrations();
      } finally {
        await conn.release();
      }
    },
  };
}
