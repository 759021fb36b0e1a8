import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, DelayedFailover, MemoryHub, type BalancerStrategy, type ClusterNode, type NodeInfo } from '../src/index.js';
import { waitFor } from '../src/testing/index.js';
import { LineTransport } from './support/line-transport.js';

/**
 * A second transport (newline-delimited JSON over TCP, test/support/line-transport.ts) serves
 * sessions through core's SessionService alone: open, placement and redirect, room delivery
 * across nodes, resume with replay on another node, and drain with session hand-over.
 */

type Line = Record<string, unknown> & { t: string };

/** A client of the line transport: every line it got, in order. */
class LineClient {
  readonly lines: Line[] = [];
  ended = false;
  private constructor(private readonly socket: Socket) {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const parts = (buffered + chunk).split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) this.lines.push(JSON.parse(p) as Line);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (this.ended = true));
  }

  static connect(url: string): Promise<LineClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new LineClient(socket)));
      socket.once('error', reject);
      clients.push(socket);
    });
  }

  send(line: Line): void {
    this.socket.write(`${JSON.stringify(line)}\n`);
  }

  line(t: string): Promise<Line> {
    return waitFor(() => this.lines.find((l) => l.t === t));
  }

  /** The room messages received, as [offset, data]. */
  msgs(): Array<[unknown, unknown]> {
    return this.lines.filter((l) => l.t === 'msg').map((l) => [l.o, l.data]);
  }

  /** Wait until `n` messages came, then return them all. */
  async until(n: number): Promise<Array<[unknown, unknown]>> {
    await waitFor(() => this.msgs().length >= n);
    return this.msgs();
  }

  async close(): Promise<void> {
    this.socket.end();
    await waitFor(() => this.ended);
  }
}

/** Say hello at `url`: the first answer (`welcome` or `redirect`) and the client. */
async function hello(url: string, fields: Record<string, unknown> = {}): Promise<{ client: LineClient; answer: Line }> {
  const client = await LineClient.connect(url);
  client.send({ t: 'hello', ...fields });
  const answer = await waitFor(() => client.lines.find((l) => l.t === 'welcome' || l.t === 'redirect'));
  if (answer.t === 'redirect') await waitFor(() => client.ended); // a redirect ends the socket
  return { client, answer };
}

/** Placement the tests can predict: the healthy node whose id sorts first (A while it is ready). */
const firstId: BalancerStrategy = { name: 'first-id', pick: (nodes) => [...nodes].sort((x, y) => (x.id < y.id ? -1 : 1))[0] as NodeInfo };

