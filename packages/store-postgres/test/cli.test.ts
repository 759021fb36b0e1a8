import { serviceUrl } from '@switchyard/core/testing';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runMigrateCli } from '../src/cli-main.js';
import { LATEST_VERSION } from '../src/index.js';
import { dropSchema, randomSchema, sql } from './helpers.js';

const url = await serviceUrl('postgres');
const schema = randomSchema('cli');

const cli = async (args: string[], env: Record<string, string | undefined> = {}) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runMigrateCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('switchyard-pg-migrate', () => {
  it('explains itself and refuses to run without a database or with a bad identifier', async () => {
    expect((await cli(['--help'])).out).toContain('Usage: switchyard-pg-migrate');
    expect((await cli([])).code).toBe(2);
    expect((await cli(['--bogus'])).code).toBe(2);
    const bad = await cli(['--url', 'postgres://127.0.0.1:1/x', '--schema', 'Robert"); DROP TABLE students;--']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('CONFIG_INVALID');
    expect((await cli(['--url', 'postgres://127.0.0.1:1/x', '--prefix', 'a-b'])).err).toContain('--prefix must match');
  });

  describe.skipIf(!url)('against PostgreSQL', () => {
    afterAll(() => dropSchema(url as string, schema));

    it('migrates, is idempotent, and reports the status', async () => {
      expect((await cli(['--url', url as string, '--schema', schema, '--status'])).code).toBe(1);
      const first = await cli(['--url', url as string, '--schema', schema]);
      expect(first.code).toBe(0);
      expect(first.out).toContain('applied 1, 2, 3, 4');
      const again = await cli(['--schema', schema], { DATABASE_URL: url });
      expect(again.out).toContain(`already at version ${LATEST_VERSION}`);
      const status = await cli(['--url', url as string, '--schema', schema, '--status']);
      expect(status.code).toBe(0);
      expect(status.out).toContain(`version ${LATEST_VERSION}, latest ${LATEST_VERSION}`);
      const rows = await sql<{ n: number }>(url as string, `SELECT count(*)::int AS n FROM "${schema}"."sy_migrations"`);
      expect(rows[0]?.n).toBe(LATEST_VERSION);
    });

    it('runs as a command (src/cli.ts, the bin entry) with the exit code of the result', async () => {
      const entry = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@switchyard/source', '--import', 'tsx', entry, '--schema', schema, '--status'],
        { env: { ...process.env, DATABASE_URL: url }, timeout: 30_000 },
      );
      expect(stdout).toContain(`version ${LATEST_VERSION}, latest ${LATEST_VERSION}`);
    });
  });
});
