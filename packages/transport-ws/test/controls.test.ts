import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import type { SwitchyardNode } from '../src/index.js';
import { httpGet, metric, startNodes, TestClient, type Frame } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

describe('cluster control notices', () => {
  it('rebalance: a notice asking N connections to move sends exactly N clients a redirect hint and 1012; they land on the target and stay', async () => {
    nodes.push(...(await startNodes(['a', 'b', 'c'], { rooms: { history: true } }, { affinity: 'user' })));
    const [a, b, c] = nodes as [SwitchyardNode, SwitchyardNode, SwitchyardNode];
    const onC = await Promise.all(Array.from({ length: 5 }, (_, i) => TestClient.connect(c.url, { token: `u${i}`, noRedirect: true, rooms: { news: {} } })));
    for (const x of onC) clients.push(x.client);
    expect(c.connections.size).toBe(5);

    await a.cluster.control('rebalance', { connections: 2, to: 'b' }, 'c');
    await waitFor(() => onC.filter((x) => x.client.closed).length === 2);
    const moved = onC.filter((x) => x.client.closed);
    for (const x of moved) {
      expect(x.client.closed).toEqual({ code: 1012, reason: b.url });
      expect(x.client.frames.find((f) => f.t === 'redirect')).toEqual({ t: 'redirect', url: b.url, reason: 'rebalance' });
    }
    await waitFor(() => c.connections.size === 3);
    expect(onC.filter((x) => !x.client.closed)).toHaveLength(3);

    // the moved clients follow the hint with their session and are kept there (not sent back by the session store)
    const landed: TestClient[] = [];
    for (const x of moved) {
      const back = await TestClient.connect(b.url, { token: x.welcome.user, session: x.welcome.session, rooms: { news: {} } });
      clients.push(back.client);
      expect(back.hops).toEqual([b.url]);
      expect(back.welcome).toMatchObject({ node: 'b', resumed: true });
      landed.push(back.client);
    }
    await a.to('news').send('after', 1);
    await Promise.all([...landed, ...onC.filter((x) => !x.client.closed).map((x) => x.client)].map((cl) => cl.waitFrame((f: Frame) => f.event === 'after')));
    expect(metric((await httpGet(c.url, '/metrics')).text, 'switchyard_ws_redirects_total', 'reason="rebalance"')).toBe(2);
  });

  it('disconnect: a notice (or node.disconnect) closes that one connection, wherever it is', async () => {
    nodes.push(...(await startNodes(['a', 'b'])));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const x = await TestClient.connect(b.url, { noRedirect: true });
    const y = await TestClient.connect(b.url, { noRedirect: true });
    const z = await TestClient.connect(a.url, { noRedirect: true });
    clients.push(x.client, y.client, z.client);

    await a.cluster.control('disconnect', { connectionId: String(x.welcome.conn) }); // to every node
    await waitFor(() => x.client.closed);
    expect(x.client.closed).toEqual({ code: 1000, reason: 'disconnected' });

    await a.disconnect(String(y.welcome.conn), { code: 4003, reason: 'banned' }); // to the node that holds it
    await waitFor(() => y.client.closed);
    expect(y.client.closed).toEqual({ code: 4003, reason: 'banned' });
    expect(z.client.closed).toBeUndefined();
    await waitFor(() => b.connections.size === 0);
    expect(a.connections.size).toBe(1);
  });
});
