import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, MemoryHub } from '@switchyard/core';
import { createNode, endpoints, type SwitchyardNode } from '../src/index.js';
import { httpGet, metric, startNodes, TestClient } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

describe('endpoints(node): the answers of httpHandler, for frameworks that route HTTP themselves', () => {
  it('gives the statuses and bodies the node serves over HTTP', async () => {
    nodes.push(...(await startNodes(['a', 'b'])));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const c1 = await TestClient.connect(a.url, { noRedirect: true });
    clients.push(c1.client);
    const ea = endpoints(a);
    const eb = endpoints(b);
    const served = async (base: string, path: string) => {
      const r = await httpGet(base, path);
      return { status: r.status, body: r.json() };
    };
    expect(ea.health()).toEqual({ status: 200, body: { status: 'ok' } });
    expect(ea.health()).toEqual(await served(a.url, '/health'));
    expect(ea.ready()).toEqual({ status: 200, body: { status: 'ready' } });
    expect(ea.ready()).toEqual(await served(a.url, '/ready'));
    const cluster = eb.cluster() as { status: number; body: { node: string; totals: Record<string, number> } };
    expect(cluster.status).toBe(200);
    expect(cluster.body.node).toBe('b');
    expect(cluster.body.totals).toMatchObject({ nodes: 2, healthy: 2, capacity: 20_000 });
    const viaHttp = (await served(b.url, '/cluster')) as { body: { totals: unknown } };
    expect(viaHttp.body.totals).toEqual(cluster.body.totals);
    const session = String(c1.welcome.session);
    expect(await eb.route({ session })).toEqual({ status: 200, body: { url: a.url, node: 'a', reason: 'session' } });
    expect(await eb.route({ session })).toEqual(await served(b.url, `/route?session=${session}`));
    const m = await ea.metrics();
    expect(m.contentType).toMatch(/^text\/plain/);
    expect(metric(m.text, 'switchyard_connections')).toBe(1);
  });

  it('ignores query values that are not strings (a parser that gives arrays for repeated keys)', async () => {
    nodes.push(...(await startNodes(['a'])));
    const [a] = nodes as [SwitchyardNode];
    const r = await endpoints(a).route({ session: ['x', 'y'] as unknown as string });
    expect(r).toMatchObject({ status: 200, body: { node: 'a' } });
    expect((r.body as { reason: string }).reason).not.toBe('session');
  });

  it('ready() answers 503 with why the node is not ready', async () => {
    const node = createNode({ cluster: createCluster({ hub: new MemoryHub(), nodeId: 'idle' }), port: 0 });
    expect(endpoints(node).ready()).toEqual({ status: 503, body: { status: 'starting' } });
  });
});
