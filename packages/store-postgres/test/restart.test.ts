import { bytes, makeNode, makeSession, restartContract, text, unique, waitFor } from '@switchyard/core/testing';
import type { RegistryEvent } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresAdapter, type PostgresAdapter, type PostgresOptions } from '../src/index.js';
import { PrivatePostgres, findPgBin } from './private-postgres.js';

const bin = findPgBin();
if (!bin) process.stderr.write('[switchyard] skipping the postgres restart test: no PostgreSQL server binaries under /usr/lib/postgresql\n');

describe.skipIf(!bin)('a PostgreSQL restart during use (private cluster)', () => {
  let server: PrivatePostgres;
  beforeAll(async () => {
    server = new PrivatePostgres(bin as string);
    await server.init();
  }, 120_000);
  afterAll(() => server?.destroy());

  const options = (): PostgresOptions => ({
    connectionString: server.url,
    schema: 'sy_restart',
    sweepIntervalMs: 200,
    queryRetries: 12,
    queryRetryDelayMs: 100,
    bus: { reconnectMinDelayMs: 50, reconnectMaxDelayMs: 500, bufferSize: 20 },
  });

  // `immediate` is a crash: recovery replays the WAL on start.
  restartContract('postgres (immediate shutdown)', {
    make: () => {
      const { bus, sessions, history } = createPostgresAdapter(options());
      return { bus, sessions, history };
    },
    restart: { down: () => server.stop('immediate'), up: () => server.start() },
  });

  describe('registry and committed state', () => {
    let adapter: PostgresAdapter;
    beforeAll(async () => {
      adapter = createPostgresAdapter(options());
      for (const port of [adapter.bus, adapter.registry, adapter.sessions, adapter.history]) await port.connect();
    });
    afterAll(async () => {
      for (const port of [adapter?.bus, adapter?.registry, adapter?.sessions, adapter?.history]) await port?.close();
    });

    it('a clean restart: the registry LISTEN comes back and the lease renews; a crash right after commits loses nothing', async () => {
      const { bus, registry, sessions, history } = adapter;
      const events: RegistryEvent[] = [];
      registry.watch((e) => events.push(e));

      // Committed state before the restart.
      const node = unique('node');
      const dead = unique('dead');
      const recs = Array.from({ length: 20 }, (_, i) => makeSession(unique(`s-${i}`), dead, { userId: `u-${i % 4}`, rooms: { lobby: { offset: i, epoch: 'e' } } }));
      for (const r of recs) await sessions.put(r, 600_000);
      await sessions.setAffinity('user:u-1', node, 600_000);
      const stream = unique('room.h');
      const positions = [];
      for (let i = 0; i < 30; i++) positions.push(await history.append(stream, bytes(`h${i}`)));
      await registry.register(makeNode(node), 600_000);
      const lease = await registry.acquireLease(unique('coordinator'), node, 600_000);
      expect(lease).not.toBeNull();

      // 1. A clean (fast) shutdown: sessions are terminated, the server comes back on the same port.
      await server.stop('fast');
      const pendingRead = sessions.get(recs[3]!.id); // retried until the server is back
      await server.start();
      expect((await pendingRead)?.nodeId).toBe(dead);
      expect(await sessions.getAffinity('user:u-1')).toBe(node);
      expect((await registry.get(node))?.id).toBe(node);
      expect((await registry.renewLease(lease!, 600_000))?.token).toBe(lease!.token);
      // The registry's LISTEN came back too (on its own connection and schedule).
      await waitFor(() => registry.watchStatus === 'connected', 30_000);
      const joiner = unique('joiner');
      await registry.register(makeNode(joiner), 600_000);
      await waitFor(() => events.some((e) => e.type === 'joined' && e.node.id === joiner), 30_000);

      // 2. A crash (immediate shutdown) right after commits: recovery replays the WAL.
      const moved = await sessions.reassign(dead, Object.fromEntries(recs.map((r) => [r.id, node])));
      expect(Object.keys(moved.moved)).toHaveLength(20);
      const last = await history.append(stream, bytes('h30'));
      await server.stop('immediate');
      await server.start();
      await waitFor(() => bus.status === 'connected', 30_000);
      expect((await sessions.byNode(node)).map((s) => s.id).sort()).toEqual(recs.map((r) => r.id).sort());
      expect(await sessions.byNode(dead)).toEqual([]);
      expect((await history.position(stream)).offset).toBe(last.offset);
      const tail = await history.read(stream, positions[29]?.offset as number);
      expect(tail.entries.map((e) => text(e.payload))).toEqual(['h30']);
    }, 120_000);
  });
});
