import { adapterContract, serviceUrl, TcpProxy, waitFor } from '@switchyard/core/testing';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe } from 'vitest';
import { createRedisAdapter, type RedisAdapter } from '../src/index.js';

const url = await serviceUrl('redis');
const keyPrefix = `sy-adapter-${randomBytes(4).toString('hex')}:`;

describe.skipIf(!url)('createRedisAdapter', () => {
  const target = new URL(url as string);
  // Each adapter goes through its own proxy, so a test can drop its connections.
  const proxies = new Map<RedisAdapter, TcpProxy>();
  afterAll(async () => {
    await Promise.all([...proxies.values()].map((p) => p.close()));
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

  adapterContract('redis', {
    create: async () => {
      const proxy = await TcpProxy.start({ target: { host: target.hostname, port: Number(target.port || 6379) } });
      const adapter = createRedisAdapter({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix, reconnectMinDelayMs: 20, reconnectMaxDelayMs: 200 });
      proxies.set(adapter, proxy);
      return adapter;
    },
    event: 'disconnect',
    provoke: async (adapter) => {
      const proxy = proxies.get(adapter) as TcpProxy;
      proxy.reset();
      await waitFor(() => adapter.bus.status !== 'connected', 15_000);
      proxy.pass();
    },
  });
});
