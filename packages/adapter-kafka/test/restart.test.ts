import { restartContract, serviceUrl } from '@switchyard/core/testing';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe } from 'vitest';
import { KafkaBus, KafkaHistory } from '../src/index.js';
import { PrivateBroker } from './private-broker.js';

// The shared broker's presence says this machine runs Kafka tests (CI fails there when it is missing).
const url = await serviceUrl('kafka');
const hasJava = spawnSync('java', ['-version']).status === 0;

describe.skipIf(!url || !hasJava)('kafka broker restart (a private broker on its own ports)', () => {
  const broker = new PrivateBroker();
  beforeAll(() => broker.start(), 180_000);
  afterAll(() => broker.destroy(), 120_000);

  const common = () => ({ brokers: broker.brokers, prefix: 'sy-restart.', partitions: 2, maxReconnectDelayMs: 500, connectTimeoutMs: 20_000, requestTimeoutMs: 3000 });
  restartContract('kafka (broker stopped and started)', {
    make: () => ({ bus: new KafkaBus({ ...common(), bufferSize: 20 }), history: new KafkaHistory({ ...common(), historyMaxLength: 1000 }) }),
    restart: { down: () => broker.stop(), up: () => broker.start() },
    // A history call while the broker is away fails as kafkajs saw it: unreachable, timed out, or a metadata error.
    outageCodes: ['BUS_UNAVAILABLE', 'TIMEOUT', 'BACKEND_ERROR', 'NOT_FOUND'],
    timeoutMs: 90_000,
    testTimeoutMs: 300_000,
  });
});
