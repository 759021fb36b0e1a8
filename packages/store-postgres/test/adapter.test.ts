import { adapterContract, serviceUrl, throughProxy } from '@switchyard/core/testing';
import { afterAll, describe } from 'vitest';
import { createPostgresAdapter } from '../src/index.js';
import { dropSchema, randomSchema } from './helpers.js';

const url = await serviceUrl('postgres');
const schema = randomSchema('adapter');

describe.skipIf(!url)('createPostgresAdapter', () => {
  const target = new URL(url as string);
  // Each adapter goes through its own proxy, so a test can drop its connections.
  const proxied = throughProxy({ host: target.hostname, port: Number(target.port || 5432) }, (port) => {
    const via = new URL(url as string);
    via.hostname = '127.0.0.1';
    via.port = String(port);
    return createPostgresAdapter({
      connectionString: via.toString(),
      schema,
      autoMigrate: true,
      bus: { pingIntervalMs: 200, pingTimeoutMs: 1000, reconnectMinDelayMs: 50, reconnectMaxDelayMs: 200 },
    });
  });
  afterAll(async () => {
    await proxied.close();
    await dropSchema(url as string, schema);
  });

  // the one key beyond the shape: Postgres has a schema to migrate
  adapterContract('postgres', { ...proxied, extraKeys: ['migrate'] });
});
