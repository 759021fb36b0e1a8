import type { Lease } from '@switchyard/core';
import { makeSession, serviceUrl, unique, waitFor } from '@switchyard/core/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, PostgresRegistry, PostgresSessionStore, migrate, type PostgresOptions } from '../src/index.js';
import { dropSchema, randomSchema, sql } from './helpers.js';

const url = await serviceUrl('postgres');
const schemas: string[] = [];
/** The registry racer `i` uses (round robin). */
const at = (regs: PostgresRegistry[], i: number): PostgresRegistry => regs[i % regs.length] as PostgresRegistry;
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

  // A lease longer than any stall of a loaded machine: while it is held, a second winner can only
  // mean the lease is not exclusive (not that the race outlasted a short TTL).
  const HELD_MS = 60_000;

  it('many registries racing for one lease: exactly one wins, and again after it lapses with a greater token', async () => {
    const schema = fresh('lease');
    const regs = Array.from({ length: 8 }, () => new PostgresRegistry({ connectionString: url, schema }));
    try {
      await Promise.all(regs.map((r) => r.connect()));
      const lease = unique('coordinator');
      const race = async (round: string) =>
        (await Promise.all(Array.from({ length: 40 }, (_, i) => at(regs, i).acquireLease(lease, `${round}-${i}`, HELD_MS)))).filter(
          (l): l is Lease => l !== null,
        );
      const first = await race('a');
      expect(first).toHaveLength(1);
      const won = first[0] as Lease;
      const rows = await sql<{ holder: string; token: string }>(url as string, `SELECT holder, token FROM "${schema}"."sy_leases" WHERE name = $1`, [lease]);
      expect(rows).toEqual([{ holder: won.holder, token: String(won.token) }]);
      // The holder lets it lapse by the database clock (renewed for 1 ms), and the next race has one winner again.
      expect((await at(regs, 1).renewLease(won, 1))?.token).toBe(won.token);
      const second = await waitFor(async () => {
        const winners = await race('b');
        return winners.length > 0 ? winners : null;
      }, 10_000);
      expect(second).toHaveLength(1);
      expect(second[0]?.token).toBeGreaterThan(won.token);
      // The stale lease can neither be renewed nor free the new holder's lease.
      expect(await at(regs, 0).renewLease(won, 1000)).toBeNull();
      await at(regs, 0).releaseLease(won);
      expect(await at(regs, 2).acquireLease(lease, 'c-late', HELD_MS)).toBeNull();
    } finally {
      await Promise.all(regs.map((r) => r.close()));
    }
  });

  // A short lease under contention changes hands many times. Whatever the machine's speed, each
  // winner's [acquired, expiresAt] interval by the database clock must start no earlier than the
  // previous winner's ended, and every grant must carry the next token.
  it('a short lease passed around by racing registries: never two holders at once by the database clock, tokens consecutive', async () => {
    const schema = fresh('lease_short');
    const ttl = 50;
    const wanted = 6;
    const regs = Array.from({ length: 4 }, () => new PostgresRegistry({ connectionString: url, schema }));
    try {
      await Promise.all(regs.map((r) => r.connect()));
      const lease = unique('short');
      const grants: Lease[] = [];
      const deadline = Date.now() + 20_000;
      const racer = async (i: number) => {
        for (let attempt = 0; grants.length < wanted && Date.now() < deadline; attempt++) {
          // A new holder name per attempt: every grant is a new acquisition, never a renewal.
          const l = await at(regs, i).acquireLease(lease, `r${i}-${attempt}`, ttl);
          if (l) grants.push(l);
        }
      };
      await Promise.all(Array.from({ length: 12 }, (_, i) => racer(i)));
      expect(grants.length).toBeGreaterThanOrEqual(wanted);
      grants.sort((a, b) => a.token - b.token);
      expect(grants.map((g) => g.token)).toEqual(grants.map((_, k) => k + 1));
      for (let k = 1; k < grants.length; k++) {
        const prev = grants[k - 1] as Lease;
        const next = grants[k] as Lease;
        expect(next.expiresAt - ttl, `grant #${next.token} starts before #${prev.token} expired`).toBeGreaterThanOrEqual(prev.expiresAt);
      }
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
