import { parseArgs } from 'node:util';
import pg from 'pg';
import { LATEST_VERSION, migrate, schemaVersion } from './migrations.js';
import { IDENTIFIER_PATTERN } from './options.js';

const USAGE = `Usage: switchyard-pg-migrate [--url <postgres url>] [--schema <name>] [--prefix <table prefix>] [--status] [--lock-timeout <ms>]

Brings the Switchyard schema up to date (safe to run from many nodes at once).
  --url           connection string (default: $DATABASE_URL)
  --schema        schema name (default: switchyard)
  --prefix        table prefix (default: sy_)
  --status        print the current and the latest schema version, change nothing
  --lock-timeout  how long to wait for another node's migration lock, ms (default 60000)
`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
}

/** The `switchyard-pg-migrate` command; resolves with the process exit code. */
export async function runMigrateCli(argv: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        schema: { type: 'string', default: 'switchyard' },
        prefix: { type: 'string', default: 'sy_' },
        status: { type: 'boolean', default: false },
        'lock-timeout': { type: 'string', default: '60000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const url = values.url ?? io.env.DATABASE_URL;
  if (!url) {
    io.err(`no database: pass --url or set DATABASE_URL\n${USAGE}`);
    return 2;
  }
  for (const [flag, value] of [['--schema', values.schema], ['--prefix', values.prefix]] as const) {
    if (!IDENTIFIER_PATTERN.test(value)) {
      io.err(`${flag} must match ${IDENTIFIER_PATTERN.source} (CONFIG_INVALID), got ${JSON.stringify(value)}`);
      return 2;
    }
  }
  const lockTimeoutMs = Number(values['lock-timeout']);
  if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs <= 0) {
    io.err(`--lock-timeout must be a positive integer of milliseconds`);
    return 2;
  }
  const client = new pg.Client({ connectionString: url, application_name: 'switchyard-pg-migrate' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    if (values.status) {
      const version = await schemaVersion(client, { schema: values.schema, tablePrefix: values.prefix });
      io.out(`schema ${values.schema} (prefix ${values.prefix}): version ${version}, latest ${LATEST_VERSION}`);
      return version < LATEST_VERSION ? 1 : 0;
    }
    const r = await migrate(client, { schema: values.schema, tablePrefix: values.prefix, lockTimeoutMs });
    io.out(
      r.applied.length
        ? `schema ${values.schema}: applied ${r.applied.join(', ')}; now at version ${r.version}`
        : `schema ${values.schema}: already at version ${r.version}`,
    );
    return 0;
  } catch (err) {
    io.err(`switchyard-pg-migrate: ${(err as Error).message}`);
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}
