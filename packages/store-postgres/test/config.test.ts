import { rejectsWithCode, serviceUrl } from '@switchyard/core/testing';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  PostgresBus,
  PostgresHistory,
  PostgresRegistry,
  PostgresSessionStore,
  createPostgresAdapter,
  migrate,
  parseOptions,
  quoteIdent,
} from '../src/index.js';
import { dropSchema, randomSchema, sql } from './helpers.js';

const url = await serviceUrl('postgres');

const codeOf = (fn: () => unknown): { code?: string; message?: string } => {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message?: string };
  }
  return {};
};

describe('options', () => {
  it.each([
    ['schema', { schema: 'Public' }],
    ['schema', { schema: 'x"; DROP TABLE users; --' }],
    ['schema', { schema: '1abc' }],
    ['schema', { schema: 'a'.repeat(42) }],
    ['tablePrefix', { tablePrefix: 'sy-' }],
    ['tablePrefix', { tablePrefix: '' }],
    ['tablePrefix', { tablePrefix: 'sy_ ' }],
  ])('refuses a bad %s with CONFIG_INVALID naming the field', (field, bad) => {
    const err = codeOf(() => parseOptions({ connectionString: 'postgres://127.0.0.1/x', ...bad }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(`${field}:`);
    expect(err.message).toContain('^[a-z_][a-z0-9_]{0,40}$');
  });

  it('refuses bad identifiers in every constructor and in migrate', async () => {
    const bad = { connectionString: 'postgres://127.0.0.1/x', tablePrefix: 'x;drop' };
    for (const make of [
      () => new PostgresBus(bad),
      () => new PostgresRegistry(bad),
      () => new PostgresSessionStore(bad),
      () => new PostgresHistory(bad),
      () => createPostgresAdapter(bad),
    ]) {
      expect(codeOf(make).code).toBe('CONFIG_INVALID');
    }
    const pool = new pg.Pool({ connectionString: 'postgres://127.0.0.1:1/none' });
    await rejectsWithCode(migrate(pool, { schema: 'no good' }), 'CONFIG_INVALID');
    await pool.end();
  });

  it('needs exactly one of connectionString, poolConfig or pool', () => {
    expect(codeOf(() => parseOptions({})).message).toContain('exactly one');
    expect(codeOf(() => parseOptions({ connectionString: 'postgres://a/b', poolConfig: { host: 'x' } })).code).toBe('CONFIG_INVALID');
    expect(codeOf(() => parseOptions({ connectionString: 'postgres://a/b', sweepIntervalMs: 1 })).message).toContain('sweepIntervalMs');
    expect(codeOf(() => parseOptions({ connectionString: 'postgres://a/b', bus: { inlineLimitBytes: 9000 } })).message).toContain('bus.inlineLimitBytes');
  });

  it('fills defaults from the schema', () => {
    const o = parseOptions({ connectionString: 'postgres://a/b' });
    expect(o.schema).toBe('switchyard');
    expect(o.tablePrefix).toBe('sy_');
    expect(o.bus.maxPayloadBytes).toBe(1024 * 1024);
    expect(o.history.maxLength).toBe(1000);
    expect(o.publishBufferSize).toBe(10_000);
  });

  it('takes bus.bufferSize, the old name of publishBufferSize, with one warning', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_o: unknown, msg?: string) => void warnings.push(String(msg)) };
    const o = parseOptions({ connectionString: 'postgres://a/b', bus: { bufferSize: 3, pingIntervalMs: 0 }, logger });
    expect(o.publishBufferSize).toBe(3);
    expect(o.bus.bufferSize).toBe(3);
    expect(o.bus.pingIntervalMs).toBe(0);
    expect(warnings).toEqual(['[switchyard] [postgres] option bus.bufferSize is deprecated: it is now publishBufferSize']);
    // The new name wins when both are given, and parsed options handed on warn no more.
    expect(parseOptions({ connectionString: 'postgres://a/b', publishBufferSize: 5, bus: { bufferSize: 5 } }).publishBufferSize).toBe(5);
    parseOptions(o);
    expect(warnings).toHaveLength(1);
    // createPostgresAdapter parses once for its four ports: one warning for the whole adapter.
    const adapter = createPostgresAdapter({ connectionString: 'postgres://postgres@127.0.0.1:1/none', bus: { bufferSize: 2 }, logger });
    expect(warnings).toHaveLength(2);
    await Promise.all([adapter.bus.close(), adapter.sessions.close(), adapter.registry.close(), adapter.history.close()]);
  });

  it('quotes only plain identifiers', () => {
    expect(quoteIdent('sy_sessions')).toBe('"sy_sessions"');
    expect(codeOf(() => quoteIdent('a"b')).code).toBe('CONFIG_INVALID');
    expect(codeOf(() => quoteIdent('A')).code).toBe('CONFIG_INVALID');
  });

  it('does no I/O on construction: a dead address fails only at connect', async () => {
    const dead = { connectionString: 'postgres://postgres@127.0.0.1:1/none', poolConfig: undefined, queryRetries: 0 };
    const adapter = createPostgresAdapter(dead);
    expect(adapter.bus.status).toBe('idle');
    await rejectsWithCode(adapter.sessions.get('x'), 'NOT_CONNECTED');
    await rejectsWithCode(adapter.bus.publish('t', new Uint8Array(1)), 'NOT_CONNECTED');
    await rejectsWithCode(adapter.bus.connect(), 'BUS_UNAVAILABLE');
    await rejectsWithCode(adapter.sessions.connect(), 'BUS_UNAVAILABLE');
    await Promise.all([adapter.bus.close(), adapter.sessions.close(), adapter.registry.close(), adapter.history.close()]);
  });
});

describe.skipIf(!url)('a pool the caller passes in', () => {
  it('is used and never ended', async () => {
    const schema = randomSchema('pool');
    const pool = new pg.Pool({ connectionString: url, max: 6 });
    try {
      const adapter = createPostgresAdapter({ pool, schema });
      await adapter.sessions.connect();
      await adapter.bus.connect();
      await adapter.sessions.put({ id: 's1', nodeId: 'n1', rooms: {}, createdAt: 1, updatedAt: 2 }, 60_000);
      await adapter.sessions.close();
      await adapter.bus.close();
      await adapter.bus.close();
      const r = await pool.query<{ node_id: string }>(`SELECT node_id FROM "${schema}"."sy_sessions" WHERE id = 's1'`);
      expect(r.rows[0]?.node_id).toBe('n1');
      expect(pool.ending).toBe(false);
    } finally {
      await pool.end();
      await dropSchema(url as string, schema);
    }
  });

  it('refuses to start on an old schema when autoMigrate is off, and the adapter migrates on request', async () => {
    const schema = randomSchema('nomig');
    const adapter = createPostgresAdapter({ connectionString: url, schema, autoMigrate: false });
    try {
      await rejectsWithCode(adapter.sessions.connect(), 'BACKEND_ERROR');
      const first = await adapter.migrate();
      expect(first.applied).toEqual([1, 2, 3, 4]);
      expect((await adapter.migrate()).applied).toEqual([]);
      await adapter.sessions.connect();
      expect(await adapter.sessions.get('nobody')).toBeNull();
      const tables = await sql<{ table_name: string }>(
        url as string,
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual(
        ['affinity', 'bus_payloads', 'history', 'leases', 'migrations', 'nodes', 'sessions', 'streams'].map((t) => `sy_${t}`),
      );
    } finally {
      await adapter.sessions.close();
      await dropSchema(url as string, schema);
    }
  });
});
