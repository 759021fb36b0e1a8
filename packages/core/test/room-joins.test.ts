import { describe, expect, it } from 'vitest';
import { encodeHistoryRecord, historyStream, RoomJoins, type HistoryPosition, type HistoryReadOptions, type HistoryReadResult, type JoinCursor, type JoinPeer, type ReplayPlan } from '../src/adapter.js';
import { MemoryHub, noopLogger } from '../src/index.js';
import { MemoryHistory } from '../src/memory/history.js';

type Frame = { o: number; data: unknown };

/** A peer that records what it was written, in order: replayed frames, gap notices, and the held live offsets at release. */
class Peer implements JoinPeer {
  readonly id = 'p1';
  readonly userId = undefined;
  readonly ip = '127.0.0.1';
  readonly params = {};
  readonly cursors = new Map<string, JoinCursor>();
  readonly held = new Map<string, number[]>();
  readonly written: string[] = [];
  cursorEntries() {
    return this.cursors.entries();
  }
  hold(room: string) {
    this.held.set(room, []);
  }
  holding(room: string) {
    return this.held.has(room);
  }
  releaseHeld(room: string) {
    for (const o of this.held.get(room) ?? []) this.written.push(`live ${o}`);
    this.held.delete(room);
  }
  dropHeld(room: string) {
    this.held.delete(room);
  }
}

/** A memory history whose reads can be made to lag (leave out the newest entries) or counted. */
class History extends MemoryHistory {
  reads = 0;
  lagging = 0;
  override async read(stream: string, after: number, options?: HistoryReadOptions): Promise<HistoryReadResult> {
    this.reads++;
    const r = await super.read(stream, after, options);
    if (this.lagging <= 0) return r;
    this.lagging--;
    const top = r.top - 1;
    return { ...r, top, entries: r.entries.filter((e) => e.offset <= top) };
  }
}

async function setup(opts: { entries?: number; start?: HistoryPosition | null; enter?: () => Promise<HistoryPosition | null> } = {}) {
  const history = new History({ hub: new MemoryHub() });
  await history.connect();
  let epoch = '';
  for (let i = 1; i <= (opts.entries ?? 5); i++) epoch = (await history.append(historyStream('r'), encodeHistoryRecord({ data: `m${i}` }))).epoch;
  const counts = { rereads: 0, ahead: 0, joined: 0 };
  const plans: Array<ReplayPlan<Frame>> = [];
  const joins = new RoomJoins<Peer, Frame>(
    {
      enter: opts.enter ?? (async () => (opts.start === undefined ? { offset: opts.entries ?? 5, epoch } : opts.start)),
      frame: (_room, _epoch, e) => ({ o: e.offset, data: e.payload.length }),
      writeReplay: (peer, _room, plan) => {
        plans.push(plan);
        for (const it of plan.items) peer.written.push('gap' in it ? `gap ${it.gap.from}..${it.gap.to}` : `replay ${it.frame.o}`);
      },
    },
    {
      history,
      historyFor: () => true,
      maxReplay: () => 100,
      roomJoined: () => void counts.joined++,
      logger: noopLogger,
      onReread: () => void counts.rereads++,
      onAhead: () => void counts.ahead++,
    },
  );
  return { history, joins, counts, plans, epoch };
}

describe('RoomJoins (a room join with its replay, for any transport)', () => {
  it('without an offset: starts where the node delivers the room; the held live messages are written at replay()', async () => {
    const { joins } = await setup({ entries: 5 });
    const peer = new Peer();
    const j = await joins.join(peer, 'r');
    expect(j.state).toMatchObject({ room: 'r', offset: 5, history: true, gap: false });
    expect(peer.cursors.get('r')).toMatchObject({ offset: 5, sent: 5 });
    expect(peer.holding('r')).toBe(true);
    peer.held.get('r')?.push(6);
    j.replay();
    expect(peer.written).toEqual(['live 6']);
    expect(peer.holding('r')).toBe(false);
  });

  it('with an offset: what came after it is written first, then the held live messages; the session hears of the cursor', async () => {
    const { joins, counts } = await setup({ entries: 5 });
    const peer = new Peer();
    const j = await joins.join(peer, 'r', { offset: 2 });
    expect(j.state).toMatchObject({ offset: 5, recovered: true, gap: false });
    peer.held.get('r')?.push(6, 7);
    j.replay();
    expect(peer.written).toEqual(['replay 3', 'replay 4', 'replay 5', 'live 6', 'live 7']);
    expect(counts.joined).toBe(1);
  });

  it('reads again when history answers short of what the node already delivered (a lagging store), instead of a gap', async () => {
    const { joins, history, counts } = await setup({ entries: 5 });
    history.lagging = 2; // the first two reads leave out offset 5
    const peer = new Peer();
    const j = await joins.join(peer, 'r', { offset: 3 });
    j.replay();
    expect(peer.written).toEqual(['replay 4', 'replay 5']);
    expect(counts.rereads).toBe(2);
  });

  it('refuses an offset beyond the room head (gap, reason ahead) and writes nothing but the held messages', async () => {
    const { joins, counts } = await setup({ entries: 5 });
    const peer = new Peer();
    const j = await joins.join(peer, 'r', { offset: 9 });
    expect(j.state).toMatchObject({ offset: 5, gap: true, reason: 'ahead' });
    expect(counts.ahead).toBe(1);
    j.replay();
    expect(peer.written).toEqual([]);
  });

  it('a join with an offset on a room the peer is in replays the hole after it', async () => {
    const { joins } = await setup({ entries: 5 });
    const peer = new Peer();
    (await joins.join(peer, 'r')).replay();
    const again = await joins.join(peer, 'r', { offset: 3 });
    again.replay();
    expect(peer.written).toEqual(['replay 4', 'replay 5']);
  });

  it("a hole's replay reads again too when history answers short of what the connection was already handled up to", async () => {
    const { joins, history, counts } = await setup({ entries: 5 });
    const peer = new Peer();
    (await joins.join(peer, 'r')).replay(); // the connection is at 5
    history.lagging = 1;
    (await joins.join(peer, 'r', { offset: 3 })).replay();
    expect(peer.written).toEqual(['replay 4', 'replay 5']);
    expect(counts.rereads).toBe(1);
  });

  it('a failed enter leaves no cursor and no hold behind, and rethrows', async () => {
    const { joins } = await setup({ enter: () => Promise.reject(new Error('bus down')) });
    const peer = new Peer();
    await expect(joins.join(peer, 'r', { offset: 1 })).rejects.toThrow('bus down');
    expect(peer.cursors.has('r')).toBe(false);
    expect(peer.holding('r')).toBe(false);
  });

  it('peers resuming the same room from the same offset share one history read', async () => {
    const { joins, history } = await setup({ entries: 5 });
    const peers = Array.from({ length: 20 }, () => new Peer());
    const before = history.reads;
    const joined = await Promise.all(peers.map((p) => joins.join(p, 'r', { offset: 1 })));
    expect(history.reads - before).toBe(1);
    for (const j of joined) j.replay();
    expect(peers.every((p) => p.written.join() === 'replay 2,replay 3,replay 4,replay 5')).toBe(true);
  });
});
