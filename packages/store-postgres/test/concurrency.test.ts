import { makeSession, serviceUrl, unique } from '@switchyard/core/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, PostgresRegistry, PostgresSessionStore, migrate, type PostgresOptions } from '../src/index.js';
import { dropSchema, randomSchema, sql } from './helpers.js';

const url = await serviceUrl('postgres');
const schemas: string[] = [];
const fresh = (tag: string) => {
  const s = randomSchema(tag);
  schemas.push(s);
  return s;
};

describe.skipIf(!url)('concurrency on a real PostgreSQL', () => {
  afterAll(async () => {
    for (const s of schemas) await dropSchema(url as string, s);
  });

  it('8 nodes migrating at once end with one consistent schema and each version recorded once', async () => {
    const schema = fresh('mig');
    const pools = Array.from({ length: 8 }, () => new pg.Pool({ connectionString: url, max: 1 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool, { schema })));
      const applied = results.flatMap((r) => r.applied).sort((a, b) => a - b);
      expect(applied).toEqual(MIGRATIONS.map((m) => m.version));
      expect(results.every((r) => r.version === LATEST_VERSION)).toBe(true);
      const rows = await sql<{ version: number; n: number }>(
        url as string,
        `SELECT version, count(*)::int AS n FROM "${schema}"."sy_migrations" GROUP BY version ORDER BY version`,
      );
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, n: 1 })));
      const tables = await sql<{ n: number }>(url as string, 'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [schema]);
      expect(tables[0]?.n).toBe(8);
      const indexes = await sql<{ indexname: string }>(url as string, 'SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname', [schema]);
      expect(indexes.map((i) => i.indexname)).toEqual(
        expect.arrayContaining(['sy_sessions_user_idx', 'sy_sessions_node_idx', 'sy_sessions_exp_idx', 'sy_affinity_exp_idx', 'sy_nodes_exp_idx', 'sy_history_ts_idx', 'sy_bus_payloads_ts_idx']),
      );
      // Running again changes nothing.
      expect((await migrate(pools[0] as pg.Pool, { schema })).applied).toEqual([]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('many registries racing for one lease: exactly one wins, and again after it lapses with a greater token', async () => {
    const schema = fresh('lease');
    const regs = Array.from({ length: 8 }, () => new PostgresRegistry({ connectionString: url, schema, poolConfig: undefined }));
    try {
      await Promise.all(regs.map((r) => r.connect()));
      const lease = unique('coordinator');
      const race = (round: string, ttl: number) =>
        Promise.all(Array.from({ length: 40 }, (_, i) => (regs[i % regs.length] as PostgresRegistry).acquireLease(lease, `${round}-${i}`, ttl)));
      const first = (await race('a', 300)).filter((l) => l !== null);
      expect(first).toHaveLength(1);
      const rows = await sql<{ holder: string; token: string }>(url as string, `SELECT holder, token FROM "${schema}"."sy_leases" WHERE name = $1`, [lease]);
      expect(rows).toEqual([{ holder: first[0]?.holder, token: String(first[0]?.token) }]);
      // Wait for the lease to lapse by the database clock, then race again.
      let second: Array<Awaited<ReturnType<PostgresRegistry['acquireLease']>>> = [];
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        second = (await race('b', 5000)).filter((l) => l !== null);
        if (second.length > 0) break;
      }
      expect(second).toHaveLength(1);
      expect(second[0]?.token).toBeGreaterThan(first[0]?.token as number);
      expect(await (regs[0] as PostgresRegistry).renewLease(first[0]!, 1000)).toBeNull();
    } finally {
      await Promise.all(regs.map((r) => r.close()));
    }
  });

  it('coordinators racing to reassign the same sessions leave each on exactly one node', async () => {
    const schema = fresh('reassign');
    const base: PostgresOptions = { connectionString: url, schema };
    const stores = Array.from({ length: 5 }, () => new PostgresSessionStore(base));
    try {
      await Promise.all(stores.map((s) => s.connect()));
      const dead = unique('dead');
      const sessions = Array.from({ length: 300 }, (_, i) => makeSession(`s-${i}`, dead));
      await Promise.all(sessions.map((s) => (stores[0] as PostgresSessionStore).put(s, 60_000)));
      // Each coordinator plans a different target for every session, in a different order.
      const plans = stores.map((_, k) =>
        Object.fromEntries((k % 2 ? [...sessions].reverse() : sessions).map((s) => [s.id, `target-${k}`])),
      );
      const results = await Promise.all(stores.map((s, k) => s.reassign(dead, plans[k] as Record<string, string>)));
      const movedBy = new Map<string, number>();
      results.forEach((r, k) => {
        for (const [id, to] of Object.entries(r.moved)) {
          expect(movedBy.has(id)).toBe(false);
          expect(to).toBe(`target-${k}`);
          movedBy.set(id, k);
        }
        expect(r.skipped.length + Object.keys(r.moved).length).toBe(sessions.length);
      });
      expect(movedBy.size).toBe(sessions.length);
      const rows = await sql<{ id: string; node_id: string }>(url as string, `SELECT id, node_id FROM "${schema}"."sy_sessions"`);
      expect(rows).toHaveLength(sessions.length);
      for (const row of rows) expect(row.node_id).toBe(`target-${movedBy.get(row.id)}`);
      expect(await (stores[1] as PostgresSessionStore).byNode(dead)).toEqual([]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
