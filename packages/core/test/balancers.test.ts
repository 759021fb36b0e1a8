import { describe, expect, it } from 'vitest';
import { AdaptiveBalancer, ConsistentHashBalancer, LeastConnectionsBalancer, RandomBalancer, RoundRobinBalancer, WeightedBalancer, type NodeInfo } from '../src/index.js';
import { emptyLoad } from '../src/model/node.js';
import { makeNode } from '../src/testing/index.js';

/** A deterministic PRNG (mulberry32) so property runs are reproducible. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const count = (picks: NodeInfo[]) => picks.reduce<Record<string, number>>((m, n) => ((m[n.id] = (m[n.id] ?? 0) + 1), m), {});

describe('round robin', () => {
  it('visits every node in turn', () => {
    const nodes = ['a', 'b', 'c'].map((id) => makeNode(id));
    const b = new RoundRobinBalancer();
    const picks = Array.from({ length: 3000 }, () => b.pick(nodes).id);
    expect(picks.slice(0, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(count(picks.map((id) => makeNode(id)))).toEqual({ a: 1000, b: 1000, c: 1000 });
  });
});

describe('weighted (smooth)', () => {
  it('gives each node its share of thousands of picks, within a few percent, for random weight sets', () => {
    const rnd = prng(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 2 + Math.floor(rnd() * 5);
      const nodes = Array.from({ length: n }, (_, i) => makeNode(`n${i}`, { weight: 1 + Math.floor(rnd() * 9) }));
      const total = nodes.reduce((s, x) => s + x.weight, 0);
      const b = new WeightedBalancer();
      const picks = 5000;
      const counts = count(Array.from({ length: picks }, () => b.pick(nodes)));
      for (const node of nodes) {
        const share = (counts[node.id] ?? 0) / picks;
        expect(Math.abs(share - node.weight / total)).toBeLessThan(0.02);
      }
    }
  });

  it('spreads picks smoothly like nginx: weights 5,1,1 give a a b a c a a', () => {
    const nodes = [makeNode('a', { weight: 5 }), makeNode('b', { weight: 1 }), makeNode('c', { weight: 1 })];
    const b = new WeightedBalancer();
    expect(Array.from({ length: 7 }, () => b.pick(nodes).id).join(' ')).toBe('a a b a c a a');
  });
});

describe('least connections', () => {
  it('never picks a node with more connections than another candidate, over thousands of random states', () => {
    const rnd = prng(11);
    const b = new LeastConnectionsBalancer();
    for (let i = 0; i < 5000; i++) {
      const nodes = Array.from({ length: 2 + Math.floor(rnd() * 6) }, (_, k) =>
        makeNode(`n${k}`, { load: { ...emptyLoad(), connections: Math.floor(rnd() * 50) } }),
      );
      const chosen = b.pick(nodes);
      const min = Math.min(...nodes.map((n) => n.load.connections));
      expect(chosen.load.connections).toBe(min);
    }
  });

  it('spreads ties evenly and compares fill ratios in relative mode', () => {
    const b = new LeastConnectionsBalancer();
    const tied = ['a', 'b', 'c'].map((id) => makeNode(id));
    expect(count(Array.from({ length: 300 }, () => b.pick(tied)))).toEqual({ a: 100, b: 100, c: 100 });
    const rel = new LeastConnectionsBalancer({ relative: true });
    const big = makeNode('big', { capacity: 1000, load: { ...emptyLoad(), connections: 100 } });
    const small = makeNode('small', { capacity: 100, load: { ...emptyLoad(), connections: 50 } });
    expect(rel.pick([big, small]).id).toBe('big');
  });
});

describe('consistent hash', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `10.0.${Math.floor(i / 256)}.${i % 256}`);

  it('sends a key to the same node every time and spreads keys evenly', () => {
    const nodes = ['a', 'b', 'c', 'd'].map((id) => makeNode(id));
    const b = new ConsistentHashBalancer();
    const first = keys.map((ip) => b.pick(nodes, { ip }).id);
    const second = keys.map((ip) => b.pick(nodes, { ip }).id);
    expect(second).toEqual(first);
    const shares = count(first.map((id) => makeNode(id)));
    for (const id of ['a', 'b', 'c', 'd']) expect(Math.abs((shares[id] ?? 0) / keys.length - 0.25)).toBeLessThan(0.03);
  });

  it('moves about 1/N of the keys when a node joins, and only onto the new node', () => {
    const b = new ConsistentHashBalancer();
    for (const n of [3, 5, 8]) {
      const before = Array.from({ length: n }, (_, i) => makeNode(`node-${i}`));
      const after = [...before, makeNode('node-new')];
      let moved = 0;
      for (const ip of keys) {
        const x = b.pick(before, { ip }).id;
        const y = b.pick(after, { ip }).id;
        if (x !== y) {
          moved++;
          expect(y).toBe('node-new');
        }
      }
      const expected = 1 / (n + 1);
      expect(Math.abs(moved / keys.length - expected)).toBeLessThan(0.03);
    }
  });

  it('hashes by user or key when configured', () => {
    const nodes = ['a', 'b', 'c'].map((id) => makeNode(id));
    const byUser = new ConsistentHashBalancer({ by: 'user' });
    const u = byUser.pick(nodes, { userId: 'ada', ip: '1.1.1.1' }).id;
    for (let i = 0; i < 50; i++) expect(byUser.pick(nodes, { userId: 'ada', ip: `2.2.2.${i}` }).id).toBe(u);
  });
});

describe('random', () => {
  it('is roughly uniform, and power-of-two-choices prefers the emptier node', () => {
    const nodes = ['a', 'b', 'c', 'd'].map((id) => makeNode(id));
    const r = new RandomBalancer({ random: prng(3) });
    const shares = count(Array.from({ length: 8000 }, () => r.pick(nodes)));
    for (const id of ['a', 'b', 'c', 'd']) expect(Math.abs((shares[id] ?? 0) / 8000 - 0.25)).toBeLessThan(0.03);

    const loaded = nodes.map((n, i) => ({ ...n, load: { ...emptyLoad(), connections: i * 100 } }));
    const p2 = new RandomBalancer({ twoChoices: true, random: prng(5) });
    const p2shares = count(Array.from({ length: 8000 }, () => p2.pick(loaded)));
    expect(p2shares.d ?? 0).toBe(0); // the fullest node can never win a pair
    expect(p2shares.a ?? 0).toBeGreaterThan(p2shares.b ?? 0);
    expect(p2shares.b ?? 0).toBeGreaterThan(p2shares.c ?? 0);
  });
});

describe('adaptive', () => {
  it('skips overloaded nodes and prefers the lowest score', () => {
    const b = new AdaptiveBalancer();
    const hot = makeNode('hot', { load: { connections: 10, cpu: 0.95, memory: 0.2, eventLoopLagMs: 1 } });
    const laggy = makeNode('laggy', { load: { connections: 10, cpu: 0.1, memory: 0.2, eventLoopLagMs: 500 } });
    const full = makeNode('full', { capacity: 10, load: { connections: 10, cpu: 0.1, memory: 0.1, eventLoopLagMs: 1 } });
    const busy = makeNode('busy', { load: { connections: 800, cpu: 0.5, memory: 0.5, eventLoopLagMs: 20 } });
    const calm = makeNode('calm', { load: { connections: 100, cpu: 0.1, memory: 0.2, eventLoopLagMs: 2 } });
    for (let i = 0; i < 100; i++) expect(b.pick([hot, laggy, full, busy, calm]).id).toBe('calm');
    expect(['hot', 'laggy', 'full']).toContain(b.pick([hot, laggy, full]).id); // all overloaded: still answers
  });

  it('over thousands of random states never picks an overloaded node while a healthy one exists', () => {
    const rnd = prng(99);
    const b = new AdaptiveBalancer();
    for (let i = 0; i < 3000; i++) {
      const nodes = Array.from({ length: 2 + Math.floor(rnd() * 5) }, (_, k) =>
        makeNode(`n${k}`, { capacity: 100, load: { connections: Math.floor(rnd() * 120), cpu: rnd(), memory: rnd(), eventLoopLagMs: rnd() * 300 } }),
      );
      const chosen = b.pick(nodes);
      if (nodes.some((n) => !b.overloaded(n))) expect(b.overloaded(chosen)).toBe(false);
    }
  });
});
