import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import type { SwitchyardNode } from '../src/index.js';
import { startNodes, TestClient } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

const authenticate = ({ token }: { token: string | undefined }) => (token ? { userId: token } : {});

/** Resolves with the promise's value, or rejects when it takes longer than `ms` (the call must not hang). */
const within = <T>(p: Promise<T>, ms: number): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
};

describe('presence across the cluster', () => {
  it('roomMembers and connectionCount gather every node; a halted node is reported missing and does not make the call hang', async () => {
    // a long node timeout: the halted node still counts as ready, so it is asked and must time out
    nodes.push(...(await startNodes(['a', 'b', 'c'], { authenticate }, { nodeTimeoutMs: 10_000 })));
    const [a, b, c] = nodes as [SwitchyardNode, SwitchyardNode, SwitchyardNode];
    const join = async (n: SwitchyardNode, user: string | undefined, rooms: string[]) => {
      const x = await TestClient.connect(n.url, { ...(user ? { token: user } : {}), noRedirect: true, rooms: Object.fromEntries(rooms.map((r) => [r, {}])) });
      clients.push(x.client);
      return String(x.welcome.conn);
    };
    const a1 = await join(a, 'ann', ['lobby']);
    const a2 = await join(a, undefined, ['lobby', 'other']);
    const b1 = await join(b, 'bob', ['lobby']);
    await join(b, 'bea', ['other']);
    const c1 = await join(c, 'cat', ['lobby']);

    const all = await b.roomMembers('lobby');
    expect(all.complete).toBe(true);
    expect(all.missing).toEqual([]);
    expect(all.members).toEqual(
      [
        { connectionId: a1, userId: 'ann', node: 'a' },
        { connectionId: a2, userId: null, node: 'a' },
        { connectionId: b1, userId: 'bob', node: 'b' },
        { connectionId: c1, userId: 'cat', node: 'c' },
      ].sort((x, y) => (x.connectionId < y.connectionId ? -1 : 1)),
    );
    expect((await a.roomMembers('nobody-here')).members).toEqual([]);
    expect(await a.connectionCount()).toEqual({ total: 5, byNode: { a: 2, b: 2, c: 1 }, missing: [], complete: true });

    await c.cluster.halt(); // c is gone without a word; its sockets stay open, but it no longer answers
    expect(a.cluster.healthyNodes().map((n) => n.id)).toContain('c');
    const partial = await within(a.roomMembers('lobby', { timeoutMs: 300 }), 3000);
    expect(partial.complete).toBe(false);
    expect(partial.missing).toEqual(['c']);
    expect(partial.members.map((m) => m.connectionId).sort()).toEqual([a1, a2, b1].sort());
    const counted = await within(b.connectionCount({ timeoutMs: 300 }), 3000);
    expect(counted).toEqual({ total: 4, byNode: { a: 2, b: 2 }, missing: ['c'], complete: false });
  });

  it('a member that leaves or disconnects is gone from the next answer', async () => {
    nodes.push(...(await startNodes(['a', 'b'])));
    const [a, b] = nodes as [SwitchyardNode, SwitchyardNode];
    const x = await TestClient.connect(b.url, { noRedirect: true, rooms: { r: {} } });
    const y = await TestClient.connect(b.url, { noRedirect: true, rooms: { r: {} } });
    clients.push(x.client, y.client);
    expect((await a.roomMembers('r')).members).toHaveLength(2);
    expect(await x.client.request({ t: 'leave', room: 'r' })).toMatchObject({ ok: true });
    expect((await a.roomMembers('r')).members.map((m) => m.connectionId)).toEqual([String(y.welcome.conn)]);
    await y.client.close();
    await waitFor(() => b.connections.size === 1);
    expect((await a.roomMembers('r')).members).toEqual([]);
    await expect(a.roomMembers('')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
