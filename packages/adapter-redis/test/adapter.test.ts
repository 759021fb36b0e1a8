import { adapterContract, serviceUrl, throughProxy } from '@switchyard/core/testing';
import { randomBytes } from 'node:crypto';
import { afterAll, describe } from 'vitest';
import { createRedisAdapter } from '../src/index.js';
import { deleteKeys } from './support/keys.js';

const url = await serviceUrl('redis');
const keyPrefix = `sy-adapter-${randomBytes(4).toString('hex')}:`;

describe.skipIf(!url)('createRedisAdapter', () => {
  const target = new URL(url as string);
  // Each adapter goes through its own proxy, so a test can drop its connections.
  const proxied = throughProxy({ host: target.hostname, port: Number(target.port || 6379) }, (port) =>
    createRedisAdapter({ url: `redis://127.0.0.1:${port}`, keyPrefix, reconnectMinDelayMs: 20, reconnectMaxDelayMs: 200 }),
  );
  afterAll(async () => {
    await proxied.close();
    await deleteKeys(url as string, keyPrefix);
  });

  adapterContract('redis', proxied);
});
