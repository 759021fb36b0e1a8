import { busContract, historyContract, registryContract, serviceUrl, sessionContract } from '@switchyard/core/testing';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe } from 'vitest';
import { RedisBus, RedisHistory, RedisRegistry, RedisSessionStore } from '../src/index.js';

const url = await serviceUrl('redis');
// A prefix per run so parallel runs and other packages never see each other's keys.
const keyPrefix = `sy-test-${randomBytes(4).toString('hex')}:`;

describe.skipIf(!url)('redis adapter against a real Redis', () => {
  const base = { url: url as string, keyPrefix };
  afterAll(async () => {
    // Streams, stream hashes and lease counters have no TTL: remove what this run wrote.
    const admin = new Redis(url as string);
    try {
      let cursor = '0';
      do {
        const [next, found] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
        cursor = next;
        if (found.length) await admin.del(...found);
      } while (cursor !== '0');
    } finally {
      await admin.quit();
    }
  });
  busContract('redis', { create: () => new RedisBus(base) });
  historyContract('redis', { create: (retention) => new RedisHistory({ ...base, history: { ...retention } }) });
  registryContract('redis', { create: () => new RedisRegistry({ ...base, registryReconcileMs: 200 }), minTtlMs: 200 });
  sessionContract('redis', { create: () => new RedisSessionStore(base), minTtlMs: 200 });
});
