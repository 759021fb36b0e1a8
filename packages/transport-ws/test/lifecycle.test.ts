import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCluster, MemoryHub, type ClusterNode } from '@switchyard/core';
import { createNode, type SwitchyardNode } from '../src/index.js';
import { waitFor } from '@switchyard/core/testing';
import { backlogCap, backlogWarning, DEFAULT_LISTEN_BACKLOG } from '../src/server/backlog.js';
import { httpGet, startNodes, TestClient, type Frame } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clusters: ClusterNode[] = [];
const clients: TestClient[] = [];
const removers: Array<() => void> = [];
afterEach(async () => {
  for (const r of removers.splice(0)) r();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
  await Promise.all(clusters.splice(0).map((c) => c.stop()));
});

describe('node lifecycle on the cluster phase', () => {
  it('starts a new cluster, serves a running one, refuses a stopped one; the session TTL is the cluster\'s', async () => {
    const hub = new MemoryHub();
    const fresh = createCluster({ hub, nodeId: 'fresh', sessionTtlMs: 60_000 });
    const a = createNode({ cluster: fresh, port: 0 });
    nodes.push(a);
    expect(fresh.phase).toBe('new');
    await a.start();
    expect(fresh.phase).toBe('running');
    expect(a.sessionTtlMs).toBe(60_000);
    const put = vi.spyOn(fresh.sessions, 'put');
    const { client } = await TestClient.connect(a.url);
    clients.push(client);
    expect(put).toHaveBeenCalledWith(expect.objectContaining({ nodeId: 'fresh' }), 60_000);

    const running = createCluster({ hub, nodeId: 'running', sessionTtlMs: 5_000 });
    clusters.push(running);
    await running.start();
    const b = createNode({ cluster: running, port: 0 });
    nodes.push(b);
    await b.start(); // a started cluster is fine
    expect(b.ready).toBe(true);
    expect(b.sessionTtlMs).toBe(5_000);

    const stopped = createCluster({ hub, nodeId: 'stopped' });
    await stopped.start();
    await stopped.stop();
    const c = createNode({ cluster: stopped, port: 0 });
    await expect(c.start()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(c.httpServer).toBeUndefined(); // refused before any I/O
  });
});

describe('listening', () => {
  it('a port already in use is a CONFLICT naming the port and what to do; the node is left closed and the cluster untouched', async () => {
    const hub = new MemoryHub();
    const first = createNode({ cluster: createCluster({ hub, nodeId: 'first' }), port: 0 });
    nodes.push(first);
    await first.start();
    const port = Number(new URL(first.url).port);
    const cluster = createCluster({ hub, nodeId: 'second' });
    clusters.push(cluster);
    const second = createNode({ cluster, port, host: '127.0.0.1' });
    const err = await second.start().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFLICT' });
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).toMatch(/already in use \(EADDRINUSE\).*port: 0 picks a free one/);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('EADDRINUSE');
    expect(cluster.phase).toBe('new');
    await second.close(); // nothing to close, and no error
  });
});

/** The backlog of the socket listening on `port` as the kernel holds it (`ss`: Send-Q of a listening socket). */
function listenBacklogOf(port: number): number {
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
  return Number(line.trim().split(/\s+/)[2]);
}

