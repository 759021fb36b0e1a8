import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import type { SwitchyardNode } from '../src/index.js';
import { httpGet, startNodes, TestClient, type Frame } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

const authenticate = ({ token }: { token: string | undefined }) => (token ? { userId: token } : {});

describe('placement, redirects and draining', () => {
  it('a redirect lands the client on the node its user affinity names, whichever node it asks', async () => {
    nodes.push(...(await startNodes(['a', 'b', 'c'], { authenticate }, { affinity: 'user' })));
    const first = await TestClient.connect(nodes[0]!.url, { token: 'alice' });
    clients.push(first.client);
    const home = String(first.welcome.node);
    const homeUrl = nodes.find((n) => n.id === home)!.url;
    for (const n of nodes) {
      const { client, welcome, hops } = await TestClient.connect(n.url, { token: 'alice' });
      clients.push(client);
      expect(welcome.node).toBe(home);
      if (n.id !== home) expect(hops).toEqual([n.url, homeUrl]);
      else expect(hops).toEqual([n.url]);
    }
    // the redirect itself: a frame with the URL, then close 4300 with the URL as reason
    const other = nodes.find((n) => n.id !== home)!;
    const raw = await TestClient.open(other.url);
    clients.push(raw);
    raw.send({ t: 'hello', v: 1, token: 'alice' });
    expect(await raw.waitFrame((f) => f.t === 'redirect')).toEqual({ t: 'redirect', url: homeUrl, reason: 'affinity' });
    await waitFor(() => raw.closed);
    expect(raw.closed).toEqual({ code: 4300, reason: homeUrl });
    // noRedirect keeps it where it is
    const pinned = await TestClient.connect(other.url, { token: 'alice', noRedirect: true }, false);
    clients.push(pinned.client);
    expect(pinned.welcome.node).toBe(other.id);
    // GET /route names the same node
    const route = await httpGet(other.url, '/route?user=alice');
    expect(route.status).toBe(200);
    expect(route.json()).toEqual({ url: homeUrl, node: home, reason: 'affinity' });
    const text = (await httpGet(other.url, '/metrics')).text;
    expect(text).toMatch(/switchyard_ws_redirects_total\{reason="affinity"[^}]*\} [1-9]/);
  });

  it('a resumed session is sent back to the node the session store names', async () => {
    nodes.push(...(await startNodes(['a', 'b', 'c'])));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const first = await TestClient.connect(a.url, { noRedirect: true });
    const session = String(first.welcome.session);
    await first.client.close();
    const again = await TestClient.connect(b.url, { session });
    clients.push(again.client);
    expect(again.welcome).toMatchObject({ node: 'a', session, resumed: true });
    expect(again.hops).toEqual([b.url, a.url]);

    // a client that lost node a abnormally names it: it is kept where it landed, not sent back to a node that may be dead
    await again.client.close();
    const kept = await TestClient.connect(b.url, { session, lost: 'a' }, false);
    clients.push(kept.client);
    expect(kept.welcome).toMatchObject({ node: 'b', session, resumed: true });
  });

  it('draining a node: /ready 503, clients get a redirect hint and 1012, reconnect elsewhere and keep receiving their rooms', async () => {
    nodes.push(...(await startNodes(['a', 'b', 'c'], { rooms: { history: true }, drain: { batchSize: 2, batchIntervalMs: 20, graceMs: 5000 } })));
    const [a, , c] = nodes as [SwitchyardNode, SwitchyardNode, SwitchyardNode];
    const onC = await Promise.all(Array.from({ length: 5 }, () => TestClient.connect(c.url, { noRedirect: true, rooms: { news: {} } })));
    for (const x of onC) clients.push(x.client);
    await a.to('news').send('before', 1);
    await Promise.all(onC.map((x) => x.client.waitFrame((f) => f.event === 'before')));

    const closing = c.close();
    expect((await httpGet(c.url, '/ready')).status).toBe(503);
    expect(((await httpGet(c.url, '/ready')).json() as { status: string }).status).toBe('draining');
    await Promise.all(onC.map((x) => waitFor(() => x.client.closed)));
    const moved: TestClient[] = [];
    for (const x of onC) {
      expect(x.client.closed?.code).toBe(1012);
      const hint = x.client.frames.find((f) => f.t === 'redirect') as Frame;
      expect(hint.reason).toBe('draining');
      expect(x.client.closed?.reason).toBe(hint.url);
      expect(hint.url).not.toBe(c.url);
      const last = [...x.client.msgs].reverse().find((m) => m.room === 'news') as Frame;
      const back = await TestClient.connect(String(hint.url), { session: x.welcome.session, rooms: { news: { offset: last.o, epoch: last.e } } });
      clients.push(back.client);
      expect(back.welcome.node).not.toBe('c');
      expect(back.welcome.resumed).toBe(true);
      moved.push(back.client);
    }
    await closing;
    expect(a.cluster.healthyNodes().map((n) => n.id)).not.toContain('c');
    await a.to('news').send('after', 2);
    await Promise.all(moved.map((m) => m.waitFrame((f) => f.event === 'after' && f.room === 'news')));
    expect(moved.every((m) => !m.msgs.some((f) => f.event === 'before'))).toBe(true); // nothing replayed twice
    // a second close is a no-op
    await c.close();
  });
});
