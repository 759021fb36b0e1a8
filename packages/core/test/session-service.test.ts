import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCluster, MemoryHub, noopLogger, type ClusterNode, type HistoryEntry, type NodeInfo, type Placement, type PlacementContext, type SessionRecord } from '../src/index.js';
import { inBatches, MemorySessionStore, planReplay, SessionService, type PeerCursor, type ReplayRead, type SessionCluster, type SessionPeer } from '../src/adapter.js';
import { waitFor } from '../src/testing/index.js';

/** A connection as a transport would hand it over: no socket, just what the service reads. */
class FakePeer implements SessionPeer {
  readonly cursors = new Map<string, PeerCursor>();
  constructor(
    readonly id: string,
    readonly userId: string | undefined,
    readonly params: Record<string, unknown> = {},
    readonly ip = '10.0.0.1',
  ) {}
  cursorEntries(): Iterable<[string, PeerCursor]> {
    return this.cursors.entries();
  }
}

const started: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

async function cluster(ids: string[]): Promise<ClusterNode[]> {
  const hub = new MemoryHub();
  const nodes = ids.map((id) => createCluster({ hub, nodeId: id, url: `ws://127.0.0.1/${id}`, heartbeatIntervalMs: 50, nodeTimeoutMs: 300 }));
  started.push(...nodes);
  await Promise.all(nodes.map((n) => n.start()));
  await waitFor(() => nodes.every((n) => n.healthyNodes().length === ids.length), 3000);
  return nodes;
}

const serviceOf = (c: SessionCluster) => new SessionService(c, { ttlMs: () => 60_000, logger: noopLogger });

const record = (over: Partial<SessionRecord>): SessionRecord => ({ id: 's1', nodeId: 'a', userId: 'u1', rooms: {}, createdAt: 1000, updatedAt: 1000, ...over });

/** A cluster whose placement answers what the test says (the store is the in-memory one). */
type Stubbed = Omit<Partial<Placement>, 'node'> & { node?: Partial<NodeInfo> };

function stubCluster(placement: Stubbed) {
  const node = { id: 'b', url: 'ws://b', ...placement.node } as NodeInfo;
  const answer: Placement = { reason: 'balancer', key: null, local: false, ...placement, node };
  return {
    id: 'a',
    sessions: new MemorySessionStore({ hub: new MemoryHub() }),
    place: vi.fn(async (_ctx: PlacementContext): Promise<Placement> => answer),
    probe: vi.fn(async () => false),
    healthyNodes: (): NodeInfo[] => [],
  } satisfies SessionCluster;
}

