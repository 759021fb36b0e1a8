import { isSwitchyardError } from '@switchyard/core';
import { bytes, Closer, makeNode, makeSession, serviceUrl, text, unique, waitFor } from '@switchyard/core/testing';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisAdapter, KeySpace, RedisBus, RedisHistory, RedisRegistry, RedisSessionStore, type RedisAdapterOptions } from '../src/index.js';

const url = await serviceUrl('redis');
const keyPrefix = `sy-spec-${randomBytes(4).toString('hex')}:`;
const keys = new KeySpace(keyPrefix);

/** The CONFIG_INVALID error thrown by `fn`, checked to name `field`. */
function configError(fn: () => unknown, field: string): string {
  try {
    fn();
  } catch (err) {
    expect(isSwitchyardError(err, 'CONFIG_INVALID')).toBe(true);
    const e = err as { message: string; source: string; details: { issues: Array<{ path: string }> } };
    expect(e.source).toBe('redis');
    expect(e.details.issues.map((i) => i.path)).toContain(field);
    expect(e.message).toContain(field);
    return e.message;
  }
  throw new Error(`expected CONFIG_INVALID for ${field}`);
}

describe('options', () => {
  const bad: Array<[string, RedisAdapterOptions, string]> = [
    ['a prefix with a space', { keyPrefix: 'my app:' }, 'keyPrefix'],
    ['a prefix with a brace (would change the hash slot)', { keyPrefix: '{x}' }, 'keyPrefix'],
    ['a prefix longer than 64', { keyPrefix: 'a'.repeat(65) }, 'keyPrefix'],
    ['a non-redis url', { url: 'http://127.0.0.1:6379' }, 'url'],
    ['a negative buffer', { publishBufferSize: -1 }, 'publishBufferSize'],
    ['an unknown mode', { mode: 'cluster' as never }, 'mode'],
    ['sharded without nodes', { mode: 'sharded' }, 'nodes'],
    ['nodes in standalone mode', { nodes: [{ host: '127.0.0.1', port: 7000 }] }, 'nodes'],
    ['a port out of range', { mode: 'sharded', nodes: [{ host: '127.0.0.1', port: 70_000 }] }, 'nodes.0.port'],
    ['a zero history length', { history: { maxLength: 0 } }, 'history.maxLength'],
    ['a non-client', { client: {} as never }, 'client'],
    ['a logger without methods', { logger: { info: () => undefined } as never }, 'logger'],
    ['a misspelled key', { keyPrefx: 'app:' } as never, 'keyPrefx'],
    ['url and connection together', { url: 'redis://127.0.0.1', connection: { host: 'x' } }, 'url'],
  ];
  for (const [what, options, field] of bad) {
    it(`refuses ${what} with CONFIG_INVALID naming ${field}`, () => {
      configError(() => new RedisBus(options), field);
      configError(() => createRedisAdapter(options), field);
    });
  }

  it('fills defaults and does no I/O when constructing', () => {
    const a = createRedisAdapter({ url: 'redis://127.0.0.1:1' }); // nothing listens there
    expect(a.bus.status).toBe('idle');
    expect(a.bus.capabilities).toEqual({ orderedPerTopic: true, sharded: false, durable: false, maxPayloadBytes: 16 * 1024 * 1024 });
    expect(a.history.capabilities).toEqual({ retentionByLength: true, retentionByAge: true });
  });
});

