import type { AdapterEvent, AdapterObserver, HistoryPosition } from '@switchyard/core';
import { bytes, rejectsWithCode, serviceUrl, text, unique, waitFor } from '@switchyard/core/testing';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus, KafkaHistory } from '../src/index.js';
import { PrivateBroker } from './private-broker.js';

// The shared broker's presence says this machine runs Kafka tests (CI fails there when it is missing).
const url = await serviceUrl('kafka');
const hasJava = spawnSync('java', ['-version']).status === 0;

class Counter implements AdapterObserver {
  readonly counts = new Map<AdapterEvent, number>();
  count(_adapter: string, event: AdapterEvent, n = 1): void {
    this.counts.set(event, (this.counts.get(event) ?? 0) + n);
  }
  get(event: AdapterEvent): number {
    return this.counts.get(event) ?? 0;
  }
}

describe.skipIf(!url || !hasJava)('kafka broker restart (a private broker on its own ports)', () => {
  const broker = new PrivateBroker();
  const prefix = 'sy-restart.';
  beforeAll(() => broker.start(), 180_000);
  afterAll(() => broker.destroy(), 120_000);

  it('recovers bus subscriptions by itself, flushes what it buffered, and history keeps every acknowledged entry', { timeout: 150_000 }, async () => {
    const common = { brokers: broker.brokers, prefix, partitions: 2, maxReconnectDelayMs: 500, connectTimeoutMs: 20_000, requestTimeoutMs: 3000 };
    const pubObs = new Counter();
    const subObs = new Counter();
    const a = new KafkaBus({ ...common, bufferSize: 20 });
    const b = new KafkaBus(common);
    const h = new KafkaHistory({ ...common, historyMaxLength: 1000 });
    a.instrument(pubObs);
    b.instrument(subObs);
    const statuses: string[] = [];
    b.onStatus((s) => statuses.push(s));
    try {
      await Promise.all([a.connect(), b.connect(), h.connect()]);
      const topic = unique('room.restart');
      const stream = unique('room.hist');
      const got: string[] = [];
      await b.subscribe(topic, (p) => got.push(text(p)));

      const acked: Array<{ pos: HistoryPosition; body: string }> = [];
      const append = async (body: string) => acked.push({ pos: await h.append(stream, bytes(body)), body });
      for (let i = 0; i < 10; i++) await append(`before-${i}`);
      await a.publish(topic, bytes('before'));
      await waitFor(() => got.includes('before'), 10_000);

      await broker.stop();

      // While the broker is down: publishes are buffered up to bufferSize, then refused.
      const buffered: string[] = [];
      for (let i = 0; i < 20; i++) {
        await a.publish(topic, bytes(`down-${i}`));
        buffered.push(`down-${i}`);
      }
      await waitFor(() => a.status === 'reconnecting', 15_000);
      await rejectsWithCode(a.publish(topic, bytes('overflow')), 'BUFFER_FULL');
      expect(pubObs.get('publish_dropped')).toBeGreaterThanOrEqual(1);
      expect(pubObs.get('publish_buffered')).toBeGreaterThanOrEqual(1);
      // An append while down either fails plainly or is acknowledged; only the acknowledged count.
      await append('down-append').catch((err: { code?: string }) => expect(['BUS_UNAVAILABLE', 'TIMEOUT', 'BACKEND_ERROR', 'NOT_FOUND']).toContain(err.code));
      await waitFor(() => b.status === 'reconnecting', 15_000);

      await broker.start();

      // Nobody calls subscribe again: the buffered publishes and a new one arrive in order.
      await waitFor(() => a.status === 'connected' && b.status === 'connected', 60_000, 50);
      await a.publish(topic, bytes('after'));
      await waitFor(() => got.includes('after'), 30_000, 50);
      expect(got).toEqual(['before', ...buffered, 'after']);
      expect(pubObs.get('publish_flushed')).toBe(buffered.length);
      expect(pubObs.get('reconnect')).toBeGreaterThanOrEqual(1);
      expect(subObs.get('reconnect')).toBeGreaterThanOrEqual(1);
      expect(subObs.get('resubscribe')).toBeGreaterThanOrEqual(1);
      expect(statuses).toContain('reconnecting');

      // History: every acknowledged entry is there, in offset order.
      for (let i = 0; i < 5; i++) await waitFor(() => append(`after-${i}`).then(() => true), 30_000, 200);
      const read = await h.read(stream, 0);
      const sorted = [...acked].sort((x, y) => x.pos.offset - y.pos.offset);
      expect(read.entries.map((e) => e.offset)).toEqual(sorted.map((x) => x.pos.offset));
      expect(read.entries.map((e) => text(e.payload))).toEqual(sorted.map((x) => x.body));
      expect(new Set(acked.map((x) => x.pos.epoch)).size).toBe(1);
      expect(read.gap).toBe(false);
    } finally {
      await Promise.all([a.close(), b.close(), h.close()]);
    }
  });
});
