import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../src/model/session.js';
import { SessionWrites } from '../src/session/session-writes.js';

const rec = (id: string): SessionRecord => ({ id, nodeId: 'n1', rooms: {}, createdAt: 1, updatedAt: 1 });
const turn = () => new Promise<void>((r) => setImmediate(r));

/** A store that records its calls; `fail` names ids whose write fails. */
function store(withMany: boolean, fail = new Set<string>()) {
  const calls: Array<{ many: boolean; ids: string[]; ttl: number }> = [];
  const put = async (s: SessionRecord, ttl: number) => {
    calls.push({ many: false, ids: [s.id], ttl });
    if (fail.has(s.id)) throw new Error(`cannot write ${s.id}`);
  };
  const putMany = async (list: readonly SessionRecord[], ttl: number) => {
    calls.push({ many: true, ids: list.map((s) => s.id), ttl });
    if (list.some((s) => fail.has(s.id))) throw new Error('cannot write the batch');
  };
  return { calls, store: withMany ? { put, putMany } : { put } };
}

describe('SessionWrites', () => {
  it('sends a lone write at the end of the turn, with one put', async () => {
    const { calls, store: s } = store(true);
    const w = new SessionWrites(s, { ttlMs: () => 1234 });
    const done = w.put(rec('a'));
    expect(calls).toEqual([]); // not before the turn ends
    await done;
    expect(calls).toEqual([{ many: false, ids: ['a'], ttl: 1234 }]);
  });

  it('gathers the writes of one turn into one putMany', async () => {
    const { calls, store: s } = store(true);
    const w = new SessionWrites(s, { ttlMs: () => 60_000 });
    await Promise.all(['a', 'b', 'c'].map((id) => w.put(rec(id))));
    expect(calls).toEqual([{ many: true, ids: ['a', 'b', 'c'], ttl: 60_000 }]);
  });

  it('while busy, gathers writes arriving over later turns into the next batch', async () => {
    const { calls, store: s } = store(true);
    // a long linger: the second batch waits for it whatever the machine's speed
    const w = new SessionWrites(s, { ttlMs: () => 1, lingerMs: 200 });
    await w.put(rec('a'));
    const later: Promise<void>[] = [];
    for (const id of ['b', 'c', 'd']) {
      later.push(w.put(rec(id)));
      await turn();
    }
    await Promise.all(later);
    expect(calls.map((c) => c.ids)).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('sends a full batch at once, in batches of at most maxBatch', async () => {
    const { calls, store: s } = store(true);
    const w = new SessionWrites(s, { ttlMs: () => 1, maxBatch: 2, lingerMs: 60_000 });
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => w.put(rec(id)));
    expect(calls.map((c) => c.ids)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    w.flush(); // a closing node does not wait for the linger
    await Promise.all(all);
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('falls back to one put each for a store without putMany, failing only the writes that failed', async () => {
    const { calls, store: s } = store(false, new Set(['b']));
    const w = new SessionWrites(s, { ttlMs: () => 1 });
    const out = await Promise.allSettled(['a', 'b', 'c'].map((id) => w.put(rec(id))));
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((out[1] as PromiseRejectedResult).reason.message).toBe('cannot write b');
    expect(calls.every((c) => !c.many)).toBe(true);
    expect(calls.map((c) => c.ids[0])).toEqual(['a', 'b', 'c']);
  });

  it('rejects every write of a failed batch', async () => {
    const { store: s } = store(true, new Set(['b']));
    const w = new SessionWrites(s, { ttlMs: () => 1 });
    const out = await Promise.allSettled(['a', 'b'].map((id) => w.put(rec(id))));
    expect(out.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });
});
