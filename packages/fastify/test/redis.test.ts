/**
 * Two Fastify apps, each with the plugin, on one Redis (bus, registry, sessions, history under
 * a key prefix of their own): a client of one app gets a room message sent from the other; the
 * endpoints answer over real HTTP; closing an app moves its client to the other one and leaves
 * nothing open.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { createCluster } from '@switchyard/core';
import { serviceUrl, unique, waitFor } from '@switchyard/core/testing';
import { createClient, type SwitchyardClient } from '@switchyard/transport-ws/client';
import { switchyard } from '../src/index.js';
import { get, refused } from './helpers.js';

const redisUrl = await serviceUrl('redis');

describe.skipIf(!redisUrl)('two Fastify apps on one Redis', () => {
  const keyPrefix = `${unique('fastify')}:`;
  const apps: FastifyInstance[] = [];
  let client: SwitchyardClient<{ chat: { text: string } }> | undefined;

  beforeAll(async () => {
    for (const nodeId of ['fa', 'fb']) {
      const app = Fastify();
      apps.push(app);
      const cluster = createCluster({ adapter: createRedisAdapter({ url: redisUrl, keyPrefix }), nodeId, heartbeatIntervalMs: 100, nodeTimeoutMs: 5000, history: true });
      await app.register(switchyard, { cluster, path: '/ws', rooms: { history: true }, graceMs: 3000 });
      app.get('/', async () => ({ app: nodeId })); // the app's own routes live beside the node's
      await app.listen({ port: 0, host: '127.0.0.1' });
      await app.switchyardStarted;
    }
    await waitFor(() => apps.every((a) => a.switchyard.cluster.healthyNodes().length === 2), 15_000);
  });

  afterAll(async () => {
    client?.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('a client on one app receives a room message sent from the other', async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    client = createClient<{ chat: { text: string } }>({ url: a.switchyard.url, WebSocket, maxRedirects: 0 });
    const got: string[] = [];
    const lobby = client.room('lobby');
    lobby.on('message', (m) => got.push(m.data.text));
    await client.ready();
    expect(client.connection?.node).toBe('fa');
    await waitFor(() => lobby.state === 'subscribed', 10_000);

    const { offset } = (await b.switchyard.to('lobby').send('chat', { text: 'from fb' })) as { offset: number };
    expect(offset).toBeGreaterThan(0);
    await waitFor(() => got.includes('from fb'), 10_000);
    expect(got).toEqual(['from fb']);
  });

  it('each app answers /health, /ready, /metrics and /cluster over real HTTP, beside its own routes', async () => {
    for (const app of apps) {
      expect(await get(app, '/health')).toMatchObject({ status: 200, text: '{"status":"ok"}' });
      expect(await get(app, '/ready')).toMatchObject({ status: 200, text: '{"status":"ready"}' });
      const metrics = await get(app, '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('switchyard_ws_connections');
      const cluster = JSON.parse((await get(app, '/cluster')).text) as { totals: { healthy: number } };
      expect(cluster.totals.healthy).toBe(2);
      expect((await get(app, '/')).status).toBe(200);
    }
  });

  it('closing an app drains its node: its client moves to the other app (1012) and the port is free', async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    if (!client) throw new Error('the first test connects the client');
    const c = client;
    const codes: number[] = [];
    c.on('disconnected', (e) => codes.push(e.code));
    const { port } = a.server.address() as { port: number };

    await a.close();
    await waitFor(() => codes.length > 0, 10_000);
    expect(codes[0]).toBe(1012);
    expect(a.switchyard.cluster.phase).toBe('stopped');
    expect(await refused(port)).toBe(true);
    await waitFor(() => c.state === 'connected' && c.connection?.node === 'fb', 15_000);

    // still in the room on the other app, nothing lost
    const got: string[] = [];
    c.room('lobby').on('message', (m) => got.push(m.data.text));
    await waitFor(() => c.room('lobby').state === 'subscribed', 10_000);
    await b.switchyard.to('lobby').send('chat', { text: 'after the move' });
    await waitFor(() => got.includes('after the move'), 10_000);
  });
});
