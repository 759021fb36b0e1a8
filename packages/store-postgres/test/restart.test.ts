import { bytes, CountingObserver, makeNode, makeSession, text, unique, waitFor } from '@switchyard/core/testing';
import type { RegistryEvent } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresAdapter, type PostgresAdapter } from '../src/index.js';
import { PrivatePostgres, findPgBin } from './private-postgres.js';

const bin = findPgBin();
if (!bin) process.stderr.write('[switchyard] skipping the postgres restart test: no PostgreSQL server binaries under /usr/lib/postgresql\n');

describe.skipIf(!bin)('a PostgreSQL restart during use (private cluster)', () => {
  let server: PrivatePostgres;
  let adapter: PostgresAdapter;
  const obs = new CountingObserver();

  beforeAll(async () => {
    server = new PrivatePostgres(bin as string);
    await server.init();
    adapter = createPostgresAdapter({
      connectionString: server.url,
      schema: 'sy_restart',
      sweepIntervalMs: 200,
      queryRetries: 12,
      queryRetryDelayMs: 100,
      bus: { reconnectMinDelayMs: 50, reconnectMaxDelayMs: 500, bufferSize: 100 },
    });
    for (const port of [adapter.bus, adapter.registry, adapter.sessions, adapter.history]) {
      port.instrument(obs);
      await port.connect();
    }
  }, 120_000);

  afterAll(async () => {
    for (const port of [adapter?.bus, adapter?.registry, adapter?.sessions, adapter?.history]) await port?.close();
    await server?.destroy();
  });

  it('reconnects by itself, LISTEN comes back, buffered publishes flush, and nothing committed is lost', async () => {
    const { bus, registry, sessions, history } = adapter;
    const topic = unique('room.restart');
    const got: string[] = [];
    await bus.subscribe(topic, (p) => got.push(text(p)));
    const events: RegistryEvent[] = [];
    registry.watch((e) => events.push(e));

    // Committed state before the restart.
    const node = unique('node');
    const dead = unique('dead');
    const recs = Array.from({ length: 20 }, (_, i) => makeSession(`s-${i}`, dead, { userId: `u-${i % 4}`, rooms: { lobby: { offset: i, epoch: 'e' } } }));
    for (const r of recs) await sessions.put(r, 600_000);
    await sessions.setAffinity('user:u-1', node, 600_000);
    const stream = unique('room.h');
    const positions = [];
    for (let i = 0; i < 30; i++) positions.push(await history.append(stream, bytes(`h${i}`)));
    await registry.register(makeNode(node), 600_000);
    const lease = await registry.acquireLease('coordinator', node, 600_000);
    expect(lease).not.toBeNull();
    await bus.publish(topic, bytes('before'));
    await waitFor(() => got.includes('before'), 5000);

    // 1. A clean (fast) shutdown: sessions are terminated, the server comes back on the same port.
    await server.stop('fast');
    await waitFor(() => bus.status === 'reconnecting', 10_000);
    await bus.publish(topic, bytes('while-down')); // buffered
    const pendingRead = sessions.get('s-3'); // retried until the server is back
    await server.start();
    expect((await pendingRead)?.nodeId).toBe(dead);
    await waitFor(() => bus.status === 'connected', 15_000);
    await waitFor(() => got.includes('while-down'), 10_000);
    await bus.publish(topic, bytes('after-fast'));
    await waitFor(() => got.includes('after-fast'), 10_000);
    expect(obs.get('resubscribe')).toBeGreaterThanOrEqual(1);
    expect(obs.get('reconnect')).toBeGreaterThanOrEqual(1);
    expect(obs.get('publish_flushed')).toBeGreaterThanOrEqual(1);

    // Everything committed is still there.
    expect((await sessions.byNode(dead)).map((s) => s.id).sort()).toEqual(recs.map((r) => r.id).sort());
    expect(await sessions.get('s-7')).toEqual(recs[7]);
    expect(await sessions.getAffinity('user:u-1')).toBe(node);
    const read = await history.read(stream, 0, { epoch: positions[0]?.epoch ?? null });
    expect(read.entries.map((e) => text(e.payload))).toEqual(positions.map((_, i) => `h${i}`));
    expect(read.gap).toBe(false);
    expect((await history.append(stream, bytes('h30'))).offset).toBe((positions[29]?.offset as number) + 1);
    expect((await registry.get(node))?.id).toBe(node);
    expect((await registry.renewLease(lease!, 600_000))?.token).toBe(lease!.token);

    // The registry's LISTEN came back too (on its own connection and schedule).
    await waitFor(() => registry.watchStatus === 'connected', 15_000);
    const joiner = unique('joiner');
    await registry.register(makeNode(joiner), 600_000);
    await waitFor(() => events.some((e) => e.type === 'joined' && e.node.id === joiner), 10_000);

    // 2. A crash (immediate shutdown) right after commits: recovery replays the WAL.
    const moved = await sessions.reassign(dead, Object.fromEntries(recs.map((r) => [r.id, node])));
    expect(Object.keys(moved.moved)).toHaveLength(20);
    const last = await history.append(stream, bytes('h31'));
    await server.stop('immediate');
    await waitFor(() => bus.status === 'reconnecting', 10_000);
    await server.start();
    await waitFor(() => bus.status === 'connected', 15_000);
    expect((await sessions.byNode(node)).map((s) => s.id).sort()).toEqual(recs.map((r) => r.id).sort());
    expect(await sessions.byNode(dead)).toEqual([]);
    expect((await history.position(stream)).offset).toBe(last.offset);
    const tail = await history.read(stream, positions[29]?.offset as number);
    expect(tail.entries.map((e) => text(e.payload))).toEqual(['h30', 'h31']);
    await bus.publish(topic, bytes('after-crash'));
    await waitFor(() => got.includes('after-crash'), 10_000);
    expect(got.filter((m) => m === 'before')).toHaveLength(1);
  }, 120_000);
});