const clients: Socket[] = [];
const transports: LineTransport[] = [];
const nodes: ClusterNode[] = [];
afterEach(async () => {
  for (const s of clients.splice(0)) s.destroy();
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

/** Two cluster nodes with in-memory history on one hub, each served by a line transport. */
async function twoNodes() {
  const hub = new MemoryHub();
  // the coordinator's own failover waits a minute: in these tests only the transport's drain moves sessions
  const [a, b] = ['a', 'b'].map((id) =>
    createCluster({ hub, nodeId: id, history: true, heartbeatIntervalMs: 50, nodeTimeoutMs: 3000, balancer: firstId, failover: new DelayedFailover({ gracePeriodMs: 60_000 }) }),
  ) as [ClusterNode, ClusterNode];
  nodes.push(a, b);
  const [ta, tb] = [new LineTransport(a), new LineTransport(b)];
  transports.push(ta, tb);
  const [urlA, urlB] = await Promise.all([ta.listen(), tb.listen()]);
  await Promise.all([a.start(), b.start()]);
  await waitFor(() => a.healthyNodes().length === 2 && b.healthyNodes().length === 2);
  const publish = (node: ClusterNode, data: string) => node.publish({ kind: 'room', room: 'chat' }, data, { history: true });
  return { a, b, ta, urlA, urlB, publish };
}

describe('a second transport on SessionService', () => {
  it('opens a session on A (placed there from B), joins a room, receives what A and B publish, in order', async () => {
    const { a, b, urlA, urlB, publish } = await twoNodes();
    // B's placement says A: B answers with a redirect and ends the socket
    const first = await hello(urlB);
    expect(first.answer).toEqual({ t: 'redirect', url: urlA });

    const { client, answer } = await hello(urlA);
    expect(answer).toEqual({ t: 'welcome', session: expect.any(String), resumed: false, node: 'a', rooms: {} });
    client.send({ t: 'join', room: 'chat' });
    const joined = await client.line('joined');
    expect(joined).toMatchObject({ room: 'chat', offset: 0, epoch: expect.any(String) });
    // the service recorded the room in the session (roomJoined)
    const session = answer.session as string;
    await waitFor(async () => (await a.sessions.get(session))?.rooms.chat);
    expect(await a.sessions.get(session)).toMatchObject({ nodeId: 'a', rooms: { chat: { offset: 0, epoch: joined.epoch } } });

    await publish(a, 'a1');
    await publish(b, 'b1');
    await publish(a, 'a2');
    await publish(b, 'b2');
    expect(await client.until(4)).toEqual([
      [1, 'a1'],
      [2, 'b1'],
      [3, 'a2'],
      [4, 'b2'],
    ]);
  });

  it('resumes on B after losing A: exactly the missed messages (read and planned by core), then live ones', async () => {
    const { a, b, urlA, urlB, publish } = await twoNodes();
    const { client, answer } = await hello(urlA, { rooms: { chat: {} } });
    const session = answer.session as string;
    const epoch = (answer.rooms as Record<string, { epoch: string }>).chat?.epoch;
    expect(answer).toMatchObject({ t: 'welcome', resumed: false, node: 'a', rooms: { chat: { offset: 0, epoch: expect.any(String) } } });
    await publish(a, 'a1');
    await publish(b, 'b1');
    expect(await client.until(2)).toEqual([
      [1, 'a1'],
      [2, 'b1'],
    ]);

    await client.close();
    // on close the service stored the client's last offset in its session
    await waitFor(async () => (await a.sessions.get(session))?.rooms.chat?.offset === 2);
    await publish(a, 'a2');
    await publish(b, 'b2');
    await publish(a, 'a3');

    const resume = { session, rooms: { chat: { offset: 2, epoch } } };
    // the session lives on A: B sends the client back there...
    expect((await hello(urlB, resume)).answer).toEqual({ t: 'redirect', url: urlA });
    // ...unless the client says it lost A (never placed there again, kept where it landed)
    const back = await hello(urlB, { ...resume, lost: 'a' });
    expect(back.answer).toEqual({ t: 'welcome', session, resumed: true, node: 'b', rooms: { chat: { offset: 5, epoch } } });
    expect(await back.client.until(3)).toEqual([
      [3, 'a2'],
      [4, 'b2'],
      [5, 'a3'],
    ]);
    await publish(b, 'b3');
    await publish(a, 'a4');
    expect(await back.client.until(5)).toEqual([
      [3, 'a2'],
      [4, 'b2'],
      [5, 'a3'],
      [6, 'b3'],
      [7, 'a4'],
    ]);
    expect(back.client.lines.filter((l) => l.t === 'gap')).toEqual([]);
  });

  it('A drains: its client is told to move to B, its session is reassigned first, and B keeps it', async () => {
    const { a, b, ta, urlB, publish } = await twoNodes();
    const { client, answer } = await hello(a.self.url, { rooms: { chat: {} } });
    const session = answer.session as string;
    const epoch = (answer.rooms as Record<string, { epoch: string }>).chat?.epoch;
    await publish(b, 'b1');
    expect(await client.until(1)).toEqual([[1, 'b1']]);
    expect((await a.sessions.get(session))?.nodeId).toBe('a');

    await ta.drain();
    await waitFor(() => client.ended);
    expect(client.lines.at(-1)).toEqual({ t: 'redirect', url: urlB });
    // planMoves reassigned the session before the redirect went out (the coordinator's failover waits a minute)
    expect((await a.sessions.get(session))?.nodeId).toBe('b');

    await publish(b, 'b2');
    // B keeps the client: its session is there now
    const moved = await hello(urlB, { session, rooms: { chat: { offset: 1, epoch } } });
    expect(moved.answer).toEqual({ t: 'welcome', session, resumed: true, node: 'b', rooms: { chat: { offset: 2, epoch } } });
    await publish(a, 'a1');
    expect(await moved.client.until(2)).toEqual([
      [2, 'b2'],
      [3, 'a1'],
    ]);
  });
});
