import { afterEach, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../model/session.js';
import type { SessionStore } from '../ports/sessions.js';
import { Closer, rejectsWithCode, unique, waitFor } from './helpers.js';

export interface SessionContractOptions {
  /** A new, unconnected store on the shared backend. */
  create: () => SessionStore | Promise<SessionStore>;
  /** Shortest TTL the backend honours, ms (default 500). */
  minTtlMs?: number;
  /** Deadline for expiry, ms (default 10,000). */
  timeoutMs?: number;
}

export const makeSession = (id: string, nodeId: string, patch: Partial<SessionRecord> = {}): SessionRecord => ({
  id,
  nodeId,
  rooms: {},
  createdAt: Date.now(),
  updatedAt: Date.now(),
  ...patch,
});

const ids = (list: SessionRecord[]) => list.map((s) => s.id).sort();

/**
 * The contract every `SessionStore` passes: records and indexes, rooms and offsets, TTL
 * expiry and touch, deletion, reassignment (only from the expected node), concurrent
 * reassignment by racing coordinators, affinity keys, and close semantics.
 */
export function sessionContract(name: string, options: SessionContractOptions): void {
  const ttl = options.minTtlMs ?? 500;
  const timeout = options.timeoutMs ?? 10_000;

  describe(`SessionStore contract: ${name}`, () => {
    const closer = new Closer();
    afterEach(() => closer.closeAll());
    const open = async () => {
      const s = closer.add(await options.create());
      await s.connect();
      return s;
    };

    it('stores sessions and finds them by id, user and node', async () => {
      const [a, b] = [await open(), await open()];
      const user = unique('user');
      const node = unique('node');
      const s1 = makeSession(unique('s'), node, { userId: user, rooms: { lobby: { offset: 3, epoch: 'e1' } }, data: { name: 'Ada' } });
      const s2 = makeSession(unique('s'), node, { userId: user });
      const s3 = makeSession(unique('s'), unique('other-node'));
      for (const s of [s1, s2, s3]) await a.put(s, 60_000);
      expect(await b.get(s1.id)).toEqual(s1);
      expect(ids(await b.byUser(user))).toEqual([s1.id, s2.id].sort());
      expect(ids(await b.byNode(node))).toEqual([s1.id, s2.id].sort());
      expect(await b.get(unique('missing'))).toBeNull();
    });

    it('putMany writes each session as put does, the later of two for one id winning (when the store has it)', async () => {
      const [a, b] = [await open(), await open()];
      if (!a.putMany) return;
      const user = unique('user');
      const node = unique('node');
      const s1 = makeSession(unique('s'), node, { userId: user, rooms: { lobby: { offset: 3, epoch: 'e1' }, 'q"\\{}': { offset: 0, epoch: null } }, data: { name: 'Ada "A" \\ {x}' } });
      const s2 = makeSession(unique('s'), node);
      const moved = makeSession(s2.id, unique('node'), { userId: user });
      const s3 = makeSession(unique('s'), unique('other-node'));
      await a.put(makeSession(s3.id, node), 60_000); // replaced by the batch
      await a.putMany([s1, s2, s3, moved], 60_000);
      expect(await b.get(s1.id)).toEqual(s1);
      expect(await b.get(s2.id)).toEqual(moved);
      expect(await b.get(s3.id)).toEqual(s3);
      expect(ids(await b.byUser(user))).toEqual([s1.id, s2.id].sort());
      expect(ids(await b.byNode(node))).toEqual([s1.id]);
      await a.putMany([], 60_000);
    });

    it('getMany reads each session as get does, in the order asked, null for one missing or expired (when the store has it)', async () => {
      const [a, b] = [await open(), await open()];
      if (!b.getMany) return;
      const s1 = makeSession(unique('s'), unique('node'), { userId: unique('user'), rooms: { lobby: { offset: 7, epoch: 'e1' } }, data: { n: 1 } });
      const s2 = makeSession(unique('s'), unique('node'));
      const gone = makeSession(unique('s'), unique('node'));
      await a.put(s1, 60_000);
      await a.put(s2, 60_000);
      await a.put(gone, 60_000);
      await a.delete(gone.id);
      const missing = unique('missing');
      expect(await b.getMany([s2.id, missing, s1.id, gone.id, s2.id])).toEqual([s2, null, s1, null, s2]);
      expect(await b.getMany([])).toEqual([]);
    });

    it('records rooms with offsets and forgets them', async () => {
      const s = await open();
      const rec = makeSession(unique('s'), unique('node'));
      await s.put(rec, 60_000);
      await s.setRoom(rec.id, 'a', { offset: 0, epoch: null });
      await s.setRoom(rec.id, 'b', { offset: 10, epoch: 'x' });
      await s.setRoom(rec.id, 'b', { offset: 12, epoch: 'x' });
      expect((await s.get(rec.id))?.rooms).toEqual({ a: { offset: 0, epoch: null }, b: { offset: 12, epoch: 'x' } });
      await s.removeRoom(rec.id, 'a');
      expect((await s.get(rec.id))?.rooms).toEqual({ b: { offset: 12, epoch: 'x' } });
    });

    it('expires sessions after their TTL unless touched, and drops them from indexes', async () => {
      const s = await open();
      const user = unique('user');
      const node = unique('node');
      const short = makeSession(unique('short'), node, { userId: user });
      const kept = makeSession(unique('kept'), node, { userId: user });
      await s.put(short, ttl);
      await s.put(kept, ttl);
      expect(await s.touch(kept.id, 60_000)).toBe(true);
      await waitFor(async () => (await s.get(short.id)) === null, timeout, 50);
      expect(ids(await s.byUser(user))).toEqual([kept.id]);
      expect(ids(await s.byNode(node))).toEqual([kept.id]);
      expect(await s.touch(short.id, 60_000)).toBe(false);
      expect(await s.get(kept.id)).not.toBeNull();
    });

    it('deletes a session and its index entries', async () => {
      const s = await open();
      const rec = makeSession(unique('s'), unique('node'), { userId: unique('user') });
      await s.put(rec, 60_000);
      await s.delete(rec.id);
      await s.delete(rec.id);
      expect(await s.get(rec.id)).toBeNull();
      expect(await s.byUser(rec.userId as string)).toEqual([]);
      expect(await s.byNode(rec.nodeId)).toEqual([]);
    });

    it('reassigns only sessions still on the source node', async () => {
      const s = await open();
      const dead = unique('dead');
      const other = unique('other');
      const target = unique('target');
      const onDead = makeSession(unique('s'), dead);
      const elsewhere = makeSession(unique('s'), other);
      await s.put(onDead, 60_000);
      await s.put(elsewhere, 60_000);
      const gone = unique('gone');
      const res = await s.reassign(dead, { [onDead.id]: target, [elsewhere.id]: target, [gone]: target });
      expect(res.moved).toEqual({ [onDead.id]: target });
      expect(res.skipped.sort()).toEqual([elsewhere.id, gone].sort());
      expect((await s.get(onDead.id))?.nodeId).toBe(target);
      expect((await s.get(elsewhere.id))?.nodeId).toBe(other);
      expect(await s.byNode(dead)).toEqual([]);
      expect(ids(await s.byNode(target))).toEqual([onDead.id]);
    });

    it('ends each session on exactly one node when two coordinators race to reassign', async () => {
      const [a, b] = [await open(), await open()];
      const dead = unique('dead');
      const n1 = unique('n1');
      const n2 = unique('n2');
      const sessions = Array.from({ length: 60 }, () => makeSession(unique('s'), dead));
      for (const rec of sessions) await a.put(rec, 60_000);
      const planA = Object.fromEntries(sessions.map((x) => [x.id, n1]));
      const planB = Object.fromEntries(sessions.map((x) => [x.id, n2]));
      const [ra, rb] = await Promise.all([a.reassign(dead, planA), b.reassign(dead, planB)]);
      const movedA = Object.keys(ra.moved);
      const movedB = Object.keys(rb.moved);
      expect(movedA.filter((id) => movedB.includes(id))).toEqual([]);
      expect([...movedA, ...movedB].sort()).toEqual(sessions.map((x) => x.id).sort());
      for (const rec of sessions) {
        const now = await a.get(rec.id);
        expect(now?.nodeId).toBe(movedA.includes(rec.id) ? n1 : n2);
      }
      expect(await a.byNode(dead)).toEqual([]);
      const on1 = ids(await a.byNode(n1));
      const on2 = ids(await a.byNode(n2));
      expect(on1).toEqual(movedA.sort());
      expect(on2).toEqual(movedB.sort());
    });

    it('pins affinity keys to nodes with a TTL', async () => {
      const s = await open();
      const key = unique('user:k');
      expect(await s.getAffinity(key)).toBeNull();
      await s.setAffinity(key, 'node-a', 60_000);
      expect(await s.getAffinity(key)).toBe('node-a');
      await s.setAffinity(key, 'node-b', ttl);
      expect(await s.getAffinity(key)).toBe('node-b');
      await waitFor(async () => (await s.getAffinity(key)) === null, timeout, 50);
    });

    it('after close rejects with CLOSED, and close is idempotent', async () => {
      const s = await open();
      await s.close();
      await s.close();
      await rejectsWithCode(s.get('x'), 'CLOSED');
      await rejectsWithCode(s.put(makeSession('x', 'n'), 1000), 'CLOSED');
    });
  });
}