describe.skipIf(!url)('redis-specific behaviour against a real Redis', () => {
  const closer = new Closer();
  const base = { url: url as string, keyPrefix };
  const admin = new Redis(url as string, { lazyConnect: true });
  afterEach(() => closer.closeAll());
  afterAll(async () => {
    // Remove what this file wrote.
    if (admin.status === 'wait') await admin.connect();
    const found = await admin.keys(`${keyPrefix}*`);
    if (found.length) await admin.del(...found);
    await admin.quit();
  });

  it('ends each of 500 sessions on exactly one node when two stores race to reassign a dead node', async () => {
    const [a, b] = [closer.add(new RedisSessionStore(base)), closer.add(new RedisSessionStore(base))];
    await Promise.all([a.connect(), b.connect()]);
    const dead = unique('dead');
    const sessions = Array.from({ length: 500 }, (_, i) => makeSession(unique(`s${i}`), dead, { userId: `u${i % 7}` }));
    await Promise.all(sessions.map((s) => a.put(s, 60_000)));
    // Two plans that overlap on every session, issued at the same time from two connections.
    const targetsA = ['na1', 'na2'].map(unique);
    const targetsB = ['nb1', 'nb2'].map(unique);
    const planA = Object.fromEntries(sessions.map((s, i) => [s.id, targetsA[i % 2] as string]));
    const planB = Object.fromEntries(sessions.map((s, i) => [s.id, targetsB[i % 2] as string]));
    const [ra, rb] = await Promise.all([a.reassign(dead, planA), b.reassign(dead, planB)]);
    const movedA = Object.keys(ra.moved);
    const movedB = Object.keys(rb.moved);
    expect(movedA.length + movedB.length).toBe(500);
    expect(new Set([...movedA, ...movedB]).size).toBe(500);
    expect(ra.skipped.sort()).toEqual([...movedB].sort());
    expect(rb.skipped.sort()).toEqual([...movedA].sort());
    const stored = await Promise.all(sessions.map((s) => b.get(s.id)));
    stored.forEach((rec, i) => {
      const id = (sessions[i] as { id: string }).id;
      expect(rec?.nodeId).toBe(ra.moved[id] ?? rb.moved[id]);
    });
    expect(await a.byNode(dead)).toEqual([]);
    const perNode = await Promise.all([...targetsA, ...targetsB].map((n) => a.byNode(n)));
    const all = perNode.flat().map((s) => s.id);
    expect(all.length).toBe(500);
    expect(new Set(all).size).toBe(500);
  });

  it('puts session records, indexes and affinity under the prefix with TTLs', async () => {
    const s = closer.add(new RedisSessionStore(base));
    await s.connect();
    const rec = makeSession(unique('s'), unique('node'), { userId: unique('user') });
    await s.put(rec, 60_000);
    await s.setAffinity('user:x', rec.nodeId, 30_000);
    if (admin.status === 'wait') await admin.connect();
    const ttl = await admin.pttl(keys.session(rec.id));
    expect(ttl).toBeGreaterThan(50_000);
    expect(await admin.pttl(keys.nodeSessions(rec.nodeId))).toBeGreaterThan(50_000);
    expect(await admin.sismember(keys.userSessions(rec.userId as string), rec.id)).toBe(1);
    expect(await admin.pttl(keys.affinity('user:x'))).toBeGreaterThan(20_000);
  });

  it('writes a batch of sessions as put does, and loads the script again after SCRIPT FLUSH', async () => {
    const s = closer.add(new RedisSessionStore(base));
    await s.connect();
    if (admin.status === 'wait') await admin.connect();
    const node = unique('node');
    const batch = Array.from({ length: 20 }, (_, i) => makeSession(unique(`b${i}`), node, { userId: `u${i % 3}`, rooms: { lobby: { offset: i, epoch: 'e' } } }));
    // every script gone: each EVALSHA of the pipeline answers NOSCRIPT and is run again with EVAL
    await admin.script('FLUSH');
    await s.putMany(batch, 60_000);
    expect(await Promise.all(batch.map((r) => s.get(r.id)))).toEqual(batch);
    expect((await s.byNode(node)).length).toBe(20);
    expect(await admin.pttl(keys.session((batch[7] as { id: string }).id))).toBeGreaterThan(50_000);
  });

  it('keeps history as a Redis Stream with ids <offset>-0 and an exact length trim', async () => {
    const h = closer.add(new RedisHistory({ ...base, history: { maxLength: 3 } }));
    await h.connect();
    const stream = unique('room.ids');
    for (let i = 0; i < 5; i++) await h.append(stream, bytes(`x${i}`));
    if (admin.status === 'wait') await admin.connect();
    const ids = (await admin.xrange(keys.stream(stream), '-', '+')).map(([id]) => id);
    expect(ids).toEqual(['3-0', '4-0', '5-0']);
    const r = await h.read(stream, 2);
    expect(r.gap).toBe(false);
    expect(r.entries.map((e) => text(e.payload))).toEqual(['x2', 'x3', 'x4']);
    expect((await h.read(stream, 1)).gap).toBe(true);
    expect(await h.position(stream)).toEqual({ offset: 5, epoch: r.epoch });
  });

  it('never closes clients the caller passed in', async () => {
    const client = new Redis(url as string);
    try {
      const adapter = createRedisAdapter({ client, keyPrefix });
      await adapter.connect();
      const got: string[] = [];
      await adapter.bus.subscribe('room.own', (p) => got.push(text(p)));
      await adapter.bus.publish('room.own', bytes('mine'));
      await waitFor(() => got.length === 1, 5000);
      await adapter.registry.register(makeNode(unique('n')), 5000);
      await adapter.close();
      await adapter.close();
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });

  it('reports registry timeouts through watch reconciliation', async () => {
    const r = closer.add(new RedisRegistry({ ...base, registryReconcileMs: 100 }));
    await r.connect();
    const id = unique('node-timeout');
    const events: string[] = [];
    const stop = r.watch((e) => events.push(`${e.type}:${e.type === 'left' ? `${e.nodeId}:${e.reason}` : e.node.id}`));
    closer.defer(async () => stop());
    await r.register(makeNode(id), 200);
    await waitFor(() => events.includes(`left:${id}:timeout`), 10_000);
    expect(events).toContain(`joined:${id}`);
  });

  it('rejects everything with CLOSED after close, and NOT_CONNECTED before connect', async () => {
    const bus = new RedisBus(base);
    await expect(bus.publish('room.x', bytes('x'))).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    const s = new RedisSessionStore(base);
    await expect(s.get('x')).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    await s.close();
    await expect(s.get('x')).rejects.toMatchObject({ code: 'CLOSED', source: 'redis' });
    await bus.close();
    await expect(bus.connect()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('fails connect() clearly when Redis is unreachable, and leaves nothing running', async () => {
    const bus = new RedisBus({ url: 'redis://127.0.0.1:1', keyPrefix, connectTimeoutMs: 500 });
    const err = await bus.connect().then(() => null, (e: unknown) => e);
    expect(isSwitchyardError(err)).toBe(true);
    expect(['BUS_UNAVAILABLE', 'TIMEOUT']).toContain((err as { code: string }).code);
    expect(bus.status).toBe('idle');
    await bus.close();
    expect(bus.status).toBe('closed');
  });
});
