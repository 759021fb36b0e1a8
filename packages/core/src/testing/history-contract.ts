import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryRetention, HistoryStore } from '../ports/history.js';
import { Closer, bytes, rejectsWithCode, text, unique, waitFor } from './helpers.js';

export interface HistoryContractOptions {
  /** A new, unconnected store on the shared backend, with the given retention. */
  create: (retention: HistoryRetention) => HistoryStore | Promise<HistoryStore>;
  /** Deadline for age-based expiry to show, ms (default 10,000). */
  ageTimeoutMs?: number;
}

/**
 * The contract every `HistoryStore` passes: growing offsets, reads after an offset, paging,
 * retention by length (and by age where the store can), gap reporting, epochs on reset,
 * concurrent appends and close semantics.
 */
export function historyContract(name: string, options: HistoryContractOptions): void {
  describe(`HistoryStore contract: ${name}`, () => {
    const closer = new Closer();
    afterEach(() => closer.closeAll());
    const open = async (retention: Partial<HistoryRetention> = {}) => {
      const h = closer.add(await options.create({ maxLength: 100, maxAgeMs: 0, ...retention }));
      await h.connect();
      return h;
    };

    it('appends with strictly growing offsets in one epoch and reads after an offset', async () => {
      const h = await open();
      const s = unique('room.h');
      const positions = [];
      for (let i = 0; i < 10; i++) positions.push(await h.append(s, bytes(`m${i}`)));
      const offsets = positions.map((p) => p.offset);
      expect(offsets.every((o, i) => i === 0 || o > (offsets[i - 1] as number))).toBe(true);
      expect(new Set(positions.map((p) => p.epoch)).size).toBe(1);
      const all = await h.read(s, 0);
      expect(all.entries.map((e) => text(e.payload))).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
      expect(all.top).toBe(offsets[9]);
      expect(all.gap).toBe(false);
      expect(all.epoch).toBe(positions[0]?.epoch);
      const tail = await h.read(s, offsets[6] as number);
      expect(tail.entries.map((e) => text(e.payload))).toEqual(['m7', 'm8', 'm9']);
      expect(tail.entries.map((e) => e.offset)).toEqual(offsets.slice(7));
      expect((await h.read(s, offsets[9] as number)).entries).toEqual([]);
      const pos = await h.position(s);
      expect(pos).toEqual({ offset: offsets[9], epoch: positions[0]?.epoch });
      expect(all.entries[0]?.timestamp).toBeGreaterThan(Date.now() - 60_000);
    });

    it('each append names its predecessor in its stream (prev, or offset - 1 where offsets are contiguous)', async () => {
      const h = await open();
      const [s1, s2] = [unique('room.p1'), unique('room.p2')];
      const prevOf = (p: { offset: number; prev?: number }) => p.prev ?? p.offset - 1;
      const last: Record<string, number> = { [s1]: 0, [s2]: 0 };
      // two streams written in turn: where a store shares one sequence, offsets in each skip
      for (let i = 0; i < 6; i++) {
        for (const s of [s1, s2]) {
          const pos = await h.append(s, bytes(`${s}-${i}`));
          expect(prevOf(pos)).toBe(last[s]);
          last[s] = pos.offset;
        }
      }
      const read = await h.read(s1, 0);
      expect(read.entries.map((e) => e.offset).at(-1)).toBe(last[s1]);
    });

    it('pages with a limit', async () => {
      const h = await open();
      const s = unique('room.page');
      for (let i = 0; i < 7; i++) await h.append(s, bytes(`p${i}`));
      const first = await h.read(s, 0, { limit: 3 });
      expect(first.entries.map((e) => text(e.payload))).toEqual(['p0', 'p1', 'p2']);
      const next = await h.read(s, first.entries[2]?.offset as number, { limit: 3 });
      expect(next.entries.map((e) => text(e.payload))).toEqual(['p3', 'p4', 'p5']);
    });

    it('reads an unknown stream as empty', async () => {
      const h = await open();
      const r = await h.read(unique('room.none'), 0);
      expect(r.entries).toEqual([]);
      expect(r.top).toBe(0);
      expect(r.gap).toBe(false);
    });

    it('trims by length and reports the gap to a reader that fell behind', async () => {
      const h = await open({ maxLength: 5 });
      const s = unique('room.trim');
      const offsets: number[] = [];
      for (let i = 0; i < 12; i++) offsets.push((await h.append(s, bytes(`t${i}`))).offset);
      const r = await h.read(s, 0);
      expect(r.entries.map((e) => text(e.payload))).toEqual(['t7', 't8', 't9', 't10', 't11']);
      expect(r.gap).toBe(true);
      const behind = await h.read(s, offsets[3] as number);
      expect(behind.gap).toBe(true);
      const caughtUp = await h.read(s, offsets[6] as number);
      expect(caughtUp.gap).toBe(false);
      expect(caughtUp.entries).toHaveLength(5);
    });

    it('expires entries by age where the store supports it', async () => {
      const h = await open({ maxAgeMs: 1000 });
      if (!h.capabilities.retentionByAge) return;
      const s = unique('room.age');
      await h.append(s, bytes('old'));
      expect((await h.read(s, 0)).entries).toHaveLength(1);
      await waitFor(async () => (await h.read(s, 0)).entries.length === 0, options.ageTimeoutMs ?? 10_000, 100);
      const fresh = await h.append(s, bytes('new'));
      const r = await h.read(s, 0);
      expect(r.entries.map((e) => text(e.payload))).toEqual(['new']);
      expect(r.entries[0]?.offset).toBe(fresh.offset);
    });

    it('starts a new epoch after reset and flags readers of the old one', async () => {
      const h = await open();
      const s = unique('room.epoch');
      const before = await h.append(s, bytes('a'));
      await h.append(s, bytes('b'));
      await h.reset(s);
      const after = await h.append(s, bytes('c'));
      expect(after.epoch).not.toBe(before.epoch);
      const r = await h.read(s, before.offset, { epoch: before.epoch });
      expect(r.epoch).toBe(after.epoch);
      expect(r.gap).toBe(true);
      expect(r.entries.map((e) => text(e.payload))).toEqual(['c']);
      const same = await h.read(s, 0, { epoch: after.epoch });
      expect(same.gap).toBe(false);
    });

    it('gives distinct offsets to concurrent appends from two instances, all readable in order', async () => {
      const [a, b] = [await open({ maxLength: 1000 }), await open({ maxLength: 1000 })];
      const s = unique('room.conc');
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).append(s, bytes(String(i)))),
      );
      const offsets = results.map((r) => r.offset);
      expect(new Set(offsets).size).toBe(200);
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const page = await a.read(s, after, { limit: 100 });
        if (page.entries.length === 0) break;
        seen.push(...page.entries.map((e) => e.offset));
        after = page.entries[page.entries.length - 1]?.offset as number;
      }
      expect(seen).toEqual([...offsets].sort((x, y) => x - y));
    });

    it('after close rejects with CLOSED, and close is idempotent', async () => {
      const h = await open();
      await h.close();
      await h.close();
      await rejectsWithCode(h.append(unique('room.c'), bytes('x')), 'CLOSED');
      await rejectsWithCode(h.read(unique('room.c'), 0), 'CLOSED');
    });
  });
}
