import { serviceUrl, sessionContract } from '@switchyard/core/testing';
import { afterAll, describe } from 'vitest';
import { NatsSessionStore } from '../src/index.js';
import { dropStreams, runId } from './helpers.js';

const url = await serviceUrl('nats');
const bucket = `sytest_sessions_${runId()}`;

describe.skipIf(!url)('nats session store', () => {
  afterAll(() => dropStreams(url as string, [], [bucket]));
  sessionContract('nats', {
    create: () => new NatsSessionStore({ servers: url as string, sessions: { bucket, storage: 'memory' } }),
    minTtlMs: 500,
  });
});
