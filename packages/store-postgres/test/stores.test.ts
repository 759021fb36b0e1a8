import { Closer, bytes, makeNode, makeSession, serviceUrl, unique, waitFor } from '@switchyard/core/testing';
import type { RegistryEvent } from '@switchyard/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PostgresHistory, PostgresRegistry, PostgresSessionStore, type PostgresOptions } from '../src/index.js';
import { dropSchema, randomSchema, sql } from './helpers.js';

const url = await serviceUrl('postgres');
const schema = randomSchema('stores');
const base: PostgresOptions = { connectionString: url ?? 'postgres://unused', schema, sweepIntervalMs: 100 };
const count = async (table: string, where: string, params: unknown[]) =>
  (await sql<{ n: number }>(url as string, `SELECT count(*)::int AS n FROM "${schema}"."sy_${table}" WHERE ${where}`, params))[0]?.n;

describe.skipIf(!url)('Postgres stores: what the contracts do not see', () => {
  const closer = new Closer();
  afterEach(() => closer.closeAll());
  afterAll(() => dropSchema(url as string, schema));

  // Rows are written with a long TTL and counted, then given a 1 ms TTL: counting right after a
  // short-TTL write raced the 100 ms sweeper on a loaded machine.
  it('the session sweeper deletes expired rows (and expired affinity keys) from the tables, and keeps live ones', async () => {
    const s = closer.add(new PostgresSessionStore(base));
    await s.connect();
    const node = unique('node');
    const [gone, kept] = [makeSession(unique('gone'), node), makeSession(unique('kept'), node)];
    await s.put(gone, 60_000);
    await s.put(kept, 60_000);
    await s.setAffinity(`k-${node}`, node, 60_000);
    expect(await count('sessions', 'node_id = $1', [node])).toBe(2);
    expect(await count('affinity', 'node_id = $1', [node])).toBe(1);
    await s.put(gone, 1);
    await s.setAffinity(`k-${node}`, node, 1);
    await waitFor(async () => (await count('sessions', 'node_id = $1', [node])) === 1, 10_000, 50);
    await waitFor(async () => (await count('affinity', 'node_id = $1', [node])) === 0, 10_000, 50);
    expect(await count('sessions', 'id = $1', [kept.id])).toBe(1);
  });

  it('expired nodes are swept and announced as left with reason timeout', async () => {
    const [a, b] = [closer.add(new PostgresRegistry(base)), closer.add(new PostgresRegistry(base))];
    await a.connect();
    await b.connect();
    const events: RegistryEvent[] = [];
    b.watch((e) => events.push(e));
    const id = unique('node');
    await a.register(makeNode(id), 200);
    await waitFor(() => events.some((e) => e.type === 'joined' && e.node.id === id), 10_000);
    await waitFor(() => events.some((e) => e.type === 'left' && e.nodeId === id && e.reason === 'timeout'), 10_000);
    expect(await count('nodes', 'id = $1', [id])).toBe(0);
  });

  it('announces a node too large for one notification by id, and watchers fetch it', async () => {
    const [a, b] = [closer.add(new PostgresRegistry(base)), closer.add(new PostgresRegistry(base))];
    await a.connect();
    await b.connect();
    const events: RegistryEvent[] = [];
    b.watch((e) => events.push(e));
    const id = unique('big-node');
    closer.defer(() => a.deregister(id));
    await a.register(makeNode(id, { meta: { blob: 'x'.repeat(10_000) } }), 60_000);
    const joined = await waitFor(() => events.find((e) => e.type === 'joined' && e.node.id === id), 10_000);
    expect(joined.type === 'joined' && joined.node.meta?.blob?.length).toBe(10_000);
  });

  it('the history sweeper deletes entries past their age; offsets keep growing', async () => {
    const h = closer.add(new PostgresHistory({ ...base, history: { maxAgeMs: 200, maxLength: 100 } }));
    await h.connect();
    const s = unique('room.age');
    const first = await h.append(s, bytes('a'));
    await h.append(s, bytes('b'));
    await waitFor(async () => (await count('history', 'stream = $1', [s])) === 0, 10_000, 50);
    const r = await h.read(s, first.offset, { epoch: first.epoch });
    expect(r.entries).toEqual([]);
    expect(r.gap).toBe(true);
    expect(r.top).toBe(first.offset + 1);
    expect((await h.append(s, bytes('c'))).offset).toBe(first.offset + 2);
  });

  it('keeps session records exactly, including data and rooms with null epochs', async () => {
    const st = closer.add(new PostgresSessionStore(base));
    await st.connect();
    const rec = makeSession(unique('s'), unique('n'), {
      userId: 'ü-user',
      rooms: { 'room "quoted"': { offset: 0, epoch: null }, 'a.b': { offset: 9007199254740991, epoch: 'e' } },
      data: { nested: { list: [1, 'two', null] }, flag: true },
    });
    await st.put(rec, 60_000);
    expect(await st.get(rec.id)).toEqual(rec);
    await st.setRoom(rec.id, "it's", { offset: 5, epoch: 'x' });
    expect((await st.get(rec.id))?.rooms["it's"]).toEqual({ offset: 5, epoch: 'x' });
  });
});
