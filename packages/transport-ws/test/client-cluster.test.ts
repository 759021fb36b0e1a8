/**
 * The client SDK against REAL Switchyard nodes: three nodes of one in-memory cluster (history
 * on), each listening on a loopback port, the SDK speaking to them over real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, MemoryHub } from '@switchyard/core';
import { waitFor } from '@switchyard/core/testing';
import { WebSocket } from 'ws';
import { createNode, type SwitchyardNode } from '../src/index.js';
import { createClient, type ClientMessage, type ClientOptions, type SubscribedInfo, type SwitchyardClient } from '../src/client/index.js';
import { crash } from './helpers.js';

let nodes: SwitchyardNode[] = [];
let clients: SwitchyardClient[] = [];

async function startCluster(n = 3): Promise<SwitchyardNode[]> {
  const hub = new MemoryHub();
  nodes = Array.from({ length: n }, (_, i) =>
    createNode({
      cluster: createCluster({ hub, nodeId: `n${i + 1}`, heartbeatIntervalMs: 50, nodeTimeoutMs: 400, history: true }),
      port: 0,
      rooms: { history: true },
      drain: { graceMs: 2000, batchIntervalMs: 0 },
    }),
  );
  await Promise.all(nodes.map((x) => x.start()));
  await waitFor(() => nodes.every((x) => x.cluster.healthyNodes().length === n && x.cluster.healthyNodes().every((h) => h.url !== '')), 5000);
  return nodes;
}

const client = (o: Partial<ClientOptions>) => {
  const c = createClient({ WebSocket, urls: nodes.map((x) => x.url), ...o });
  clients.push(c);
  return c;
};
const nodeOf = (c: SwitchyardClient) => nodes.find((x) => x.id === c.connection?.node) as SwitchyardNode;
const other = (...not: SwitchyardNode[]) => nodes.find((x) => !not.includes(x)) as SwitchyardNode;

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await Promise.all(nodes.map((x) => x.close({ graceMs: 0 })));
  nodes = [];
});

describe('client SDK on a real 3-node cluster', () => {
  it('connects, joins a room and receives what another node sends, in order', async () => {
    await startCluster();
    const c = client({});
    const lobby = c.room('lobby');
    await c.ready();
    await waitFor(() => lobby.state === 'subscribed');
    const home = nodeOf(c);
    expect(home).toBeDefined();
    const got: ClientMessage[] = [];
    lobby.on('message', (m) => got.push(m));
    const sender = other(home);
    for (let i = 1; i <= 5; i++) await sender.to('lobby').send('chat', { i });
    await waitFor(() => got.length === 5);
    expect(got.map((m) => (m.data as { i: number }).i)).toEqual([1, 2, 3, 4, 5]);
    expect(got[0]).toMatchObject({ room: 'lobby', event: 'chat', epoch: expect.any(String) });
    // offsets increase by one per message
    expect(got.map((m) => (m.offset as number) - (got[0]?.offset as number))).toEqual([0, 1, 2, 3, 4]);
    // a message to this one connection, sent from the third node
    const direct = new Promise<ClientMessage>((resolve) => c.once('message', (m) => m.room === undefined && resolve(m)));
    await other(home, sender).toConnection(c.connection?.conn as string).send('direct', 'hi');
    expect(await direct).toMatchObject({ event: 'direct', data: 'hi' });
  });

  it('publishes to a room with an ack and another client on another node receives it', async () => {
    await startCluster();
    const a = client({ urls: [nodes[0]!.url], maxRedirects: 0 });
    const b = client({ urls: [nodes[1]!.url], maxRedirects: 0 });
    const ra = a.room('chat');
    const rb = b.room('chat');
    await waitFor(() => ra.state === 'subscribed' && rb.state === 'subscribed');
    expect(nodeOf(a)).not.toBe(nodeOf(b));
    const got = new Promise<ClientMessage>((resolve) => rb.once('message', resolve));
    const ack = await ra.publish('say', { text: 'hello' });
    expect(ack.offset).toEqual(expect.any(Number));
    expect(await got).toMatchObject({ event: 'say', data: { text: 'hello' }, offset: ack.offset, from: a.connection?.conn });
  });

  it('follows a redirect to the node its session is pinned to', async () => {
    await startCluster();
    const first = client({ urls: [nodes[0]!.url], maxRedirects: 0 });
    await first.ready();
    const session = first.sessionId as string;
    const pinned = nodeOf(first);
    first.close();
    const elsewhere = other(pinned);
    const c = client({ urls: [elsewhere.url], session });
    const redirects: { url: string; reason: string }[] = [];
    c.on('redirect', (r) => redirects.push(r));
    const connected = new Promise<{ resumed: boolean; node: string }>((resolve) => c.once('connected', resolve));
    await c.ready();
    expect(redirects).toEqual([{ url: pinned.url, reason: 'affinity', count: 1 }]);
    expect(await connected).toMatchObject({ resumed: true, node: pinned.id });
    expect(c.url).toBe(pinned.url);
  });

  it('resumes after its node is killed: replays what it missed, no duplicates, buffered publishes flushed in order', async () => {
    await startCluster();
    const c = client({});
    const lobby = c.room('lobby');
    await waitFor(() => lobby.state === 'subscribed');
    const home = nodeOf(c);
    const sender = other(home);
    const watcher = client({ urls: [sender.url], maxRedirects: 0 });
    const wroom = watcher.room('lobby');
    await waitFor(() => wroom.state === 'subscribed');
    const watcherMine: unknown[] = [];
    wroom.on('message', (m) => m.event === 'mine' && watcherMine.push(m.data));

    const got: number[] = [];
    lobby.on('message', (m) => {
      if (m.event === 'n') got.push(m.data as number);
    });
    const subs: SubscribedInfo[] = [];
    lobby.on('subscribed', (s) => subs.push(s));
    for (let i = 1; i <= 3; i++) await sender.to('lobby').send('n', i);
    await waitFor(() => got.length === 3);

    const session = c.sessionId;
    const lost = new Promise<{ code: number; delayMs?: number }>((resolve) => c.once('disconnected', resolve));
    await crash(home);
    const d = await lost;
    expect(d.code).toBe(1006);
    expect(d.delayMs).toBeLessThan(300); // the first retry within firstRetryMaxMs
    // while the client is away: the room goes on, and the client's own publishes wait in its buffer
    for (let i = 4; i <= 8; i++) await sender.to('lobby').send('n', i);
    const p1 = lobby.publish('mine', 'p1');
    const p2 = lobby.publish('mine', 'p2');
    expect(c.buffered).toBeGreaterThanOrEqual(2);

    await waitFor(() => c.state === 'connected' && lobby.state === 'subscribed', 10_000);
    const acks = await Promise.all([p1, p2]);
    expect((acks[1].offset as number) > (acks[0].offset as number)).toBe(true);
    await waitFor(() => got.length >= 8);
    for (let i = 9; i <= 10; i++) await sender.to('lobby').send('n', i);
    await waitFor(() => got.length === 10);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(c.sessionId).toBe(session);
    expect(nodeOf(c)).not.toBe(home);
    expect(subs.at(-1)).toMatchObject({ recovering: true, recovered: true, gap: false, resubscribed: true });
    // the watcher on another node got the buffered publishes, in order, once each
    await waitFor(() => watcherMine.length === 2);
    expect(watcherMine).toEqual(['p1', 'p2']);
  });

  it('draining a node moves its clients at once, spread over the jitter window, and they keep their rooms', async () => {
    await startCluster();
    const n = 20;
    const target = nodes[0]!;
    const cs = Array.from({ length: n }, () => client({ urls: [target.url], maxRedirects: 0 }));
    const rooms = cs.map((c) => c.room('news'));
    await waitFor(() => rooms.every((r) => r.state === 'subscribed'), 10_000);
    expect(cs.every((c) => nodeOf(c) === target)).toBe(true);
    const delays: number[] = [];
    const codes: number[] = [];
    for (const c of cs) c.once('disconnected', (e) => (delays.push(e.delayMs as number), codes.push(e.code)));
    await target.close({ graceMs: 2000 });
    await waitFor(() => cs.every((c) => c.state === 'connected' && nodeOf(c) !== undefined && nodeOf(c) !== target), 10_000);
    expect(codes.every((code) => code === 1012)).toBe(true);
    // every first retry within [0, firstRetryMaxMs], and spread over it rather than bunched
    expect(delays).toHaveLength(n);
    expect(Math.max(...delays)).toBeLessThan(300);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(100);
    expect(new Set(delays).size).toBeGreaterThan(n / 2);
    // still in their room on the new nodes
    await waitFor(() => rooms.every((r) => r.state === 'subscribed'));
    const got = rooms.map(() => 0);
    rooms.forEach((r, i) => r.on('message', () => got[i]!++));
    await nodes[1]!.to('news').send('flash', 1);
    await waitFor(() => got.every((x) => x === 1));
  });
});
