/** Two Nest applications on one Redis (a unique key prefix per call), and SDK clients for them. */
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { createCluster } from '@switchyard/core';
import { unique, waitFor } from '@switchyard/core/testing';
import type { SwitchyardNode } from '@switchyard/transport-ws';
import { createClient, type SwitchyardClient } from '@switchyard/transport-ws/client';
import { WebSocket } from 'ws';
import { SwitchyardAdapter } from '../src/index.js';
import { TestGateway, TestModule } from './gateway.js';

export interface App {
  app: INestApplication;
  adapter: SwitchyardAdapter;
  node: SwitchyardNode;
  gateway: TestGateway;
}

/** One application of the cluster `prefix`: listening on 127.0.0.1:0, its node serving. */
export async function startApp(redisUrl: string, prefix: string, nodeId: string): Promise<App> {
  const app = await NestFactory.create(TestModule, { logger: false });
  const adapter = new SwitchyardAdapter(app, {
    cluster: createCluster({ adapter: createRedisAdapter({ url: redisUrl, keyPrefix: prefix }), nodeId, heartbeatIntervalMs: 100, nodeTimeoutMs: 3000, clusterKey: `key-of-${prefix}-0123456789` }),
    authenticate: ({ token }) => (token ? { userId: token } : {}),
    drain: { graceMs: 3000 },
  });
  app.useWebSocketAdapter(adapter);
  await app.listen(0, '127.0.0.1');
  const node = await adapter.ready();
  return { app, adapter, node, gateway: app.get(TestGateway) };
}

/** Two applications of one fresh cluster, each seeing the other ready. */
export async function startPair(redisUrl: string): Promise<[App, App]> {
  const prefix = `${unique('nest')}:`;
  const a = await startApp(redisUrl, prefix, 'nest-a');
  const b = await startApp(redisUrl, prefix, 'nest-b');
  await waitFor(() => [a, b].every(({ node }) => node.cluster.healthyNodes().length === 2 && node.cluster.healthyNodes().every((n) => n.url !== '')), 15_000, 20);
  return [a, b];
}

/** An SDK client that stays on the node it dials (no redirect), as user `token` when given. */
export function clientOf(app: App, token?: string): SwitchyardClient {
  return createClient({ url: app.node.url, WebSocket, maxRedirects: 0, ...(token ? { token } : {}) });
}

/** The data of every `exception` message Nest's filter sends to `client`, in arrival order. */
export function exceptionsOf(client: SwitchyardClient): unknown[] {
  const seen: unknown[] = [];
  client.on('message', (m) => {
    if (m.event === 'exception') seen.push(m.data);
  });
  return seen;
}
