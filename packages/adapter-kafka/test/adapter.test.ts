import { adapterContract, serviceUrl } from '@switchyard/core/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe } from 'vitest';
import { createKafkaAdapter } from '../src/index.js';
import { deleteTopics, testPrefix } from './cleanup.js';

const url = await serviceUrl('kafka');
const brokers = (url ?? '').split(',');
const prefix = testPrefix('adapter');

describe.skipIf(!url)('createKafkaAdapter', () => {
  afterAll(() => deleteTopics(brokers, prefix));

  adapterContract('kafka', {
    create: () => createKafkaAdapter({ brokers, prefix, partitions: 1 }),
    // Kafka serves the bus and history; the registry and the session store come from elsewhere
    lacks: ['registry', 'sessions'],
    timeoutMs: 60_000,
    // a record on the bus topic that names no Switchyard topic (no header, no key)
    event: 'malformed',
    provoke: async (adapter) => {
      const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      try {
        await producer.send({ topic: adapter.bus.busTopic, messages: [{ value: 'no topic' }] });
      } finally {
        await producer.disconnect();
      }
    },
  });
});
