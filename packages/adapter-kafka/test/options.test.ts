import { bytes, rejectsWithCode, serviceUrl, text, unique, waitFor } from '@switchyard/core/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaBus, KafkaHistory, createKafkaAdapter, parseKafkaOptions } from '../src/index.js';
import { deleteTopics, testPrefix } from './cleanup.js';

const configError = (fn: () => unknown): { code?: string; message: string } => {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a CONFIG_INVALID error');
};

describe('kafka options', () => {
  it.each([
    [{}, 'brokers'],
    [{ brokers: [] }, 'brokers'],
    [{ brokers: ['no-port'] }, 'brokers.0'],
    [{ brokers: ['127.0.0.1:1'], prefix: 'bad prefix!' }, 'prefix'],
    [{ brokers: ['127.0.0.1:1'], partitions: 0 }, 'partitions'],
    [{ brokers: ['127.0.0.1:1'], replicationFactor: 0 }, 'replicationFactor'],
    [{ brokers: ['127.0.0.1:1'], busAcks: 0 }, 'busAcks'],
    [{ brokers: ['127.0.0.1:1'], kafka: { nope: true } }, 'kafka'],
    [{ brokers: ['127.0.0.1:1'], kafka: new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING }) }, 'kafka'],
  ])('refuses %j naming %s', (input, field) => {
    const err = configError(() => new KafkaBus(input as never));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(`${field}:`);
  });

  it('fills defaults tuned for latency', () => {
    const o = parseKafkaOptions({ brokers: ['127.0.0.1:19092'] });
    expect(o).toMatchObject({ prefix: 'switchyard.', maxWaitTimeMs: 20, minBytes: 1, busAcks: 1, maxPayloadBytes: 1_000_000, publishBufferSize: 10_000 });
    expect(o.history).toEqual({ maxLength: 1000, maxAgeMs: 0, readLimit: 1000 });
  });

  it('takes the old option names (bufferSize, historyMaxLength, historyMaxAgeMs, historyReadLimit) with one warning each', () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_o: unknown, msg?: string) => void warnings.push(String(msg)) };
    const old = { brokers: ['127.0.0.1:1'], bufferSize: 7, historyMaxLength: 50, historyMaxAgeMs: 60_000, historyReadLimit: 20, logger };
    const o = parseKafkaOptions(old);
    expect(o.publishBufferSize).toBe(7);
    expect(o.bufferSize).toBe(7);
    expect(o.history).toEqual({ maxLength: 50, maxAgeMs: 60_000, readLimit: 20 });
    expect(warnings).toEqual([
      '[switchyard] [kafka] option bufferSize is deprecated: it is now publishBufferSize',
      '[switchyard] [kafka] option historyMaxLength is deprecated: it is now history.maxLength',
      '[switchyard] [kafka] option historyMaxAgeMs is deprecated: it is now history.maxAgeMs',
      '[switchyard] [kafka] option historyReadLimit is deprecated: it is now history.readLimit',
    ]);
    // Parsed options handed on to a port (as createKafkaAdapter does) warn no more.
    parseKafkaOptions(o);
    expect(warnings).toHaveLength(4);
    expect(configError(() => parseKafkaOptions({ brokers: ['127.0.0.1:1'], historyMaxLength: 0 })).message).toContain('history.maxLength:');
  });

  it('does no I/O when built, refuses use before connect, and reports an unreachable broker', async () => {
    const bus = new KafkaBus({ brokers: ['127.0.0.1:9'], connectTimeoutMs: 3000, maxReconnectDelayMs: 100 });
    const history = new KafkaHistory({ brokers: ['127.0.0.1:9'], connectTimeoutMs: 3000 });
    expect(bus.status).toBe('idle');
    await rejectsWithCode(bus.publish('room.x', bytes('x')), 'NOT_CONNECTED');
    await rejectsWithCode(history.append('room.x', bytes('x')), 'NOT_CONNECTED');
    const err = await bus.connect().then(() => null, (e: { code?: string }) => e);
    expect(['BUS_UNAVAILABLE', 'TIMEOUT']).toContain(err?.code);
    expect(bus.status).toBe('idle');
    await bus.close();
    await history.close();
    await rejectsWithCode(bus.connect(), 'CLOSED');
  });
});

const url = await serviceUrl('kafka');
const brokers = (url ?? '').split(',');
const prefix = testPrefix('opts');

describe.skipIf(!url)('kafka adapter with a caller-provided client', () => {
  afterAll(() => deleteTopics(brokers, prefix));

  it('uses the given kafkajs instance and leaves it usable after close', async () => {
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
    const adapter = createKafkaAdapter({ kafka, prefix, partitions: 1 });
    await adapter.connect();
    try {
      const topic = unique('room.own');
      const got: string[] = [];
      await adapter.bus.subscribe(topic, (p) => got.push(text(p)));
      await adapter.bus.publish(topic, bytes('hi'));
      const pos = await adapter.history.append(topic, bytes('kept'));
      await waitFor(() => got.length === 1, 10_000);
      expect(got).toEqual(['hi']);
      expect((await adapter.history.read(topic, 0)).entries.map((e) => e.offset)).toEqual([pos.offset]);
    } finally {
      await adapter.close();
      await adapter.close();
    }
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).toContain(`${prefix}bus`);
    await admin.disconnect();
  });
});
