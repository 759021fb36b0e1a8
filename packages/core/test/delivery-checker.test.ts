import { describe, expect, it } from 'vitest';
import { DeliveryChecker } from '../src/testing/index.js';

const ROOM = 'chat';
const E1 = 'e1';
const E2 = 'e2';

/** A checker with `n` acked messages at offsets 1..n of epoch E1, from two senders. */
function acked(n: number, epoch = E1, first = 1): DeliveryChecker {
  const c = new DeliveryChecker();
  publish(c, first, first + n - 1, epoch);
  return c;
}

function publish(c: DeliveryChecker, from: number, to: number, epoch = E1): void {
  for (let o = from; o <= to; o++) c.published({ room: ROOM, id: idOf(o, epoch), sender: o % 2 ? 'p1' : 'p2', offset: o, epoch });
}

function deliver(c: DeliveryChecker, client: string, offsets: number[], epoch = E1): void {
  for (const o of offsets) c.delivered(client, { room: ROOM, id: idOf(o, epoch), offset: o, epoch });
}

/** Message ids: `m<offset>` in E1, `<epoch>m<offset>` in other epochs. */
const idOf = (offset: number, epoch = E1): string => (epoch === E1 ? `m${offset}` : `${epoch}m${offset}`);

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const one = (c: DeliveryChecker, client = 'a') => {
  const r = c.report().clients.find((x) => x.client === client && x.room === ROOM);
  if (!r) throw new Error(`no report for ${client}`);
  return r;
};

