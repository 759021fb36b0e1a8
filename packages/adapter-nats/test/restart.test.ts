import { Closer, bytes, restartContract, text, waitFor } from '@switchyard/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus, NatsHistory, NatsSessionStore } from '../src/index.js';
import { hasNatsServer, PrivateNatsServer } from './private-server.js';

const available = hasNatsServer();
if (!available) process.stderr.write('[switchyard] skipping NATS restart tests: no nats-server binary on PATH\n');

describe.skipIf(!available)('broker restart (private nats-server)', () => {
  let server: PrivateNatsServer;
  const closer = new Closer();
  beforeAll(async () => {
    server = await PrivateNatsServer.start();
  });
  afterEach(() => closer.closeAll());
  afterAll(async () => {
    await server?.dispose();
  });

  const options = () => ({
    servers: server.url,
    prefix: 'restart',
    reconnectTimeWaitMs: 50,
    requestTimeoutMs: 1000,
    history: { stream: 'RESTART_H', epochBucket: 'restart_epochs', maxLength: 100_000 },
    sessions: { bucket: 'restart_sessions' },
  });

  // SIGTERM is a clean restart; SIGKILL a crash of the broker process (the OS keeps what JetStream wrote).
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    restartContract(`nats (${signal})`, {
      make: () => ({ bus: new NatsBus({ ...options(), publishBufferSize: 20 }), sessions: new NatsSessionStore(options()), history: new NatsHistory(options()) }),
      restart: { down: () => server.stop(signal), up: () => server.start() },
    });
  }

  it('history keeps every acknowledged append made under traffic across a crash; nats.js restores the subscription itself', async () => {
    const room = 'room.durable';
    const a = closer.add(new NatsBus(options()));
    const history = closer.add(new NatsHistory(options()));
    await Promise.all([a.connect(), history.connect()]);
    const got: number[] = [];
    await a.subscribe('room.live', (p) => got.push(Number(text(p))));

    // Traffic: a publishes a counter and appends to history until told to stop.
    let n = 0;
    let running = true;
    const acked: number[] = [];
    const publisher = (async () => {
      while (running) {
        await a.publish('room.live', bytes(String(n++))).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const appender = (async () => {
      let i = 0;
      while (running) {
        try {
          acked.push((await history.append(room, bytes(`h${i++}`))).offset);
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();

    await waitFor(() => got.length > 50 && acked.length > 20, 30_000);
    await server.stop('SIGKILL');
    await waitFor(() => a.status === 'reconnecting', 30_000, 10);
    const ackedBeforeRestart = acked.length;
    await server.start();
    await waitFor(() => a.status === 'connected', 30_000, 10);
    const mark = n;
    await waitFor(() => got.some((x) => x > mark + 50) && acked.length > ackedBeforeRestart + 20, 30_000);
    running = false;
    await Promise.all([publisher, appender]);

    expect(a.stats.recreated).toBe(0); // nats.js restored the subscription itself
    const stored = new Set<number>();
    let after = 0;
    for (;;) {
      const page = await history.read(room, after, { limit: 1000 });
      if (page.entries.length === 0) break;
      for (const e of page.entries) stored.add(e.offset);
      after = page.entries[page.entries.length - 1]!.offset;
    }
    expect(acked.filter((o) => !stored.has(o))).toEqual([]);
    expect(acked.length).toBeGreaterThan(40);
  });
});
