/**
 * A node stops within its grace period whatever its backend is doing: here Redis (bus,
 * registry, sessions, history) stops answering mid-run (a blackhole), and `close()` still ends.
 */
import { describe, expect, it } from 'vitest';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { serviceUrl, TcpProxy, waitFor } from '@switchyard/core/testing';
import { createNode } from '@switchyard/transport-ws';
import { createClient } from '@switchyard/transport-ws/client';
import WebSocket from 'ws';
import { inCi } from '../src/services/backend.js';

const url = await serviceUrl('redis');

describe.skipIf(!url && !inCi())('shutdown with a silent backend', () => {
  it('close({ graceMs }) ends although Redis swallows every request (no hang on unsubscribe, deregister or quit)', async () => {
    const target = new URL(url as string);
    const proxy = await TcpProxy.start({ target: { host: target.hostname, port: Number(target.port || 6379) } });
    const node = createNode({
      adapter: createRedisAdapter({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix: `shutdown-${Date.now()}:`, commandTimeoutMs: 1000 }),
      port: 0,
      rooms: { history: true },
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    try {
      await node.start();
      const c = createClient({ url: node.url, WebSocket });
      c.room('r');
      await c.ready();
      proxy.blackhole();
      const started = Date.now();
      let closed = false;
      const closing = node.close({ graceMs: 1000 }).then(() => (closed = true));
      // Before the change this took over a minute (a quit and unsubscribes waited on the silent peer).
      await waitFor(() => closed, 30_000, 50);
      await closing;
      expect(Date.now() - started).toBeLessThan(30_000);
      c.close();
    } finally {
      proxy.pass();
      await proxy.close();
    }
  }, 60_000);
});
