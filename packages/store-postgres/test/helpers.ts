import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A fresh schema name per test file, so files never see each other's tables. */
export const randomSchema = (tag: string): string => `sy_test_${tag}_${randomBytes(4).toString('hex')}`;

/** Run one statement on a short-lived client. */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Drop a test schema and everything in it. Names come from randomSchema only. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^sy_test_[a-z0-9_]+$/.test(schema)) throw new Error(`refusing to drop ${schema}`);
  await sql(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
