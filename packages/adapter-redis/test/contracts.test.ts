import { busContract, historyContract, registryContract, serviceUrl, sessionContract } from '@switchyard/core/testing';
import { deleteKeys } from './support/keys.js';
import { randomBytes } from 'node:crypto';
import { afterAll, describe } from 'vitest';
import { RedisBus, RedisHistory, RedisRegistry, RedisSessionStore } from '../src/index.js';

const url = await serviceUrl('redis');
// A prefix per run so parallel runs and other packages never see each other's keys.
const keyPrefix = `sy-test-${randomBytes(4).toString('hex')}:`;

describe.skipIf(!url)('redis adapter against a real Redis', () => {
  const base = { url: url as string, keyPrefix };
  afterAll(async () => {
    await deleteKeys(url as string, keyPrefix);
  });
  busContract('redis', { create: () => new RedisBus(base) });
  historyContract('redis', { create: (retention) => new RedisHistory({ ...base, history: { ...retention } }) });
  registryContract('redis', { create: () => new RedisRegistry({ ...base, registryReconcileMs: 200 }), minTtlMs: 200 });
  sessionContract('redis', { create: () => new RedisSessionStore(base), minTtlMs: 200 });
});
