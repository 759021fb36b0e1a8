import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import type { SwitchyardNode } from '../src/index.js';
import { startNodes, TestClient, type Frame } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

const authenticate = ({ token }: { token: string | undefined }) => (token ? { userId: token } : {});

async function join(node: SwitchyardNode, user: string | undefined, rooms: string[]): Promise<{ client: TestClient; conn: string }> {
  const { client, welcome } = await TestClient.connect(node.url, { noRedirect: true, ...(user ? { token: user } : {}), rooms: Object.fromEntries(rooms.map((r) => [r, {}])) });
  clients.push(client);
  expect(welcome.node).toBe(node.id);
  return { client, conn: String(welcome.conn) };
}

describe('addressing across three nodes', () => {
  it('all, room, except, user, connection and node reach exactly the right sockets on every node', async () => {
    nodes.push(...(await startNodes(['a', 'b', 'c'], { authenticate })));
    const [a, b, c] = nodes as [SwitchyardNode, SwitchyardNode, SwitchyardNode];
    const s = {
      a1: await join(a, 'u1', ['r1']),
      a2: await join(a, 'u2', []),
      b1: await join(b, 'u1', ['r1']),
      b2: await join(b, 'u3', ['r2']),
      c1: await join(c, 'u2', ['r1']),
      c2: await join(c, undefined, []),
    };
    const names = Object.keys(s) as Array<keyof typeof s>;
    const got = (event: string) => names.filter((n) => s[n].client.msgs.some((m) => m.event === event)).sort();
    const wave = async (event: string, send: () => Promise<unknown>, expected: string[]) => {
      await send();
      await waitFor(() => expected.every((n) => s[n as keyof typeof s].client.msgs.some((m) => m.event === event)));
      // a broadcast after it, seen everywhere, proves nothing else is still on its way
      await b.broadcast(`${event}-end`, null);
      await waitFor(() => names.every((n) => s[n].client.msgs.some((m) => m.event === `${event}-end`)));
      expect(got(event)).toEqual([...expected].sort());
    };

    await wave('everyone', () => b.broadcast('everyone', { x: 1 }), names);
    await wave('room', () => c.to('r1').send('room', 'hi'), ['a1', 'b1', 'c1']);
    await wave('room-except', () => a.to('r1').except(s.b1.conn).send('room-except', 1), ['a1', 'c1']);
    await wave('user', () => c.toUser('u1').send('user', 1), ['a1', 'b1']);
    await wave('conn', () => a.toConnection(s.b2.conn).send('conn', 1), ['b2']);
    await wave('node', () => a.toNode('c').send('node', 1), ['c1', 'c2']);
    await wave('c-local-conn', () => c.toConnection(s.c2.conn).send('c-local-conn', 1), ['c2']);

    const room = s.a1.client.msgs.find((m) => m.event === 'room') as Frame;
    expect(room).toMatchObject({ t: 'msg', event: 'room', data: 'hi', room: 'r1' });
    expect(s.a2.client.msgs.find((m) => m.event === 'user')).toBeUndefined();

    // a client publish reaches the room on every node, with `from`
    const ack = await s.a1.client.request({ t: 'pub', room: 'r1', event: 'chat', data: { text: 'yo' } });
    expect(ack).toMatchObject({ t: 'ack', ok: true });
    await wave('chat', async () => undefined, ['a1', 'b1', 'c1']);
    expect(s.c1.client.msgs.find((m) => m.event === 'chat')).toMatchObject({ from: s.a1.conn, room: 'r1', data: { text: 'yo' } });
    const refused = await s.a2.client.request({ t: 'pub', room: 'r1', data: 1 });
    expect(refused).toMatchObject({ t: 'ack', ok: false, error: { code: 'not_in_room' } });
  });

  it('a node holds bus interest only for what its sockets need and releases it when the last one leaves', async () => {
    nodes.push(...(await startNodes(['a', 'b'], { authenticate })));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const topics = (n: SwitchyardNode) => n.cluster.topics();
    expect(topics(a)).not.toContain('all');
    const x = await join(a, 'ux', ['only-a']);
    const y = await join(a, 'uy', ['only-a']);
    expect(topics(a)).toEqual(expect.arrayContaining(['all', 'room.only-a', 'user.ux', 'user.uy']));
    expect(topics(b)).not.toContain('room.only-a');
    expect(topics(b)).not.toContain('all');
    const left = await x.client.request({ t: 'leave', room: 'only-a' });
    expect(left).toMatchObject({ ok: true, result: { room: 'only-a' } });
    expect(topics(a)).toContain('room.only-a'); // y is still in it
    await y.client.request({ t: 'leave', room: 'only-a' });
    await waitFor(() => !topics(a).includes('room.only-a'));
    await y.client.close();
    await waitFor(() => !topics(a).includes('user.uy'));
    expect(topics(a)).toContain('user.ux');
    await x.client.close();
    await waitFor(() => !topics(a).includes('all') && !topics(a).includes('user.ux'));
  });

  it('application API: connection and message handlers, acks, server-side join and send', async () => {
    nodes.push(...(await startNodes(['a', 'b'])));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const closedOn: string[] = [];
    a.on('connection', (conn) => {
      void conn.join('auto');
      conn.on('message', (data, event, ack) => {
        if (event === 'echo') return { echoed: data };
        if (event === 'later') setTimeout(() => ack?.('done'), 5);
        if (event === 'boom') throw new Error('boom');
        conn.send('reply', data);
        return undefined;
      });
      conn.on('close', () => closedOn.push(conn.id));
    });
    const { client, conn } = await join(a, undefined, []);
    expect(await client.request({ t: 'msg', event: 'echo', data: 5 })).toMatchObject({ ok: true, result: { echoed: 5 } });
    expect(await client.request({ t: 'msg', event: 'later' })).toMatchObject({ ok: true, result: 'done' });
    expect(await client.request({ t: 'msg', event: 'boom' })).toMatchObject({ ok: false, error: { code: 'internal' } });
    client.send({ t: 'msg', event: 'plain', data: 'p' });
    await client.waitFrame((f) => f.t === 'msg' && f.event === 'reply' && f.data === 'p');
    await waitFor(() => a.connections.get(conn)?.rooms.includes('auto'));
    await b.to('auto').send('via-b', 1);
    await client.waitFrame((f) => f.event === 'via-b' && f.room === 'auto');
    await client.close();
    await waitFor(() => closedOn.includes(conn));
  });
});
