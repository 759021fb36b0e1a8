import { describe, expect, it } from 'vitest';
import { Gather } from '../src/session/gather.js';

describe('Gather', () => {
  it('answers each call from one batch call, in order, and splits at maxBatch', async () => {
    const batches: number[][] = [];
    const g = new Gather<number, string>(
      async () => {
        throw new Error('not used for a batch');
      },
      async (items) => (batches.push(items), items.map((n) => `v${n}`)),
      { lingerMs: 0, maxBatch: 4 },
    );
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => g.call(n)));
    expect(answers).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
    expect(batches).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
  });

  it('without a batch call, or for a lone item, each item gets its own call and its own failure', async () => {
    const ones: number[] = [];
    const one = async (n: number) => {
      ones.push(n);
      if (n === 2) throw new Error('two fails');
      return n * 10;
    };
    const g = new Gather<number, number>(one, undefined, { lingerMs: 0, maxBatch: 64 });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => g.call(n)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([10, 'two fails', 30]);
    const withMany = new Gather<number, number>(one, async () => [], { lingerMs: 0, maxBatch: 64 });
    expect(await withMany.call(4)).toBe(40); // a batch of one: `one`
    expect(ones).toEqual([1, 2, 3, 4]);
  });

  it('a failed batch fails every call in it; flush sends at once', async () => {
    const g = new Gather<number, number>(async (n) => n, async () => Promise.reject(new Error('batch down')), { lingerMs: 60_000, maxBatch: 64 });
    const calls = [g.call(1), g.call(2)];
    g.flush();
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
  });
});
