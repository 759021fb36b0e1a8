import { bytes, CountingObserver, outcome, serviceUrl, text, unique, waitFor } from '@switchyard/core/testing';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus, KafkaHistory } from '../src/index.js';
import { ProxiedBroker, kafkaJars } from './proxied-broker.js';

// The shared broker's presence says this machine runs Kafka tests; the jars come from its cache.
const url = await serviceUrl('kafka');
const hasJava = spawnSync('java', ['-version']).status === 0;
const jars = kafkaJars();
const PATIENCE = 30_000;
/** Codes a call may fail with when its peer is silent: never a hang, never an untyped error. */
const TYPED = ['TIMEOUT', 'BUS_UNAVAILABLE'];



describe.skipIf(!url || !hasJava || !jars)('kafka with a silent broker (a private broker that advertises a TcpProxy)', () => {
  let broker: ProxiedBroker | undefined;
  beforeAll(async () => {
    broker = await ProxiedBroker.start(jars as string);
  }, 180_000);
  afterAll(() => broker?.destroy(), 60_000);

  it('history calls and publishes never hang; the bus goes reconnecting, comes back after pass(), and loses no accepted publish', { timeout: 150_000 }, async () => {
    const b = broker as ProxiedBroker;
    const common = {
      brokers: b.brokers,
      prefix: 'sy-deadline.',
      partitions: 1,
      maxReconnectDelayMs: 300,
      connectTimeoutMs: 60_000,
      requestTimeoutMs: 1000,
      operationTimeoutMs: 3000,
    };
    const counts = new CountingObserver();
    const bus = new KafkaBus(common);
    const history = new KafkaHistory(common);
    bus.instrument(counts);
    try {
      await Promise.all([bus.connect(), history.connect()]);
      const topic = unique('room.silent');
      const stream = unique('room.hist');
      const got: string[] = [];
      await bus.subscribe(topic, (p) => got.push(text(p)));
      await history.append(stream, bytes('before'));
      await bus.publish(topic, bytes('before'));
      await waitFor(() => got.includes('before'), PATIENCE);

      b.proxy.blackhole();
      const results = new Map<string, Promise<string>>();
      const publish = (id: string) => results.set(id, outcome(bus.publish(topic, bytes(id))));
      for (let i = 0; i < 5; i++) publish(`early-${i}`);
      const calls = await Promise.all([outcome(history.append(stream, bytes('during'))), outcome(history.read(stream, 0)), outcome(history.position(stream))]);
      for (const code of calls) expect(TYPED).toContain(code);
      await waitFor(() => bus.status !== 'connected', PATIENCE);
      expect(bus.status).toBe('reconnecting');
      for (let i = 0; i < 5; i++) publish(`late-${i}`);

      b.proxy.pass();
      await waitFor(() => bus.status === 'connected', 60_000, 50);
      // The subscription made before the blackhole receives a new publish without help.
      await bus.publish(topic, bytes('after'));
      await waitFor(() => got.includes('after'), PATIENCE);

      // Every publish made during the blackhole was delivered, or rejected with a typed error.
      const settled = new Map<string, string>();
      for (const [id, p] of results) settled.set(id, await p);
      for (const [id, code] of settled) if (code !== 'ok') expect(TYPED, id).toContain(code);
      const accepted = [...settled].filter(([, code]) => code === 'ok').map(([id]) => id);
      expect(accepted.filter((id) => id.startsWith('late-'))).toHaveLength(5);
      await waitFor(() => accepted.every((id) => got.includes(id)), PATIENCE);
      expect(counts.get('publish_dropped')).toBe(0);
      expect(counts.get('disconnect')).toBeGreaterThanOrEqual(1);
      expect(counts.get('reconnect')).toBeGreaterThanOrEqual(1);
      // History works again too.
      await waitFor(() => history.append(stream, bytes('after')).then(() => true), PATIENCE, 200);
    } finally {
      await Promise.all([bus.close(), history.close()]);
    }
  });
});
