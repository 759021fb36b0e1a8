import type { AdapterEvent, AdapterObserver, ConnectionStatus } from '@switchyard/core';
import { Closer, bytes, rejectsWithCode, text, waitFor } from '@switchyard/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus, NatsHistory } from '../src/index.js';
import { hasNatsServer, PrivateNatsServer } from './private-server.js';

const available = hasNatsServer();
if (!available) process.stderr.write('[switchyard] skipping NATS restart tests: no nats-server binary on PATH\n');

/** Counts adapter events, like core's prom-client observer would. */
class CountingObserver implements AdapterObserver {
  readonly counts = new Map<AdapterEvent, number>();
  count(_adapter: string, event: AdapterEvent, n = 1): void {
    this.counts.set(event, (this.counts.get(event) ?? 0) + n);
  }
  get(event: AdapterEvent): number {
    return this.counts.get(event) ?? 0;
  }
}

const waitStatus = (bus: NatsBus, status: ConnectionStatus, timeoutMs = 10_000) => waitFor(() => bus.status === status, timeoutMs, 10);

describe.skipIf(!available)('broker restart during traffic (private nats-server)', () => {
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
  });

  // SIGTERM is a clean restart; SIGKILL a crash of the broker process (the OS keeps what JetStream wrote).
  it.each(['SIGTERM', 'SIGKILL'] as const)('%s: restores subscriptions by itself, flushes what was buffered, and history keeps every acknowledged append', async (signal) => {
    const room = `room.live.${signal}`;
    const observer = new CountingObserver();
    const a = closer.add(new NatsBus(options()));
    a.instrument(observer);
    const b = closer.add(new NatsBus(options()));
    const small = closer.add(new NatsBus({ ...options(), publishBufferSize: 3 }));
    const history = closer.add(new NatsHistory(options()));
    await Promise.all([a.connect(), b.connect(), small.connect(), history.connect()]);
    const statuses: ConnectionStatus[] = [];
    a.onStatus((s) => statuses.push(s));

    const onA: number[] = [];
    const onB: number[] = [];
    await a.subscribe('room.live', (p) => onA.push(Number(text(p))));
    await b.subscribe('room.live', (p) => onB.push(Number(text(p))));

    // Traffic: a publishes a counter and appends to history until told to stop.
    let n = 0;
    let running = true;
    const acked: number[] = [];
    let appendFailures = 0;
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
          appendFailures++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();

    await waitFor(() => onB.length > 50 && acked.length > 20, 10_000);
    await server.stop(signal);
    await waitStatus(a, 'reconnecting');
    await waitStatus(small, 'reconnecting');
    const bufferedAt = observer.get('publish_buffered');
    await waitFor(() => observer.get('publish_buffered') > bufferedAt + 10, 5000);
    // The bound is explicit: past it, BUFFER_FULL.
    for (let i = 0; i < 3; i++) await small.publish('room.small', bytes('x'));
    await rejectsWithCode(small.publish('room.small', bytes('x')), 'BUFFER_FULL');
    const ackedBeforeRestart = acked.length;
    // A subscription made while the broker is down takes effect once it is back.
    const late: string[] = [];
    await b.subscribe('room.late', (p) => late.push(text(p)));

    await server.start();
    await waitStatus(a, 'connected');
    await waitStatus(b, 'connected');
    // Traffic after the restart reaches both subscribers without anyone subscribing again.
    const mark = n;
    await waitFor(() => onB.some((x) => x > mark + 50) && onA.some((x) => x > mark + 50), 10_000);
    await waitFor(() => acked.length > ackedBeforeRestart + 20, 10_000);
    await waitFor(async () => {
      await a.publish('room.late', bytes('hi'));
      return late.length > 0;
    }, 5000, 50);
    running = false;
    await Promise.all([publisher, appender]);

    expect(statuses).toEqual(expect.arrayContaining(['reconnecting', 'connected']));
    expect(a.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(observer.get('reconnect')).toBeGreaterThanOrEqual(1);
    expect(observer.get('resubscribe')).toBeGreaterThanOrEqual(1);
    expect(a.stats.recreated).toBe(0); // nats.js restored the subscription itself
    // Everything buffered while down was flushed, and (same connection: SUB goes before the flush) delivered to a.
    expect(observer.get('publish_buffered')).toBeGreaterThan(10);
    expect(observer.get('publish_flushed')).toBe(observer.get('publish_buffered'));
    expect(observer.get('publish_dropped')).toBe(0);
    const seenA = new Set(onA);
    const missingOnA = Array.from({ length: n }, (_, i) => i).filter((i) => i > onA[0]! && !seenA.has(i));
    // Publishes handed to the client in the instant before it noticed the drop can be lost (core NATS is at most once).
    expect(missingOnA.length).toBeLessThan(50);
    // Order per topic survives the buffer: a received its own messages in ascending order.
    expect(onA.every((x, i) => i === 0 || x > (onA[i - 1] as number))).toBe(true);

    // History (file storage) kept every acknowledged append across the restart.
    const stored: number[] = [];
    let after = 0;
    for (;;) {
      const page = await history.read(room, after, { limit: 1000 });
      if (page.entries.length === 0) break;
      stored.push(...page.entries.map((e) => e.offset));
      after = page.entries[page.entries.length - 1]!.offset;
    }
    const storedSet = new Set(stored);
    expect(acked.filter((o) => !storedSet.has(o))).toEqual([]);
    expect(acked.length).toBeGreaterThan(40);
    process.stderr.write(
      `[adapter-nats restart ${signal}] published ${n}, a got ${onA.length}, b got ${onB.length}, buffered ${observer.get('publish_buffered')}, ` +
        `flushed ${observer.get('publish_flushed')}, history acked ${acked.length}, stored ${stored.length}, append failures while down ${appendFailures}\n`,
    );
  });
});
