import { afterEach, describe, expect, it } from 'vitest';
import { encodeHistoryRecord, MemoryHistory } from '../src/adapter.js';
import { MemoryHub, noopLogger, type DeliverEnvelope, type RoomGap } from '../src/index.js';
import { PROTOCOL_VERSION } from '../src/model/envelope.js';
import { OrderedRooms, type OrderingOptions } from '../src/delivery/ordered-rooms.js';
import { waitFor } from '../src/testing/index.js';

const rooms: OrderedRooms[] = [];
afterEach(() => {
  for (const r of rooms.splice(0)) r.stop();
});

function setup(options: Partial<OrderingOptions> = {}, maxLength = 1000) {
  const history = new MemoryHistory({ hub: new MemoryHub(), maxLength });
  const delivered: DeliverEnvelope[] = [];
  const gaps: RoomGap[] = [];
  const counts = { reordered: 0, filled: 0, duplicate: 0 };
  const ordered = new OrderedRooms({
    nodeId: 'n1',
    history,
    logger: noopLogger,
    options: { holdMs: 20, maxPending: 1000, maxWaitMs: 5000, readLimit: 3, ...options },
    deliver: (e) => delivered.push(e),
    gap: (g) => gaps.push(g),
    count: (event, n = 1) => (counts[event] += n),
  });
  rooms.push(ordered);
  /** Append to history and return the envelope a publisher would send. */
  const publish = async (data: unknown, except?: string[]): Promise<DeliverEnvelope> => {
    const pos = await history.append('room.r', encodeHistoryRecord({ data, except }));
    return { v: PROTOCOL_VERSION, type: 'deliver', id: `m${pos.offset}`, from: 'p', caps: [], ts: Date.now(), to: { kind: 'room', room: 'r' }, data, offset: pos.offset, epoch: pos.epoch, ...(except ? { except } : {}) };
  };
  return { history, ordered, delivered, gaps, counts, publish, offsets: () => delivered.map((e) => e.offset) };
}

describe('OrderedRooms: one ordered stream per room per node', () => {
  it('delivers in offset order whatever order envelopes arrive in, and each once', async () => {
    const t = setup({ holdMs: 60_000 });
    await t.publish('before');
    expect(await t.ordered.open('r')).toMatchObject({ offset: 1 });
    const [e2, e3, e4, e5] = [await t.publish(2), await t.publish(3), await t.publish(4), await t.publish(5)] as DeliverEnvelope[];
    for (const e of [e4, e3, e5]) t.ordered.accept(e as DeliverEnvelope);
    expect(t.offsets()).toEqual([]);
    t.ordered.accept(e2 as DeliverEnvelope);
    expect(t.offsets()).toEqual([2, 3, 4, 5]);
    t.ordered.accept(e3 as DeliverEnvelope);
    t.ordered.accept(e5 as DeliverEnvelope);
    expect(t.offsets()).toEqual([2, 3, 4, 5]);
    expect(t.counts).toMatchObject({ reordered: 3, duplicate: 2, filled: 0 });
    expect(t.ordered.position('r')).toMatchObject({ offset: 5 });
  });

  it('reads a hole from history when the missing envelope does not come, keeping except lists', async () => {
    const t = setup();
    await t.ordered.open('r');
    const lost = [await t.publish('a', ['conn-1']), await t.publish('b')];
    const later = [await t.publish('c'), await t.publish('d')];
    for (const e of later) t.ordered.accept(e);
    await waitFor(() => t.delivered.length === 4);
    expect(t.offsets()).toEqual([1, 2, 3, 4]);
    expect(t.delivered.map((e) => e.data)).toEqual(['a', 'b', 'c', 'd']);
    expect(t.delivered[0]).toMatchObject({ except: ['conn-1'], to: { kind: 'room', room: 'r' }, epoch: lost[0]!.epoch });
    expect(t.counts.filled).toBe(3); // one page of three: the two missing ones and 3, which had arrived
    expect(t.gaps).toEqual([]);
  });

  it('turns what history no longer has into an explicit gap, then goes on', async () => {
    const t = setup({}, 2);
    await t.ordered.open('r');
    const all = [];
    for (let i = 1; i <= 6; i++) all.push(await t.publish(i));
    t.ordered.accept(all[5] as DeliverEnvelope); // 1..5 never arrive; history keeps only 5 and 6
    await waitFor(() => t.delivered.length === 2);
    expect(t.gaps).toEqual([{ room: 'r', epoch: all[0]!.epoch, from: 0, to: 4, reason: 'trimmed' }]);
    expect(t.offsets()).toEqual([5, 6]);
  });

  it('a history reset: the old epoch’s rest is a gap, the new epoch is delivered from its start', async () => {
    const t = setup();
    await t.ordered.open('r');
    const old = await t.publish('old');
    t.ordered.accept(old);
    await t.history.reset('room.r');
    const n1 = await t.publish('new-1');
    const n2 = await t.publish('new-2');
    expect(n1.epoch).not.toBe(old.epoch);
    t.ordered.accept(n2);
    await waitFor(() => t.delivered.length === 3);
    expect(t.gaps).toEqual([{ room: 'r', epoch: old.epoch, from: 1, reason: 'epoch' }]);
    expect(t.delivered.map((e) => [e.epoch, e.offset])).toEqual([
      [old.epoch, 1],
      [n1.epoch, 1],
      [n1.epoch, 2],
    ]);
  });

  it('catches up from history after the bus was down, and skips offsets that arrived before its start', async () => {
    const t = setup();
    const early = await t.publish('early');
    await t.ordered.open('r');
    t.ordered.accept(early);
    for (const d of ['x', 'y', 'z']) await t.publish(d); // published while this node's bus was down
    t.ordered.catchUp();
    await waitFor(() => t.delivered.length === 3);
    expect(t.delivered.map((e) => e.data)).toEqual(['x', 'y', 'z']);
    expect(t.counts.duplicate).toBe(1);
  });

  it('a hole history cannot fill in time becomes a gap (unavailable) and what arrived is delivered', async () => {
    const t = setup({ holdMs: 5, maxWaitMs: 50 });
    await t.ordered.open('r');
    await t.publish('lost');
    const next = await t.publish('next');
    t.history.read = () => Promise.reject(new Error('history down'));
    t.ordered.accept(next);
    await waitFor(() => t.delivered.length === 1, 5000);
    expect(t.gaps).toEqual([{ room: 'r', epoch: next.epoch, from: 0, to: 1, reason: 'unavailable' }]);
    expect(t.offsets()).toEqual([2]);
  });

  it('rooms nobody follows are not ordered here; following is reference counted', async () => {
    const t = setup();
    const e = await t.publish('x');
    expect(t.ordered.accept(e)).toBe(false);
    await t.ordered.open('r');
    await t.ordered.open('r');
    t.ordered.close('r');
    expect(t.ordered.follows('r')).toBe(true);
    t.ordered.close('r');
    expect(t.ordered.follows('r')).toBe(false);
  });
});