describe('SessionService: open and resume', () => {
  it('opens a new session: stays on the only node, writes the record with the rooms the peer joined', async () => {
    const [a] = (await cluster(['a'])) as [ClusterNode];
    const service = serviceOf(a);
    const peer = new FakePeer('a~1', 'u1');
    const opening = service.open(peer, { place: true, rooms: { lobby: { offset: 3, epoch: 'e' } } });
    expect(await opening.place()).toBeNull();
    expect(await opening.roomsToJoin()).toEqual([['lobby', { offset: 3, epoch: 'e' }]]);
    peer.cursors.set('lobby', { offset: 7, epoch: 'e', history: true });
    peer.cursors.set('plain', { offset: 0, epoch: null, history: false });
    peer.cursors.set('unread', { offset: -1, epoch: null, history: true });
    const { sessionId, resumed } = await opening.commit();
    expect(resumed).toBe(false);
    expect(service.sessionOf(peer)).toBe(sessionId);
    await waitFor(async () => (await a.sessions.get(sessionId)) !== null);
    expect(await a.sessions.get(sessionId)).toMatchObject({ id: sessionId, nodeId: 'a', userId: 'u1', rooms: { lobby: { offset: 7, epoch: 'e' } } });
  });

  it("resumes the same user's session: its rooms (offsets only with an epoch), its id and creation time", async () => {
    const [a] = (await cluster(['a'])) as [ClusterNode];
    await a.sessions.put(record({ rooms: { lobby: { offset: 5, epoch: 'e1' }, plain: { offset: 0, epoch: null } }, data: { theme: 'dark' } }), 60_000);
    const service = serviceOf(a);
    const peer = new FakePeer('a~2', 'u1');
    const opening = service.open(peer, { session: 's1', place: true });
    expect(await opening.place()).toBeNull();
    expect(await opening.roomsToJoin()).toEqual([
      ['lobby', { offset: 5, epoch: 'e1' }],
      ['plain', { offset: undefined, epoch: undefined }],
    ]);
    expect(await opening.commit()).toEqual({ sessionId: 's1', resumed: true });
    await waitFor(async () => ((await a.sessions.get('s1'))?.updatedAt ?? 0) > 1000);
    expect(await a.sessions.get('s1')).toMatchObject({ createdAt: 1000, data: { theme: 'dark' } });
  });

  it("never resumes another user's session (nor an anonymous peer into a user's)", async () => {
    const [a] = (await cluster(['a'])) as [ClusterNode];
    await a.sessions.put(record({ rooms: { secret: { offset: 9, epoch: 'e' } } }), 60_000);
    const service = serviceOf(a);
    for (const peer of [new FakePeer('a~3', 'u2'), new FakePeer('a~4', undefined)]) {
      const opening = service.open(peer, { session: 's1', place: true });
      expect(await opening.place()).toBeNull();
      expect(await opening.roomsToJoin()).toEqual([]);
      const { sessionId, resumed } = await opening.commit();
      expect(resumed).toBe(false);
      expect(sessionId).not.toBe('s1');
    }
    expect(await a.sessions.get('s1')).toMatchObject({ userId: 'u1', rooms: { secret: { offset: 9 } } });
  });

  it('a store that fails to read counts as no session', async () => {
    const c = stubCluster({ local: true });
    c.sessions.get = () => Promise.reject(new Error('down'));
    const opening = serviceOf(c).open(new FakePeer('a~5', 'u1'), { session: 's1', place: true });
    expect(await opening.place()).toBeNull();
    expect((await opening.commit()).resumed).toBe(false);
  });
});

describe('SessionService: reads gathered', () => {
  it('reads the stored sessions of clients resuming in one turn with one getMany, each resuming its own', async () => {
    const c = stubCluster({ local: true });
    for (let i = 0; i < 20; i++) await c.sessions.put(record({ id: `s${i}`, userId: `u${i}` }), 60_000);
    const getMany = vi.spyOn(c.sessions, 'getMany');
    const get = vi.spyOn(c.sessions, 'get');
    const service = serviceOf(c);
    const openings = Array.from({ length: 20 }, (_, i) => service.open(new FakePeer(`a~${i}`, `u${i}`), { session: `s${i}`, place: true }));
    const results = await Promise.all(openings.map(async (o) => (await o.place(), o.commit())));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => ({ sessionId: `s${i}`, resumed: true })));
    expect(getMany).toHaveBeenCalledTimes(1);
    expect(getMany.mock.calls[0]?.[0]).toHaveLength(20);
    expect(get).not.toHaveBeenCalled();
  });

  it('a batch read that fails counts as no session for each client in it; a store without getMany gets one get each', async () => {
    const failing = stubCluster({ local: true });
    failing.sessions.getMany = () => Promise.reject(new Error('down'));
    const service = serviceOf(failing);
    const openings = ['s1', 's2', 's3'].map((id, i) => service.open(new FakePeer(`a~${i}`, 'u1'), { session: id, place: true }));
    expect((await Promise.all(openings.map(async (o) => (await o.place(), o.commit())))).map((r) => r.resumed)).toEqual([false, false, false]);

    const plain = stubCluster({ local: true });
    await plain.sessions.put(record({ id: 's1' }), 60_000);
    plain.sessions.getMany = undefined as never;
    const get = vi.spyOn(plain.sessions, 'get');
    const svc = serviceOf(plain);
    const two = ['s1', 'nope'].map((id, i) => svc.open(new FakePeer(`b~${i}`, 'u1'), { session: id, place: true }));
    expect((await Promise.all(two.map(async (o) => (await o.place(), o.commit())))).map((r) => r.resumed)).toEqual([true, false]);
    expect(get).toHaveBeenCalledTimes(2);
  });
});

