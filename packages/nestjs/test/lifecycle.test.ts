/**
 * The adapter's life with its application: app.close() moves the clients to the other node,
 * leaves the cluster and closes everything it opened; what the adapter cannot do is said in
 * plain words (a gateway on its own port, namespaces, conflicting paths, server options).
 */
import { NestFactory } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { createCluster, MemoryHub } from '@switchyard/core';
import { rejectsWithCode, serviceUrl, waitFor } from '@switchyard/core/testing';
import { SwitchyardAdapter } from '../src/index.js';
import { OwnPortModule, TestModule } from './gateway.js';
import { clientOf, startPair } from './support.js';

const redisUrl = await serviceUrl('redis');

/** Open sockets, servers and timers of this process, by kind. */
function handles(): Record<string, number> {
  const count: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (/TCP|Timeout|Pipe/.test(kind)) count[kind] = (count[kind] ?? 0) + 1;
  return count;
}
const noMoreThan = (now: Record<string, number>, before: Record<string, number>) => Object.entries(now).every(([k, n]) => n <= (before[k] ?? 0));

const memoryCluster = () => createCluster({ hub: new MemoryHub(), nodeId: 'solo' });

describe.skipIf(!redisUrl)('app.close() on Redis', () => {
  it('moves the clients to the other application, leaves the cluster, and leaves no open handle', async () => {
    const before = handles();
    const [a, b] = await startPair(redisUrl as string);
    const c = clientOf(a);
    const moved: string[] = [];
    c.on('connected', (info) => moved.push(info.node));
    await c.ready();
    expect(c.connection?.node).toBe('nest-a');

    await a.app.close();
    expect(a.app.getHttpServer().listening).toBe(false);
    await waitFor(() => moved.includes('nest-b'), 15_000);
    await waitFor(() => b.node.cluster.healthyNodes().length === 1, 15_000);
    expect(a.gateway.disconnected.map((d) => d.reason)).toEqual(['service_restart']);
    // the moved client is served by app B's gateway
    expect(await c.request('echo', 'after the move')).toMatchObject({ echoed: 'after the move', node: 'nest-b' });

    c.close();
    await b.app.close();
    await a.app.close(); // twice is fine
    await waitFor(() => noMoreThan(handles(), before), 15_000, 50).catch(() => {
      throw new Error(`handles left open: ${JSON.stringify(handles())} (before: ${JSON.stringify(before)})`);
    });
  });
});

describe('what the adapter refuses, in plain words', () => {
  it('a gateway on a port of its own', async () => {
    const app = await NestFactory.create(OwnPortModule, { logger: false });
    app.useWebSocketAdapter(new SwitchyardAdapter(app, { cluster: memoryCluster() }));
    const err = await app.init().then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.code).toBe('UNSUPPORTED');
    expect(err?.message).toContain('@WebSocketGateway(4321) asks for a port of its own');
    expect(err?.message).toContain('remove the port');
    await app.close();
  });

  it('server, port and host options, and a namespace or a second path', async () => {
    const app = await NestFactory.create(TestModule, { logger: false });
    const cluster = memoryCluster();
    expect(() => new SwitchyardAdapter(app, { cluster, port: 3000 } as never)).toThrow(/invalid option `port` of SwitchyardAdapter: the node serves on the port the application listens on/);
    expect(() => new SwitchyardAdapter(app, { cluster, limits: { maxPayload: 1 } })).toThrow(/limits\.maxPayload/);
    expect(() => new SwitchyardAdapter(app, { cluster, limits: { listenBacklog: 8192 } })).toThrow(/limits\.listenBacklog: .*server\.listen\(\{ port, backlog \}\)/);
    expect(() => new SwitchyardAdapter({} as never, { cluster })).toThrow(/needs the Nest application/);
    const adapter = new SwitchyardAdapter(app, { cluster, path: '/live' });
    await rejectsWithCode(adapter.ready(), 'CONFLICT');
    expect(() => adapter.create(0, { namespace: 'chat' })).toThrow(/namespaces are a Socket.IO feature/);
    expect(() => adapter.create(0, { path: '/other' })).toThrow(/differs from the path SwitchyardAdapter was given/);
    const node = adapter.create(0, {});
    expect(node.options.path).toBe('/live');
    expect(adapter.create(0, { path: '/live' })).toBe(node);
    await adapter.dispose();
    expect(() => adapter.create(0, {})).toThrow(/closed/);
    await app.close();
  });
});

describe('the node endpoints through adapter.httpHandler', () => {
  it('serves /ready on the application port, next to Nest', async () => {
    const app = await NestFactory.create(TestModule, { logger: false });
    const adapter = new SwitchyardAdapter(app, { cluster: memoryCluster(), httpPrefix: '/switchyard' });
    app.use(adapter.httpHandler);
    app.useWebSocketAdapter(adapter);
    await app.listen(0, '127.0.0.1');
    const node = await adapter.ready();
    const base = node.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
    expect((await fetch(`${base}/switchyard/ready`)).status).toBe(200);
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404); // Nest's answer
    await app.close();
    expect(adapter.node?.readiness).toBe('draining');
  });
});