describe('DeliveryChecker', () => {
  it('a clean run is clean', () => {
    const c = new DeliveryChecker();
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    c.subscribed('b', { room: ROOM, offset: 0, epoch: E1 });
    publish(c, 1, 100);
    deliver(c, 'a', range(1, 100));
    deliver(c, 'b', range(1, 100));
    const r = c.report();
    expect(r.ok).toBe(true);
    expect(r.totals).toMatchObject({ clients: 2, acked: 100, expected: 200, delivered: 200, missing: 0, duplicates: 0, outOfOrder: 0, signalled: 0, unsignalledGaps: 0, conflicts: 0 });
    expect(c.summary('a')).toBe('missing 0, duplicates 0, out of order 0, signalled gaps 0');
    expect(c.format()).toBe(
      [
        'a chat: missing 0, duplicates 0, out of order 0, signalled gaps 0 (expected 100, delivered 100)',
        'b chat: missing 0, duplicates 0, out of order 0, signalled gaps 0 (expected 100, delivered 100)',
      ].join('\n'),
    );
  });

  it('counts only messages after the start as expected', () => {
    const c = acked(10);
    c.subscribed('a', { room: ROOM, offset: 6, epoch: E1 });
    publish(c, 11, 12);
    deliver(c, 'a', [7, 8, 9, 10, 11, 12]);
    expect(one(c)).toMatchObject({ expected: 6, delivered: 6, missing: 0, ok: true });
  });

  it('takes the first subscribed as the start; resumes change nothing', () => {
    const c = acked(10);
    c.subscribed('a', { room: ROOM, offset: 2, epoch: E1 });
    deliver(c, 'a', [3, 4, 5]);
    c.subscribed('a', { room: ROOM, offset: 8, epoch: E1 }); // a resume that skipped 6..8
    deliver(c, 'a', [9, 10]);
    expect(one(c)).toMatchObject({ expected: 8, missing: 3, missingRanges: [{ epoch: E1, from: 6, to: 8 }], unsignalledGaps: 1, ok: false });
  });

  it('detects missing messages and collapses them into unsignalled gaps', () => {
    const c = new DeliveryChecker();
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    publish(c, 1, 20);
    deliver(c, 'a', [1, 2, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
    const r = one(c);
    expect(r).toMatchObject({ expected: 20, delivered: 15, missing: 5, signalled: 0, unsignalledGaps: 3, ok: false });
    expect(r.missingRanges).toEqual([
      { epoch: E1, from: 3, to: 4 },
      { epoch: E1, from: 8, to: 8 },
      { epoch: E1, from: 19, to: 20 },
    ]);
    expect(r.missingIds).toEqual(['m3', 'm4', 'm8', 'm19', 'm20']);
    expect(c.summary('a')).toBe('missing 5, duplicates 0, out of order 0, signalled gaps 0');
    expect(c.format()).toContain('unsignalled gaps 3 at 3-4 8 19-20');
    expect(c.report().ok).toBe(false);
  });

  it('a run of missing messages is not broken by offsets nobody acked', () => {
    const c = new DeliveryChecker();
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    publish(c, 1, 3);
    publish(c, 5, 6); // offset 4 was never acked (its publisher's connection died)
    deliver(c, 'a', [1, 6]);
    expect(one(c)).toMatchObject({ missing: 3, unsignalledGaps: 1, missingRanges: [{ epoch: E1, from: 2, to: 5 }] });
  });

  it('detects duplicates, and a duplicate is not also out of order', () => {
    const c = acked(5);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    deliver(c, 'a', [1, 2, 3, 2, 4, 5, 5, 5]);
    expect(one(c)).toMatchObject({ delivered: 5, duplicates: 3, outOfOrder: 0, missing: 0, ok: false, duplicateIds: ['m2', 'm5', 'm5'] });
    expect(c.format()).toContain('twice: m2 m5 m5');
    expect(c.summary('a')).toBe('missing 0, duplicates 3, out of order 0, signalled gaps 0');
  });

  it('detects out-of-order deliveries: each message that comes after a higher offset of its epoch', () => {
    const c = acked(6);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    deliver(c, 'a', [1, 2, 5, 3, 4, 6]);
    expect(one(c)).toMatchObject({ delivered: 6, missing: 0, duplicates: 0, outOfOrder: 2, ok: false, outOfOrderIds: ['m3', 'm4'] });
    expect(c.format()).toContain('late: m3 m4');
  });

  it('gaps cover exactly (from, to] of their epoch', () => {
    const c = acked(10);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    deliver(c, 'a', [1, 2]);
    c.gap('a', { room: ROOM, epoch: E1, from: 2, to: 5 }); // 3, 4, 5
    deliver(c, 'a', [7, 8, 9, 10]); // 6 is missing: not in the gap
    const r = one(c);
    expect(r).toMatchObject({ missing: 1, signalled: 3, gaps: 1, unsignalledGaps: 1, missingRanges: [{ epoch: E1, from: 6, to: 6 }] });
    expect(c.summary('a')).toBe('missing 1, duplicates 0, out of order 0, signalled gaps 3');
  });

  it('a gap without `to` covers everything after `from` in its epoch, and only that epoch', () => {
    const c = acked(5);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    deliver(c, 'a', [1, 2]);
    c.gap('a', { room: ROOM, epoch: E1, from: 2 });
    publish(c, 1, 3, E2); // the room's history was reset: a new epoch starting at 1
    deliver(c, 'a', [2], E2); // 1 and 3 of E2 are missing: the E1 gap does not cover them
    const r = one(c);
    expect(r).toMatchObject({ expected: 8, delivered: 3, signalled: 3, missing: 2, outOfOrder: 0 });
    expect(r.missingRanges).toEqual([
      { epoch: E2, from: 1, to: 1 },
      { epoch: E2, from: 3, to: 3 },
    ]);
  });

  it('a gap of another epoch covers nothing; a gap of another room covers nothing', () => {
    const c = acked(4);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    c.gap('a', { room: ROOM, epoch: 'other', from: 0 });
    c.gap('a', { room: 'elsewhere', epoch: E1, from: 0 });
    expect(one(c)).toMatchObject({ missing: 4, signalled: 0, gaps: 1 });
  });

  it('a gap that covers delivered messages changes nothing for them', () => {
    const c = acked(4);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    deliver(c, 'a', [1, 2, 3, 4]);
    c.gap('a', { room: ROOM, epoch: E1, from: 0, to: 4 });
    expect(one(c)).toMatchObject({ missing: 0, signalled: 0, ok: true });
  });

  it('a new epoch: old-epoch messages after the last delivery need a gap of that epoch, new-epoch ones are expected', () => {
    const c = acked(6);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    deliver(c, 'a', [1, 2, 3]);
    publish(c, 1, 4, E2);
    deliver(c, 'a', [1, 2, 3, 4], E2); // offsets restart in the new epoch: not out of order
    let r = one(c);
    expect(r).toMatchObject({ expected: 10, missing: 3, outOfOrder: 0, duplicates: 0, missingRanges: [{ epoch: E1, from: 4, to: 6 }] });
    c.gap('a', { room: ROOM, epoch: E1, from: 3 });
    r = one(c);
    expect(r).toMatchObject({ missing: 0, signalled: 3, ok: true });
  });

  it('a client that starts in the new epoch expects nothing of the old one', () => {
    const c = acked(5);
    publish(c, 1, 2, E2);
    c.subscribed('late', { room: ROOM, offset: 2, epoch: E2 });
    publish(c, 3, 4, E2);
    deliver(c, 'late', [3, 4], E2);
    expect(one(c, 'late')).toMatchObject({ expected: 2, missing: 0, ok: true });
  });

  it('a delivery of an older epoch after a newer one is out of order', () => {
    const c = acked(2);
    publish(c, 1, 2, E2);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    deliver(c, 'a', [1], E1);
    deliver(c, 'a', [1], E2);
    deliver(c, 'a', [2], E1);
    deliver(c, 'a', [2], E2);
    expect(one(c)).toMatchObject({ outOfOrder: 1, missing: 0 });
  });

  it('messages without offsets (no history) are expected when acked after the start', () => {
    const c = new DeliveryChecker();
    c.published({ room: ROOM, id: 'early', sender: 'p' });
    c.subscribed('a', { room: ROOM });
    for (let i = 0; i < 5; i++) c.published({ room: ROOM, id: `x${i}`, sender: 'p' });
    for (const id of ['x0', 'x1', 'x3', 'x3']) c.delivered('a', { room: ROOM, id });
    const r = one(c);
    expect(r).toMatchObject({ expected: 5, delivered: 3, missing: 2, duplicates: 1, outOfOrder: 0, unsignalledGaps: 2, missingRanges: [] });
    expect(r.missingIds).toEqual(['x2', 'x4']);
  });

  it('without a start, every acked message is expected', () => {
    const c = acked(3);
    deliver(c, 'a', [1, 2, 3]);
    expect(one(c)).toMatchObject({ start: undefined, expected: 3, missing: 0, ok: true });
  });

  it('a delivery never acked is counted as unacked, not as a defect', () => {
    const c = acked(2);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    deliver(c, 'a', [1, 2, 3]); // m3 was published but its ack was lost
    expect(one(c)).toMatchObject({ delivered: 3, unacked: 1, ok: true });
    expect(c.format()).toContain('unacked 1');
  });

  it('a delivery at another offset than its ack is mismatched', () => {
    const c = acked(2);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    c.delivered('a', { room: ROOM, id: 'm1', offset: 1, epoch: E1 });
    c.delivered('a', { room: ROOM, id: 'm2', offset: 7, epoch: E1 });
    expect(one(c)).toMatchObject({ mismatched: 1, missing: 0, ok: false });
  });

  it('two acks for one offset are a conflict', () => {
    const c = acked(2);
    c.published({ room: ROOM, id: 'other', sender: 'p3', offset: 2, epoch: E1 });
    c.published({ room: ROOM, id: 'm1', sender: 'p1', offset: 1, epoch: E1 }); // the same ack again: ignored
    c.published({ room: ROOM, id: 'm1', sender: 'p1', offset: 9, epoch: E1 }); // one message at two offsets
    const r = c.report();
    expect(r.totals.conflicts).toBe(2);
    expect(r.totals.acked).toBe(3);
    expect(r.ok).toBe(false);
  });

  it('rooms are checked apart', () => {
    const c = new DeliveryChecker();
    c.subscribed('a', { room: 'r1', offset: 0, epoch: E1 });
    c.subscribed('a', { room: 'r2', offset: 0, epoch: E1 });
    c.published({ room: 'r1', id: 'a1', sender: 'p', offset: 1, epoch: E1 });
    c.published({ room: 'r2', id: 'b1', sender: 'p', offset: 1, epoch: E1 });
    c.delivered('a', { room: 'r1', id: 'a1', offset: 1, epoch: E1 });
    expect(c.summary('a', 'r1')).toBe('missing 0, duplicates 0, out of order 0, signalled gaps 0');
    expect(c.summary('a', 'r2')).toBe('missing 1, duplicates 0, out of order 0, signalled gaps 0');
    expect(c.summary('a')).toBe('missing 1, duplicates 0, out of order 0, signalled gaps 0');
    expect(c.ackedCount('r1')).toBe(1);
    expect(c.ackedCount()).toBe(2);
  });

  it('a client that left is reported but does not fail the run', () => {
    const c = acked(3);
    c.subscribed('a', { room: ROOM, offset: 0, epoch: E1 });
    deliver(c, 'a', [1]);
    c.unsubscribed('a', ROOM);
    const r = c.report();
    expect(r.clients[0]).toMatchObject({ left: true, missing: 2, ok: false });
    expect(r.ok).toBe(true);
    expect(c.format()).toContain('left the room');
  });

  it('handles a concurrent-publisher run with interleaved acks and a two-publisher order bug', () => {
    // Two publishers; acks arrive in any order. A receiver that drops "anything at or below the
    // last offset" (the bug the checker exists to catch) loses the late envelopes.
    const c = new DeliveryChecker();
    c.subscribed('r', { room: ROOM, offset: 0, epoch: E1 });
    const arrival = [2, 1, 4, 3, 6, 5, 8, 7];
    for (const o of arrival) c.published({ room: ROOM, id: `m${o}`, sender: o % 2 ? 'p1' : 'p2', offset: o, epoch: E1 });
    let high = 0;
    for (const o of arrival) {
      if (o <= high) continue;
      high = o;
      c.delivered('r', { room: ROOM, id: `m${o}`, offset: o, epoch: E1 });
    }
    expect(one(c, 'r')).toMatchObject({ expected: 8, delivered: 4, missing: 4, unsignalledGaps: 4, outOfOrder: 0 });
  });
});