describe('SessionService: placement', () => {
  it("redirects a client to its session's node, and accepts it where its session lives", async () => {
    const [a, b] = (await cluster(['a', 'b'])) as [ClusterNode, ClusterNode];
    await a.sessions.put(record({ nodeId: 'b' }), 60_000);
    const peer = new FakePeer('a~6', 'u1');
    expect(await serviceOf(a).open(peer, { session: 's1', place: true }).place()).toEqual({ nodeId: 'b', url: 'ws://127.0.0.1/b', reason: 'affinity' });
    expect(await serviceOf(b).open(peer, { session: 's1', place: true }).place()).toBeNull();
    // the client asked not to be redirected (or this node drains)
    expect(await serviceOf(a).open(peer, { session: 's1', place: false }).place()).toBeNull();
  });

  it('passes who the client is to placement, and names a freshly balanced node `balancer`', async () => {
    const c = stubCluster({ reason: 'balancer', key: null });
    const peer = new FakePeer('a~7', 'u1', { region: 'eu', key: 'doc-1', other: 3 });
    expect(await serviceOf(c).open(peer, { place: true }).place()).toEqual({ nodeId: 'b', url: 'ws://b', reason: 'balancer' });
    expect(c.place).toHaveBeenCalledWith(expect.objectContaining({ userId: 'u1', ip: '10.0.0.1', region: 'eu', key: 'doc-1', session: null, exclude: undefined }));
  });

  it('accepts when placement fails or the node has no URL', async () => {
    const failing = stubCluster({});
    failing.place.mockRejectedValueOnce(new Error('registry down'));
    expect(await serviceOf(failing).open(new FakePeer('a~8', 'u1'), { place: true }).place()).toBeNull();
    expect(await serviceOf(stubCluster({ node: { url: '' } })).open(new FakePeer('a~9', 'u1'), { place: true }).place()).toBeNull();
  });

  it('keeps a client displaced by a crash here (session or plain balancer placement), but moves it for an affinity key', async () => {
    for (const reason of ['session', 'balancer'] as const) {
      const c = stubCluster({ reason, key: null });
      const opening = serviceOf(c).open(new FakePeer('a~10', 'u1'), { place: true, lost: 'dead' });
      expect(await opening.place()).toBeNull();
      expect(c.probe).toHaveBeenCalledWith('dead');
      expect(c.place).toHaveBeenCalledWith(expect.objectContaining({ exclude: ['dead'] }));
    }
    const keyed = stubCluster({ reason: 'balancer', key: 'doc-1' });
    expect(await serviceOf(keyed).open(new FakePeer('a~11', 'u1'), { place: true, lost: 'dead' }).place()).toMatchObject({ nodeId: 'b', reason: 'balancer' });
    const pinned = stubCluster({ reason: 'affinity', key: 'doc-1' });
    expect(await serviceOf(pinned).open(new FakePeer('a~12', 'u1'), { place: true, lost: 'dead' }).place()).toMatchObject({ nodeId: 'b', reason: 'affinity' });
    // the same placement without a lost node redirects
    expect(await serviceOf(stubCluster({ reason: 'session', key: null })).open(new FakePeer('a~13', 'u1'), { place: true }).place()).toMatchObject({ reason: 'affinity' });
    // naming this node as lost is ignored
    const self = stubCluster({ reason: 'session', key: null });
    expect(await serviceOf(self).open(new FakePeer('a~14', 'u1'), { place: true, lost: 'a' }).place()).toMatchObject({ nodeId: 'b' });
    expect(self.probe).not.toHaveBeenCalled();
  });

  it('a displaced client does not wait for its stored session to be placed', async () => {
    const c = stubCluster({ reason: 'session', key: null });
    let answer: ((r: SessionRecord | null) => void) | undefined;
    c.sessions.get = () => new Promise((resolve) => (answer = resolve));
    const opening = serviceOf(c).open(new FakePeer('a~15', 'u1'), { session: 's1', place: true, lost: 'dead', rooms: {} });
    expect(await opening.place()).toBeNull();
    expect(c.place).toHaveBeenCalledWith(expect.objectContaining({ sessionId: undefined, session: null }));
    const committed = opening.commit();
    await waitFor(() => answer !== undefined, 5000); // (the read goes out at the end of the turn)
    answer?.(record({ nodeId: 'dead' }));
    expect(await committed).toEqual({ sessionId: 's1', resumed: true });
  });
});

