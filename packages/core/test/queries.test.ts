import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHub, createCluster, type ClusterNode } from '../src/index.js';
import { waitFor } from '../src/testing/index.js';

const nodes: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

async function three() {
  const hub = new MemoryHub();
  const list = ['a', 'b', 'c'].map((id) => createCluster({ hub, nodeId: id, heartbeatIntervalMs: 50, nodeTimeoutMs: 300 }));
  nodes.push(...list);
  await Promise.all(list.map((n) => n.start()));
  await waitFor(() => list.every((n) => n.healthyNodes().length === 3));
  return list as [ClusterNode, ClusterNode, ClusterNode];
}

describe('cluster-wide queries', () => {
  it('collect an answer from every node, this one included', async () => {
    const [a, b, c] = await three();
    for (const n of [a, b, c]) n.onQuery('connections', (args) => ({ node: n.id, room: (args as { room: string }).room, count: n.id.charCodeAt(0) - 96 }));
    const r = await a.query<{ node: string; count: number }>('connections', { room: 'lobby' });
    expect(r.complete).toBe(true);
    expect(r.missing).toEqual([]);
    expect(r.results.map((x) => x.node).sort()).toEqual(['a', 'b', 'c']);
    expect(r.results.reduce((s, x) => s + x.result.count, 0)).toBe(6);
  });

  it('return partial results with who answered when a node is slow, dead or has no handler', async () => {
    const [a, b, c] = await three();
    a.onQuery('q', () => 'a');
    b.onQuery('q', () => new Promise(() => undefined)); // never answers: the query must not wait for it
    // c has no handler: it answers with an error
    const r = await a.query('q', null, { timeoutMs: 300 });
    expect(r.results).toEqual([{ node: 'a', result: 'a' }]);
    expect(r.errors.map((e) => [e.node, e.error.code])).toEqual([['c', 'UNKNOWN_QUERY']]);
    expect(r.missing).toEqual(['b']);
    expect(r.complete).toBe(false);

    c.onQuery('q', () => { throw new Error('boom'); });
    await c.halt(); // and now c is gone without a word
    const r2 = await a.query('q', null, { timeoutMs: 200, nodes: ['a', 'c'] });
    expect(r2.results.map((x) => x.node)).toEqual(['a']);
    expect(r2.missing).toEqual(['c']);
  });

  it('a handler error comes back as an error, not a hang', async () => {
    const [a, b] = await three();
    b.onQuery('fail', () => {
      throw new Error('nope');
    });
    const r = await a.query('fail', null, { nodes: ['b'] });
    expect(r.errors).toEqual([{ node: 'b', error: { code: 'HANDLER_ERROR', message: 'nope' } }]);
  });
});
