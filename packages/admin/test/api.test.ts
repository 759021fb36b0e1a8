/**
 * The admin API on two real nodes (one in-memory hub, real sockets and HTTP): the snapshot shows
 * both nodes, their connections and rooms; authorization separates viewing from acting; actions
 * are refused cross-site; drain moves a node's clients; disconnect closes a connection held by
 * the other node; the node's own endpoints still answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { isSwitchyardError } from '@switchyard/core';
import { waitFor } from '@switchyard/core/testing';
import type { SwitchyardNode } from '@switchyard/transport-ws';
import { createClient, type SwitchyardClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { attachAdminAgent, mountAdmin, type AdminEvent, type AdminHandle, type ClusterSnapshot, type ConnectionsReport } from '../src/index.js';
import { action, as, authorize, httpBase, request, startNodes } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const admins: AdminHandle[] = [];
const clients: SwitchyardClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(admins.splice(0).map((a) => a.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

const authenticate = ({ token }: { token: string | undefined }) => (token ? { userId: token } : {});

/** An SDK client that stays on the node it dials (no redirects), in `rooms`. */
async function connect(node: SwitchyardNode, user: string, rooms: string[], reconnect = true): Promise<SwitchyardClient> {
  const c = createClient({ url: node.url, token: user, maxRedirects: 0, WebSocket: WebSocket as unknown as WebSocketConstructor, reconnect: { baseMs: 50, maxMs: 300, firstRetryMaxMs: 50 }, ...(reconnect ? {} : { isFatal: () => true }) });
  c.on('error', () => undefined);
  clients.push(c);
  const joined = rooms.map((r) => c.room(r));
  await c.ready();
  await waitFor(() => joined.every((r) => r.state === 'subscribed'), 5000);
  return c;
}

async function twoNodes(): Promise<{ a: SwitchyardNode; b: SwitchyardNode; admin: AdminHandle; base: string }> {
  nodes.push(...(await startNodes(['a', 'b'], { authenticate })));
  const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
  const admin = mountAdmin(a, { authorize, challenge: 'Bearer realm="switchyard admin"', refreshMs: 250 });
  admins.push(admin);
  attachAdminAgent(b);
  return { a, b, admin, base: `${httpBase(a)}/admin` };
}

