import { adapterContract, serviceUrl, throughProxy } from '@switchyard/core/testing';
import { afterAll, describe } from 'vitest';
import { createNatsAdapter } from '../src/index.js';
import { dropStreams, runId } from './helpers.js';

const url = await serviceUrl('nats');
const id = runId();
const names = {
  prefix: `adapter${id}`,
  history: { stream: `SYTEST_ADAPTER_${id}`, epochBucket: `sytest_adapter_epochs_${id}`, storage: 'memory' as const },
  registry: { bucket: `sytest_adapter_registry_${id}`, storage: 'memory' as const },
  sessions: { bucket: `sytest_adapter_sessions_${id}`, storage: 'memory' as const },
};

describe.skipIf(!url)('createNatsAdapter', () => {
  const target = new URL(url as string);
  // Each adapter goes through its own proxy, so a test can drop its connection.
  const proxied = throughProxy({ host: target.hostname, port: Number(target.port || 4222) }, (port) =>
    createNatsAdapter({ ...names, servers: `nats://127.0.0.1:${port}`, reconnectTimeWaitMs: 50 }),
  );
  afterAll(async () => {
    await proxied.close();
    await dropStreams(url as string, [names.history.stream], [names.history.epochBucket, names.registry.bucket, names.sessions.bucket]);
  });

  adapterContract('nats', proxied);
});
