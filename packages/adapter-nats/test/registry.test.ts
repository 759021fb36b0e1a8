import { registryContract, serviceUrl } from '@switchyard/core/testing';
import { afterAll, describe } from 'vitest';
import { NatsRegistry } from '../src/index.js';
import { dropStreams, runId } from './helpers.js';

const url = await serviceUrl('nats');
const bucket = `sytest_registry_${runId()}`;

describe.skipIf(!url)('nats registry', () => {
  afterAll(() => dropStreams(url as string, [], [bucket]));
  registryContract('nats', {
    create: () => new NatsRegistry({ servers: url as string, registry: { bucket, storage: 'memory' } }),
    minTtlMs: 500,
  });
});