describe('mounting', () => {
  it('refuses to mount without an authorize hook, names the opt-out, and mounts with it', async () => {
    nodes.push(...(await startNodes(['solo'])));
    const node = nodes[0] as SwitchyardNode;
    const err = (() => {
      try {
        mountAdmin(node, {} as never);
      } catch (e) {
        return e;
      }
    })();
    expect(isSwitchyardError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/refusing to mount the admin dashboard without an authorize hook/);
    expect((err as Error).message).toContain("'allow-all-insecure'");
    expect(() => mountAdmin(node, { authorize: 'allow-all' as never })).toThrow(/authorize must be a function/);
    expect(() => mountAdmin(node, { authorize, path: 'admin' })).toThrow(/path must start with \//);
    expect(() => mountAdmin(node, { authorize, path: '/admin/' })).toThrow(/not end with \//);
    expect(() => mountAdmin(node, { authorize, path: '/ws' })).toThrow(/WebSocket path/);
    expect(() => mountAdmin(node, { authorize, refreshMs: 10 })).toThrow(/refreshMs must be an integer from 250/);
    expect(() => mountAdmin(node, { authorize, colour: 'red' } as never)).toThrow(/unknown option "colour"/);

    const open = mountAdmin(node, { authorize: 'allow-all-insecure', path: '/ops' });
    admins.push(open);
    expect(() => mountAdmin(node, { authorize, path: '/ops' })).toThrow(/already mounted at \/ops/);
    const me = await request(`${httpBase(node)}/ops/api/me`);
    expect(me.status).toBe(200);
    expect(me.json()).toMatchObject({ read: true, act: true, node: 'solo' });
  });

  it('says to call it after start() when the node has no server yet', async () => {
    const [node] = await startNodes(['early']);
    nodes.push(node as SwitchyardNode);
    const { createNode } = await import('@switchyard/transport-ws');
    const fresh = createNode({ cluster: (node as SwitchyardNode).cluster, port: 0 });
    expect(() => mountAdmin(fresh, { authorize })).toThrow(/call mountAdmin after await node\.start\(\)/);
  });

  it("passes every other request on to the node's own endpoints, and gives them back on close()", async () => {
    const { a, admin, base } = await twoNodes();
    expect((await request(`${httpBase(a)}/health`)).json()).toEqual({ status: 'ok' });
    expect((await request(`${httpBase(a)}/cluster`)).status).toBe(200);
    expect((await request(`${httpBase(a)}/nothing`)).status).toBe(404);
    const redirect = await request(base, { headers: as('reader') });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/admin/');
    await admin.close();
    await admin.close();
    expect((await request(`${base}/`, { headers: as('admin') })).status).toBe(404);
    expect((await request(`${httpBase(a)}/health`)).json()).toEqual({ status: 'ok' });
  });
});

describe('authorization', () => {
  it('nothing without read (401 with the challenge), a reader views but gets 403 on actions, an admin acts only with the header and from this origin', async () => {
    const { a, base } = await twoNodes();
    for (const path of ['/', '/admin.js', '/api/snapshot', '/api/stream']) {
      const r = await request(`${base}${path}`);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="switchyard admin"');
      expect(r.json().message).toMatch(/not authorized to view the admin dashboard/);
    }
    expect((await request(`${base}/api/nodes/b/drain`, { method: 'POST', headers: { ...action } })).status).toBe(401);

    const page = await request(`${base}/`, { headers: as('reader') });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.text).toContain('<script type="module" src="admin.js">');
    const script = await request(`${base}/admin.js`, { headers: as('reader') });
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await request(`${base}/../package.json`, { headers: as('reader') })).status).toBe(404);
    expect((await request(`${base}/api/me`, { headers: as('reader') })).json()).toMatchObject({ read: true, act: false, node: 'a' });

    const refused = await request(`${base}/api/nodes/b/drain`, { method: 'POST', headers: as('reader', action) });
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'forbidden' });
    expect(refused.json().message).toMatch(/may view the admin dashboard but not act/);
    expect((await request(`${base}/api/connections/b~x/disconnect`, { method: 'POST', headers: as('reader', action) })).status).toBe(403);

    const noHeader = await request(`${base}/api/nodes/b/drain`, { method: 'POST', headers: as('admin') });
    expect(noHeader.status).toBe(403);
    expect(noHeader.json()).toMatchObject({ error: 'cross_site' });
    const otherSite = await request(`${base}/api/nodes/b/drain`, { method: 'POST', headers: as('admin', { ...action, origin: 'http://evil.example' }) });
    expect(otherSite.status).toBe(403);
    expect(otherSite.json().message).toMatch(/Origin http:\/\/evil\.example is not this server/);
    const fetchSite = await request(`${base}/api/nodes/b/drain`, { method: 'POST', headers: as('admin', { ...action, 'sec-fetch-site': 'cross-site' }) });
    expect(fetchSite.status).toBe(403);
    expect((await request(`${base}/api/nodes/b/drain`, { method: 'DELETE', headers: as('admin') })).status).toBe(405);
    // nothing was drained by any of these
    expect(a.cluster.nodes().find((n) => n.id === 'b')?.state).toBe('ready');
  });

  it('an authorize hook that throws denies with 500 and plain words; a promise is awaited', async () => {
    nodes.push(...(await startNodes(['x'])));
    const node = nodes[0] as SwitchyardNode;
    admins.push(mountAdmin(node, { path: '/broken', authorize: () => { throw new Error('db down'); } }));
    admins.push(mountAdmin(node, { path: '/async', authorize: async () => ({ read: true, act: false }) }));
    const broken = await request(`${httpBase(node)}/broken/api/me`);
    expect(broken.status).toBe(500);
    expect(broken.json().message).toMatch(/the authorize hook failed, so the request was denied/);
    expect((await request(`${httpBase(node)}/async/api/me`)).json()).toMatchObject({ read: true, act: false });
  });
});

