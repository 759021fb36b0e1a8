import { historyContract, serviceUrl } from '@switchyard/core/testing';
import { afterAll, describe } from 'vitest';
import { KafkaHistory } from '../src/index.js';
import { deleteTopics, testPrefix } from './cleanup.js';

const url = await serviceUrl('kafka');
const brokers = (url ?? '').split(',');
const prefix = testPrefix('history');

describe.skipIf(!url)('kafka history', () => {
  afterAll(() => deleteTopics(brokers, prefix));
  historyContract('kafka', {
    create: (r) => new KafkaHistory({ brokers, prefix, history: { maxLength: r.maxLength, maxAgeMs: r.maxAgeMs } }),
  });
});
