import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, MemoryHub, type NodeRegistry } from '@switchyard/core';
import { flakyRegistry, waitFor } from '@switchyard/core/testing';
import WebSocket from 'ws';
import { createNode, type SwitchyardNode } from '../src/index.js';
import { createClient, type SwitchyardClient } from '../src/client/index.js';
import { httpGet, metric, TestClient } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const sdks: SwitchyardClient[] = [];
afterEach(async () => {
  for (const s of sdks.splice(0)) s.close();
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

async function start(hub: MemoryHub, id: string, registry?: NodeRegistry): Promise<SwitchyardNode> {
  const node = createNode({
    cluster: createCluster({ hub, nodeId: id, heartbeatIntervalMs: 100, nodeTimeoutMs: 2000, history: true, ...(registry ? { registry } : {}) }),
    port: 0,
    rooms: { history: true },
  });
  nodes.push(node);
  await node.start();
  return node;
}

describe('a node cut off from the registry', () => {
  it('is not ready at the first failed call, closes its clients with 4011 before it can be declared dead, and they resume on another node', async () => {
    const hub = new MemoryHub();
    const link = flakyRegistry(hub);
    const a = await start(hub, 'a', link.registry);
    const b = await start(hub, 'b');
    await waitFor(() => a.cluster.healthyNodes().length === 2 && b.cluster.healthyNodes().every((n) => n.url !== ''), 5000);
    const sdk = createClient({ urls: [a.url, b.url], WebSocket, reconnect: { baseMs: 20, maxMs: 200, firstRetryMaxMs: 20 } });
    sdks.push(sdk);
    const room = sdk.room('chat');
    const got: unknown[] = [];
    room.on('message', (m) => got.push(m.data));
    await sdk.ready();
    expect(sdk.connection?.node).toBe('a');
    await b.to('chat').send('m', 1);
    await waitFor(() => got.length === 1);

    const events: string[] = [];
    sdk.on('disconnected', (e) => events.push(`client closed ${e.code}`));
    b.cluster.on('node:dead', (n) => events.push(`b declared ${n.id} dead`));
    link.set('hang');
    await waitFor(async () => (await httpGet(a.url, '/ready')).status === 503, 5000);
    await waitFor(() => events.includes('b declared a dead'), 10_000);
    expect(events[0]).toBe('client closed 4011');
    expect(events.indexOf('client closed 4011')).toBeLessThan(events.indexOf('b declared a dead'));
    expect((await httpGet(a.url, '/ready')).json()).toEqual({ status: 'fenced' });
    await expect(TestClient.open(a.url)).rejects.toMatchObject({ status: 503 });

    // the client moved to b and resumed from its offset: nothing lost
    await waitFor(() => sdk.connection?.node === 'b', 10_000);
    for (let i = 2; i <= 4; i++) await b.to('chat').send('m', i);
    await waitFor(() => got.length === 4);
    expect(got).toEqual([1, 2, 3, 4]);
    expect(metric(await a.cluster.metricsRegistry.metrics(), 'switchyard_ws_fenced_closes_total')).toBe(1);

    link.set('ok');
    await waitFor(async () => (await httpGet(a.url, '/ready')).status === 200, 10_000);
  });
});