describe('the cluster view', () => {
  it('snapshot: both nodes with their connections, rooms summed over nodes, latencies; members and connections of the other node', async () => {
    const { b, base } = await twoNodes();
    const { a } = { a: nodes[0] as SwitchyardNode };
    await connect(a, 'ann', ['lobby']);
    await connect(a, 'amy', ['lobby', 'ops']);
    const bob = await connect(b, 'bob', ['lobby']);
    await waitFor(async () => {
      const v = (await request(`${base}/api/snapshot`, { headers: as('reader') })).json<ClusterSnapshot>();
      return v.totals.connections === 3 && v.nodes.some((n) => n.coordinator);
    }, 10_000);
    const s = (await request(`${base}/api/snapshot`, { headers: as('reader') })).json<ClusterSnapshot>();
    expect(s.node).toBe('a');
    expect(s.nodes.map((n) => [n.id, n.state, n.connections, n.reporting])).toEqual([
      ['a', 'ready', 2, true],
      ['b', 'ready', 1, true],
    ]);
    expect(s.nodes.filter((n) => n.coordinator).length).toBe(1);
    expect(s.rooms).toEqual([
      { name: 'lobby', members: 3, nodes: { a: 2, b: 1 } },
      { name: 'ops', members: 1, nodes: { a: 1 } },
    ]);
    expect(s.totals).toMatchObject({ nodes: 2, healthy: 2, connections: 3, rooms: 2 });
    expect(s.missing).toEqual([]);
    expect(s.nodes[0]?.latency).toHaveProperty('bus');

    const members = (await request(`${base}/api/rooms/lobby/members`, { headers: as('reader') })).json<{ members: Array<{ userId: string; node: string }>; complete: boolean }>();
    expect(members.complete).toBe(true);
    expect(members.members.map((m) => `${m.userId}@${m.node}`).sort()).toEqual(['amy@a', 'ann@a', 'bob@b']);
    const onB = (await request(`${base}/api/nodes/b/connections`, { headers: as('reader') })).json<ConnectionsReport & { node: string }>();
    expect(onB.total).toBe(1);
    expect(onB.connections[0]).toMatchObject({ id: bob.connection?.conn, userId: 'bob', rooms: ['lobby'] });
    expect((await request(`${base}/api/nodes/zz/connections`, { headers: as('reader') })).status).toBe(404);
  });

  it('a node without the agent is listed with its connection count and named in withoutAgent', async () => {
    nodes.push(...(await startNodes(['a', 'c'], { authenticate })));
    const [a, c] = nodes as [SwitchyardNode, SwitchyardNode];
    admins.push(mountAdmin(a, { authorize }));
    await connect(c, 'cy', ['lobby']);
    const s = await (admins[0] as AdminHandle).snapshot();
    expect(s.withoutAgent).toEqual(['c']);
    expect(s.nodes.find((n) => n.id === 'c')).toMatchObject({ reporting: false, connections: 1, rooms: {} });
  });

  it('the live stream sends a snapshot at once and the cluster events as they happen', async () => {
    const { base } = await twoNodes();
    const ctrl = new AbortController();
    const res = await fetch(`${base}/api/stream`, { headers: as('reader'), signal: ctrl.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const decoder = new TextDecoder();
    const readUntil = async (pred: () => boolean) => {
      while (!pred()) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += decoder.decode(value);
      }
    };
    await readUntil(() => text.includes('event: snapshot'));
    await request(`${base}/api/nodes/b/drain`, { method: 'POST', headers: as('admin', action) });
    await readUntil(() => /event: event\ndata: .*"kind":"drain"/.test(text) && /"kind":"node-state".*b: ready -> draining/.test(text));
    ctrl.abort();
    expect(text.indexOf('"kind":"drain"')).toBeLessThan(text.indexOf('b: ready -> draining'));
  });
  it('a reconnecting page (Last-Event-ID) gets only the events it missed', async () => {
    const { admin, base } = await twoNodes();
    await request(`${base}/api/nodes/b/drain`, { method: 'POST', headers: as('admin', action) });
    await waitFor(() => admin.events().length >= 2, 10_000);
    const seqs = admin.events().map((e) => e.seq);
    const ctrl = new AbortController();
    const res = await fetch(`${base}/api/stream`, { headers: as('reader', { 'last-event-id': String(seqs[0]) }), signal: ctrl.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: snapshot')) text += new TextDecoder().decode((await reader.read()).value);
    ctrl.abort();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(seqs.slice(1));
  });
});

describe('actions', () => {
  it('drain: b enters draining, its clients move to a, the event is logged', async () => {
    const { a, b, admin, base } = await twoNodes();
    const moving = [await connect(b, 'bo', ['lobby']), await connect(b, 'bea', ['lobby'])];
    const r = await request(`${base}/api/nodes/b/drain`, { method: 'POST', headers: as('admin', action) });
    expect(r.status).toBe(202);
    expect(r.json()).toEqual({ node: 'b', action: 'drain', previous: 'ready' });
    await waitFor(() => b.draining && a.cluster.nodes().find((n) => n.id === 'b')?.state === 'draining', 10_000);
    await waitFor(() => moving.every((c) => c.state === 'connected' && c.connection?.node === 'a'), 15_000);
    expect(b.connections.size).toBe(0);
    const again = await request(`${base}/api/nodes/b/drain`, { method: 'POST', headers: as('admin', action) });
    expect(again.json()).toMatchObject({ previous: 'draining' });
    expect(admin.events().filter((e: AdminEvent) => e.kind === 'drain').map((e) => e.node)).toEqual(['b']);
    expect((await request(`${base}/api/nodes/nope/drain`, { method: 'POST', headers: as('admin', action) })).status).toBe(404);
  });

  it('disconnect: a connection held by the other node is closed with 4003 and stays away; bad input is refused in plain words', async () => {
    const { b, admin, base } = await twoNodes();
    const bob = await connect(b, 'bob', ['lobby']);
    const stay = await connect(b, 'bea', ['lobby']);
    const closed: number[] = [];
    bob.on('disconnected', (e: { code: number }) => closed.push(e.code));
    const id = bob.connection?.conn as string;
    const r = await request(`${base}/api/connections/${encodeURIComponent(id)}/disconnect`, { method: 'POST', headers: as('admin', action) });
    expect(r.status).toBe(202);
    expect(r.json()).toEqual({ connection: id, node: 'b', action: 'disconnect', code: 4003 });
    await waitFor(() => bob.state === 'closed', 10_000);
    expect(closed).toContain(4003);
    expect(b.connections.has(id)).toBe(false);
    expect(stay.state).toBe('connected');
    expect(admin.events().at(-1)).toMatchObject({ kind: 'disconnect', node: 'b' });

    const bad = await request(`${base}/api/connections/${encodeURIComponent(stay.connection?.conn as string)}/disconnect`, { method: 'POST', headers: as('admin', action), body: JSON.stringify({ code: 1006 }) });
    expect(bad.status).toBe(400);
    expect(bad.json().message).toMatch(/code must be 1000/);
    expect((await request(`${base}/api/connections/nodeless/disconnect`, { method: 'POST', headers: as('admin', action) })).json().message).toMatch(/not a connection id/);
    expect((await request(`${base}/api/connections/${encodeURIComponent('gone~abc')}/disconnect`, { method: 'POST', headers: as('admin', action) })).status).toBe(404);
    expect(stay.state).toBe('connected');
  });
});