describe('SessionService: cursors and close', () => {
  it('chains room writes in order and stores the last offsets of history rooms on close', async () => {
    const [a] = (await cluster(['a'])) as [ClusterNode];
    const service = serviceOf(a);
    const peer = new FakePeer('a~16', 'u1');
    service.roomJoined(peer, 'early', { offset: 1, epoch: 'e' }); // before the session exists: nothing
    const opening = service.open(peer, { place: true });
    await opening.place();
    const { sessionId } = await opening.commit();
    const lobby = { offset: 2, epoch: 'e', history: true };
    peer.cursors.set('lobby', lobby);
    service.roomJoined(peer, 'lobby', lobby);
    peer.cursors.set('gone', { offset: 4, epoch: 'e', history: true });
    service.roomJoined(peer, 'gone', { offset: 4, epoch: 'e' });
    peer.cursors.delete('gone');
    await service.roomLeft(peer, 'gone');
    expect((await a.sessions.get(sessionId))?.rooms).toEqual({ lobby: { offset: 2, epoch: 'e' } });
    peer.cursors.set('lobby', { offset: 42, epoch: 'e', history: true });
    peer.cursors.set('plain', { offset: 0, epoch: null, history: false });
    await service.close(peer);
    expect((await a.sessions.get(sessionId))?.rooms).toEqual({ lobby: { offset: 42, epoch: 'e' } });
  });

  it('close without a session writes nothing', async () => {
    const c = stubCluster({});
    const setRoom = vi.spyOn(c.sessions, 'setRoom');
    const peer = new FakePeer('a~17', 'u1');
    peer.cursors.set('lobby', { offset: 3, epoch: 'e', history: true });
    await serviceOf(c).close(peer);
    expect(setRoom).not.toHaveBeenCalled();
  });
});

describe('SessionService: drain and rebalance targets', () => {
  it('moves peers to their placement elsewhere and reassigns their sessions first; never to this node', async () => {
    const c = stubCluster({ reason: 'balancer', key: null });
    const service = serviceOf(c);
    const peers = [new FakePeer('a~18', 'u1'), new FakePeer('a~19', 'u2'), new FakePeer('a~20', 'u3'), new FakePeer('a~21', 'u4')];
    const ids: string[] = [];
    for (const p of peers) {
      const o = service.open(p, { place: false });
      await o.place();
      ids.push((await o.commit()).sessionId);
    }
    await waitFor(async () => (await Promise.all(ids.map((id) => c.sessions.get(id)))).every((r) => r?.nodeId === 'a'));
    c.place.mockClear();
    // the last peer's placement is this node: it has nowhere to go
    c.place.mockImplementation(async (ctx) => ({ reason: 'balancer', key: null, local: ctx.userId === 'u4', node: { id: ctx.userId === 'u4' ? 'a' : 'b', url: ctx.userId === 'u4' ? 'ws://a' : 'ws://b' } as NodeInfo }));
    const targets = await service.planMoves(peers, (p) => p.id !== 'a~20');
    expect(targets).toEqual([{ id: 'b', url: 'ws://b' }, { id: 'b', url: 'ws://b' }, undefined, undefined]);
    expect(c.place).toHaveBeenCalledWith(expect.objectContaining({ userId: 'u1', sessionId: ids[0] }));
    expect(c.place).toHaveBeenCalledTimes(3); // not for the peer that cannot move
    const nodes = await Promise.all(ids.map(async (id) => (await c.sessions.get(id))?.nodeId));
    expect(nodes).toEqual(['b', 'b', 'a', 'a']);
  });

  it('a given target wins; a rebalance target is a healthy other node with a URL', async () => {
    const [a] = (await cluster(['a', 'b'])) as [ClusterNode, ClusterNode];
    const service = serviceOf(a);
    const to = { id: 'c', url: 'ws://c' };
    expect(await service.planMoves([new FakePeer('a~21', 'u1')], () => true, to)).toEqual([to]);
    expect(service.nodeTarget('b')).toEqual({ id: 'b', url: 'ws://127.0.0.1/b' });
    expect(service.nodeTarget('a')).toBeUndefined();
    expect(service.nodeTarget('zz')).toBeUndefined();
    expect(service.nodeTarget(3)).toBeUndefined();
  });

  it('no other node: no target', async () => {
    const [a] = (await cluster(['a'])) as [ClusterNode];
    expect(await serviceOf(a).planMoves([new FakePeer('a~22', 'u1')], () => true)).toEqual([undefined]);
  });
});

