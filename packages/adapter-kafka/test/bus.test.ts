import { busContract, serviceUrl } from '@switchyard/core/testing';
import { afterAll, describe } from 'vitest';
import { KafkaBus } from '../src/index.js';
import { deleteTopics, testPrefix } from './cleanup.js';

const url = await serviceUrl('kafka');
const brokers = (url ?? '').split(',');
const prefix = testPrefix('bus');

describe.skipIf(!url)('kafka bus', () => {
  afterAll(() => deleteTopics(brokers, prefix));
  // No settle time: connect() returns once the instance reads every partition from its end.
  busContract('kafka', { create: () => new KafkaBus({ brokers, prefix, partitions: 3, maxPayloadBytes: 512 * 1024 }) });
});
