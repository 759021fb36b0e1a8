/** Postgres bus, registry, session store and history for Switchyard, on one pool (with its migrations). */
export { createPostgresAdapter, type PostgresAdapter } from './adapter.js';
export { PostgresBus } from './bus.js';
export { PostgresHistory } from './history.js';
export { PostgresRegistry } from './registry.js';
export { PostgresSessionStore } from './sessions.js';
export { migrate, schemaVersion, MIGRATIONS, LATEST_VERSION, type MigrateOptions, type MigrateResult, type Migration, type Queryable } from './migrations.js';
export {
  postgresOptionsSchema,
  parseOptions,
  IDENTIFIER_PATTERN,
  type PostgresAdapterOptions,
  type PostgresAdapterConfig,
  type PostgresOptions,
  type ResolvedPostgresOptions,
} from './options.js';
export { mapPgError, isConnectionError } from './errors.js';
export { quoteIdent, Names } from './names.js';