describe('planReplay', () => {
  const entry = (offset: number): HistoryEntry => ({ offset, payload: new Uint8Array([offset]), timestamp: 0 });
  const read = (over: Partial<ReplayRead>): ReplayRead => ({ entries: [], epoch: 'e', top: 0, trimmed: false, capped: false, ...over });
  const make = (e: HistoryEntry, prev: number) => (e.offset === 13 ? undefined : { offset: e.offset, prev });

  it('replays after the offset, in order, chained; the cursor starts at the client offset', () => {
    const cursor = { offset: -1, sent: -1, epoch: null };
    const plan = planReplay('lobby', read({ entries: [entry(11), entry(12)], top: 12 }), { offset: 10, epoch: 'e' }, cursor, make);
    expect(plan.state).toEqual({ room: 'lobby', offset: 12, epoch: 'e', history: true, recovered: true, gap: false });
    expect(plan.frames).toEqual([{ offset: 11, prev: 10 }, { offset: 12, prev: 11 }]);
    expect(cursor).toEqual({ offset: 10, sent: 10, epoch: 'e' });
  });

  it('refuses an offset ahead of the head', () => {
    const cursor = { offset: -1, sent: -1, epoch: null };
    const plan = planReplay('lobby', read({ top: 5 }), { offset: 9 }, cursor, make);
    expect(plan.state).toMatchObject({ offset: 5, gap: true, reason: 'ahead', recovered: false });
    expect(cursor).toEqual({ offset: 5, sent: 5, epoch: 'e' });
  });

  it('gap notices: trimmed before, malformed at its place, max_replay at the end', () => {
    const plan = planReplay('lobby', read({ entries: [entry(12), entry(13), entry(14)], top: 20, trimmed: true, capped: true }), { offset: 10 }, { offset: -1, sent: -1, epoch: null }, make);
    expect(plan.items.map((i) => ('gap' in i ? `gap:${i.gap.reason}` : `m:${i.frame.offset}`))).toEqual(['gap:trimmed', 'm:12', 'gap:malformed', 'm:14']);
    expect(plan.endGap).toEqual({ epoch: 'e', from: 14, to: 20, reason: 'max_replay' });
    expect(plan.state).toMatchObject({ offset: 20, gap: true, recovered: false });
  });
});

describe('inBatches', () => {
  it('runs every item once, in order, in batches of the given size', async () => {
    const seen: Array<[number[], boolean]> = [];
    await inBatches([1, 2, 3, 4, 5, 6, 7], { batchSize: 3, batchIntervalMs: 5 }, (batch, late) => {
      seen.push([batch, late]);
    });
    expect(seen).toEqual([
      [[1, 2, 3], false],
      [[4, 5, 6], false],
      [[7], false],
    ]);
  });

  it('past the deadline every batch is late (and nothing waits)', async () => {
    const late: boolean[] = [];
    await inBatches([1, 2, 3], { batchSize: 1, batchIntervalMs: 60_000, deadline: Date.now() - 1 }, async (_b, l) => {
      late.push(l);
    });
    expect(late).toEqual([true, true, true]);
  });

  it('nothing to move: no call', async () => {
    const each = vi.fn();
    await inBatches([], { batchSize: 10, batchIntervalMs: 10 }, each);
    expect(each).not.toHaveBeenCalled();
  });
});
