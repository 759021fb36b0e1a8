import { adapterContract, serviceUrl, TcpProxy, waitFor } from '@switchyard/core/testing';
import { afterAll, describe } from 'vitest';
import { createPostgresAdapter, type PostgresAdapter } from '../src/index.js';
import { dropSchema, randomSchema } from './helpers.js';

const url = await serviceUrl('postgres');
const schema = randomSchema('adapter');

describe.skipIf(!url)('createPostgresAdapter', () => {
  const target = new URL(url as string);
  // Each adapter goes through its own proxy, so a test can drop its connections.
  const proxies = new Map<PostgresAdapter, TcpProxy>();
  afterAll(async () => {
    await Promise.all([...proxies.values()].map((p) => p.close()));
    await dropSchema(url as string, schema);
  });

  adapterContract('postgres', {
    create: async () => {
      const proxy = await TcpProxy.start({ target: { host: target.hostname, port: Number(target.port || 5432) } });
      const via = new URL(url as string);
      via.hostname = '127.0.0.1';
      via.port = String(proxy.port);
      const adapter = createPostgresAdapter({
        connectionString: via.toString(),
        schema,
        autoMigrate: true,
        bus: { pingIntervalMs: 200, pingTimeoutMs: 1000, reconnectMinDelayMs: 50, reconnectMaxDelayMs: 200 },
      });
      proxies.set(adapter, proxy);
      return adapter;
    },
    // the one key beyond the shape: Postgres has a schema to migrate
    extraKeys: ['migrate'],
    event: 'disconnect',
    provoke: async (adapter) => {
      const proxy = proxies.get(adapter) as TcpProxy;
      proxy.reset();
      await waitFor(() => adapter.bus.status !== 'connected', 15_000);
      proxy.pass();
    },
  });
});
