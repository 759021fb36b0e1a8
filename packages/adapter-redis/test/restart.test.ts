import { bytes, Closer, CountingObserver, restartContract, text, waitFor } from '@switchyard/core/testing';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisBus, RedisHistory, RedisSessionStore } from '../src/index.js';
import { hasRedisBinaries, PrivateRedis, TcpProxy } from './support/redis-process.js';

const keyPrefix = `sy-restart-${randomBytes(4).toString('hex')}:`;
const fast = { keyPrefix, reconnectMinDelayMs: 20, reconnectMaxDelayMs: 100, connectTimeoutMs: 2000 };

/** First occurrence of each number, in arrival order (a resent in-flight publish may arrive twice). */
const firstSeen = (list: number[]) => [...new Set(list)];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe.skipIf(!hasRedisBinaries())('a crash of an fsync-always redis-server (private), through the restart contract', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await PrivateRedis.start({ aof: true });
  });
  afterAll(() => server?.destroy());

  // Stores wait out the crash (retries, a long deadline) rather than fail.
  const stores = { ...fast, maxRetriesPerRequest: 1000, commandTimeoutMs: 30_000 };
  restartContract('redis (SIGKILL, appendfsync always)', {
    make: () => ({
      bus: new RedisBus({ ...fast, url: server.url, publishBufferSize: 20 }),
      sessions: new RedisSessionStore({ ...stores, url: server.url }),
      history: new RedisHistory({ ...stores, url: server.url }),
    }),
    restart: { down: () => server.kill('SIGKILL'), up: () => server.startProcess() },
  });
});

describe.skipIf(!hasRedisBinaries())('a Redis restart in the middle of traffic (private redis-server)', () => {
  const closer = new Closer();
  const servers: PrivateRedis[] = [];
  afterEach(() => closer.closeAll());
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.destroy()));
  });

  it('restores subscriptions by itself and delivers the publishes buffered during the outage, in order', async () => {
    const server = await PrivateRedis.start();
    servers.push(server);
    // The publisher reaches Redis through a proxy we can hold shut, so it comes back only
    // after the subscriber has: otherwise its flush could beat the subscriber's resubscribe.
    const proxy = await TcpProxy.start(server.port);
    closer.defer(() => proxy.close());
    const pubCounts = new CountingObserver();
    const subCounts = new CountingObserver();
    const publisher = closer.add(new RedisBus({ ...fast, url: proxy.url }));
    const subscriber = closer.add(new RedisBus({ ...fast, url: server.url }));
    publisher.instrument(pubCounts);
    subscriber.instrument(subCounts);
    await publisher.connect();
    await subscriber.connect();

    const topic = 'room.restart';
    const remote: number[] = [];
    const own: number[] = [];
    const other: string[] = [];
    await subscriber.subscribe(topic, (p) => remote.push(Number(text(p))));
    await subscriber.subscribe('room.other', (p) => other.push(text(p)));
    await publisher.subscribe(topic, (p) => own.push(Number(text(p))));

    // Traffic: one publish every few ms, not awaited one by one. We note which ones went to the
    // buffer (Redis unreachable) and which were sent directly just before the crash was noticed.
    const accepted: Array<Promise<void>> = [];
    const buffered = new Set<number>();
    let next = 0;
    let killAt = Number.POSITIVE_INFINITY;
    const traffic = setInterval(() => {
      const i = next++;
      const before = publisher.buffered;
      accepted.push(publisher.publish(topic, bytes(String(i))));
      if (publisher.buffered > before) buffered.add(i);
    }, 2);
    try {
      await waitFor(() => remote.length >= 50, 10_000);
      proxy.blocked = true;
      killAt = next;
      await server.kill('SIGKILL');
      await waitFor(() => publisher.status === 'reconnecting' && subscriber.status === 'reconnecting', 10_000);
      await waitFor(() => buffered.size >= 100, 10_000);
    } finally {
      clearInterval(traffic);
    }
    const total = next;
    expect(publisher.buffered).toBe(buffered.size);

    await server.startProcess();
    // Nobody calls subscribe again: the subscriber must come back with its topics by itself.
    await waitFor(() => subscriber.status === 'connected', 10_000);
    expect(subCounts.get('resubscribe')).toBeGreaterThanOrEqual(2);
    expect(subCounts.get('reconnect')).toBeGreaterThanOrEqual(1);
    expect(publisher.status).toBe('reconnecting');

    proxy.blocked = false;
    await Promise.all(accepted); // every publish was accepted (sent or buffered), none refused
    await waitFor(() => publisher.status === 'connected', 10_000);
    // Every publish made during the outage reaches both the other node and the publisher's own handler.
    await waitFor(() => [...buffered].every((i) => remote.includes(i) && own.includes(i)), 10_000);
    for (const got of [remote, own]) {
      const seen = firstSeen(got);
      expect(seen).toEqual([...seen].sort((a, b) => a - b)); // in publish order
      // Plain pub/sub is at most once only for publishes in flight at the instant of the crash
      // (sent, then lost with the server); everything before and after arrives.
      const missing = range(total).filter((i) => !seen.includes(i));
      expect(missing.every((i) => i >= killAt - 5 && !buffered.has(i))).toBe(true);
      expect(missing.length).toBeLessThanOrEqual(5);
    }
    expect(publisher.buffered).toBe(0);
    expect(pubCounts.get('publish_buffered')).toBe(buffered.size);
    expect(pubCounts.get('publish_flushed')).toBe(pubCounts.get('publish_buffered'));
    expect(pubCounts.get('publish_dropped')).toBe(0);
    expect(pubCounts.get('resubscribe')).toBeGreaterThanOrEqual(1);

    // And traffic after the restart flows on every restored topic.
    await publisher.publish('room.other', bytes('after'));
    await waitFor(() => other.length === 1, 5000);
    expect(other).toEqual(['after']);
  });

  it('keeps every acknowledged history append across a crash of an fsync-always Redis', async () => {
    const server = await PrivateRedis.start({ aof: true });
    servers.push(server);
    // commands wait out the crash (retries, a long deadline); a resend is applied once
    const history = closer.add(new RedisHistory({ ...fast, url: server.url, maxRetriesPerRequest: 1000, commandTimeoutMs: 60_000, history: { maxLength: 100_000 } }));
    await history.connect();
    const stream = 'room.durable';
    const acked = new Map<number, string>();
    const epochs = new Set<string>();
    let stop = false;
    let failed = 0;
    // Four writers append as fast as they can; an append counts only once it resolved.
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const body = `w${w}-${i}`;
        try {
          const pos = await history.append(stream, bytes(body));
          acked.set(pos.offset, body);
          epochs.add(pos.epoch);
        } catch {
          failed++;
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await waitFor(() => acked.size >= 300, 10_000);
    await server.kill('SIGKILL');
    const beforeCrash = acked.size;
    await server.startProcess();
    await waitFor(() => acked.size >= beforeCrash + 300, 20_000);
    stop = true;
    await Promise.all(writers);

    expect(epochs.size).toBe(1);
    const read = new Map<number, string>();
    let after = 0;
    for (;;) {
      const page = await history.read(stream, after, { limit: 1000, epoch: [...epochs][0] as string });
      expect(page.gap).toBe(false);
      if (page.entries.length === 0) break;
      for (const e of page.entries) read.set(e.offset, text(e.payload));
      after = page.entries[page.entries.length - 1]!.offset;
    }
    const lost = [...acked].filter(([offset, body]) => read.get(offset) !== body);
    expect(lost).toEqual([]);
    expect(read.size).toBeGreaterThanOrEqual(acked.size);
    expect(failed).toBe(0);
  });
});