describe('listen backlog', () => {
  it('a server the node creates holds 4096 pending connections by default (a failover crowd while the node is busy), or limits.listenBacklog, as far as the kernel allows', async () => {
    const cap = await backlogCap();
    const a = createNode({ cluster: createCluster({ nodeId: 'a', logLevel: 'silent' }), port: 0 });
    const b = createNode({ cluster: createCluster({ nodeId: 'b', logLevel: 'silent' }), port: 0, limits: { listenBacklog: 100 } });
    nodes.push(a, b);
    await Promise.all([a.start(), b.start()]);
    expect(listenBacklogOf(Number(new URL(a.url).port))).toBe(Math.min(DEFAULT_LISTEN_BACKLOG, cap ?? Infinity));
    expect(listenBacklogOf(Number(new URL(b.url).port))).toBe(100);
  });

  it('asking for more than net.core.somaxconn starts the node and says so once, with the sysctl to raise it', async () => {
    const cap = await backlogCap();
    expect(cap).toBeGreaterThan(0); // (Linux)
    const warnings: Array<[object | string, string | undefined]> = [];
    const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (o: object | string, m?: string) => void warnings.push([o, m]) };
    const node = createNode({ cluster: createCluster({ nodeId: 'big', logLevel: 'silent' }), port: 0, logger, limits: { listenBacklog: (cap as number) + 1 } });
    nodes.push(node);
    await node.start();
    const said = warnings.filter(([, m]) => m?.includes('net.core.somaxconn'));
    expect(said).toHaveLength(1);
    expect(said[0]?.[1]).toContain(`listen backlog ${(cap as number) + 1} is capped at ${cap}`);
    expect(said[0]?.[1]).toContain(`sysctl -w net.core.somaxconn=${(cap as number) + 1}`);
    expect(listenBacklogOf(Number(new URL(node.url).port))).toBe(cap);
  });

  it('backlogCap reads the kernel setting and says nothing where it cannot; backlogWarning is quiet when the kernel allows the backlog', async () => {
    expect(await backlogCap(async () => '128\n')).toBe(128);
    expect(await backlogCap(async () => 'x')).toBeUndefined();
    expect(await backlogCap(() => Promise.reject(Object.assign(new Error('no such file'), { code: 'ENOENT' })))).toBeUndefined();
    expect(backlogWarning(4096, 4096)).toBeUndefined();
    expect(backlogWarning(4096, undefined)).toBeUndefined();
    expect(backlogWarning(4096, 128)).toMatch(/capped at 128.*waits 1 s for its TCP retry/);
  });

  it('limits.listenBacklog with a server of your own is refused: the backlog is given to that server when it listens', () => {
    const err = (() => {
      try {
        createNode({ cluster: createCluster({ logLevel: 'silent' }), server: createServer(), limits: { listenBacklog: 1024 } });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected CONFIG_INVALID');
    })();
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(err.message).toMatch(/limits\.listenBacklog: .*server\.listen\(\{ port, backlog \}\)/);
  });
});

/** Resolves with the promise's value, or rejects when it takes longer than `ms`. */
const within = <T>(p: Promise<T>, ms: number): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
};

describe('closing on SIGTERM', () => {
  it('the handler: /ready 503 and upgrades refused at once, every client gets a hint and 1012, done within the grace period even with a client that never reads', async () => {
    nodes.push(...(await startNodes(['a', 'b', 'c'], { drain: { batchSize: 2, batchIntervalMs: 100, graceMs: 30_000 }, timeouts: { closeTimeoutMs: 60_000 } })));
    const [a, b, c] = nodes as [SwitchyardNode, SwitchyardNode, SwitchyardNode];
    const before = process.listenerCount('SIGTERM');
    const handle = c.closeOnSignals({ graceMs: 1500, signals: ['SIGTERM'] });
    removers.push(handle.remove);
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);

    const movers = await Promise.all(Array.from({ length: 6 }, () => TestClient.connect(c.url, { noRedirect: true })));
    const stuck = await TestClient.connect(c.url, { noRedirect: true });
    clients.push(...movers.map((x) => x.client), stuck.client);
    const socket = (stuck.client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause(); // never reads the close frame, so never completes the close handshake

    const closing = handle.handler('SIGTERM');
    expect(c.ready).toBe(false);
    expect(c.accepting).toBe(false);
    const ready = await httpGet(c.url, '/ready');
    expect(ready.status).toBe(503);
    expect(ready.json()).toEqual({ status: 'draining' });
    await expect(TestClient.open(c.url)).rejects.toMatchObject({ status: 503 });

    await Promise.all(movers.map((x) => waitFor(() => x.client.closed, 3000)));
    const others = [a.url, b.url];
    for (const x of movers) {
      const hint = x.client.frames.find((f) => f.t === 'redirect') as Frame;
      expect(hint).toMatchObject({ reason: 'draining' });
      expect(others).toContain(hint.url);
      expect(x.client.closed).toEqual({ code: 1012, reason: hint.url });
    }
    await within(closing, 1500 + 1500); // the grace period plus a margin for the cluster to deregister: it must not wait for the stuck client
    expect(c.cluster.phase).toBe('stopped');
    expect(process.listenerCount('SIGTERM')).toBe(before); // removed once closed
    expect(await handle.handler('SIGTERM')).toBeUndefined(); // a second signal: same (finished) close
    socket.resume();
    await waitFor(() => stuck.client.closed, 3000);
    await waitFor(() => !a.cluster.healthyNodes().some((n) => n.id === 'c'), 3000);
  });
});
