import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCluster, MemoryHub, type ClusterNode } from '@switchyard/core';
import { createNode, type SwitchyardNode } from '../src/index.js';
import { TestClient } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clusters: ClusterNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
  await Promise.all(clusters.splice(0).map((c) => c.stop()));
});

describe('node lifecycle on the cluster phase', () => {
  it('starts a new cluster, serves a running one, refuses a stopped one; the session TTL defaults to the cluster config', async () => {
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

    const running = createCluster({ hub, nodeId: 'running' });
    clusters.push(running);
    await running.start();
    const b = createNode({ cluster: running, port: 0, sessionTtlMs: 5_000 });
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
