import { busContract, serviceUrl, unique } from '@switchyard/core/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe } from 'vitest';
import { KafkaBus } from '../src/bus.js';

const url = await serviceUrl('kafka');
const prefix = `${unique('sytest-bus').replace(/[^A-Za-z0-9._-]/g, '_')}.`;

describe.skipIf(!url)('kafka bus', () => {
  const brokers = (url ?? '').split(',');
  afterAll(async () => {
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (mine.length) await admin.deleteTopics({ topics: mine });
    await admin.disconnect();
  });

  busContract('kafka', { create: () => new KafkaBus({ brokers, prefix, partitions: 3 }) });
});
