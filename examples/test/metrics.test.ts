/**
 * The Grafana dashboard (examples/deploy/grafana-dashboard.json) queries only metrics a node
 * really exports: a real node (createCluster with `defaultMetrics`, createNode) serves a client
 * that sends a room message, its /metrics is scraped, and every metric name in every `expr` of
 * the dashboard must be there (a histogram as `_bucket`, `_sum`, `_count`). No exported name
 * repeats a prefix (`switchyard_process_process_...`).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createCluster, MemoryHub } from '@switchyard/core';
import { createNode, type SwitchyardNode } from '@switchyard/transport-ws';
import { createClient, type SwitchyardClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { waitFor } from './helpers.js';

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads: identifiers left once strings, label matchers
 * `{...}`, ranges `[...]` and grouping clauses `by (...)` are removed, minus function calls
 * (an identifier followed by `(`) and keywords.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m as unknown as [string, string, string | undefined];
    if (!call && !PROMQL_WORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

/** Every `expr` in a Grafana dashboard, however deeply its panels nest. */
function exprs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(exprs);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === 'expr' && typeof v === 'string' ? [v] : exprs(v)));
  }
  return [];
}

/** Sample names a scrape holds, from its `# TYPE` lines (histograms and summaries with their series). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm) as Iterable<[string, string, string]>) {
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

describe('metric names', () => {
  it('metricNames reads metrics out of PromQL, not functions, labels or ranges', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, node) (rate(a_seconds_bucket{x="y"}[5m])))')).toEqual(['a_seconds_bucket']);
    expect(metricNames('max by (node) (up) > 0 or on (node) b_total offset 5m')).toEqual(['up', 'b_total']);
    expect(metricNames('increase(c_total{reason=~"forged|unsigned"}[$__rate_interval]) > 0')).toEqual(['c_total']);
  });

  describe('a node with default metrics', () => {
    let node: SwitchyardNode | undefined;
    let client: SwitchyardClient | undefined;
    afterAll(async () => {
      client?.close();
      await node?.close({ graceMs: 0 });
    });

    it('exports every metric the Grafana dashboard queries, and no doubled prefix', async () => {
      const cluster = createCluster({ hub: new MemoryHub(), nodeId: 'metrics-1', defaultMetrics: true, history: true });
      node = createNode({ cluster, port: 0 });
      await node.start();
      client = createClient({ url: node.url, WebSocket: WebSocket as unknown as WebSocketConstructor });
      const room = client.room('lobby');
      const got: unknown[] = [];
      room.on('message', (m) => got.push(m.data));
      await client.ready();
      await waitFor(() => room.state === 'subscribed', 'the client in the room');
      await room.publish('chat', { text: 'hello' });
      await waitFor(() => got.length === 1, 'the room message back');

      const res = await fetch(node.url.replace(/^ws/, 'http').replace(/\/ws$/, '/metrics'));
      expect(res.status).toBe(200);
      const exported = exportedNames(await res.text());

      const dashboard = JSON.parse(readFileSync(new URL('../deploy/grafana-dashboard.json', import.meta.url), 'utf8')) as unknown;
      const queried = [...new Set(exprs(dashboard).flatMap(metricNames))].sort();
      expect(queried.length).toBeGreaterThan(20);
      expect(queried).toEqual(expect.arrayContaining(['switchyard_process_cpu_seconds_total', 'switchyard_nodejs_eventloop_lag_p99_seconds', 'switchyard_bus_latency_seconds_bucket']));
      expect(queried.filter((name) => !exported.has(name)), 'queried by the dashboard but not exported').toEqual([]);

      expect(exported).toContain('switchyard_process_cpu_seconds_total');
      const doubled = [...exported].filter((name) => /(?:^|_)([a-z0-9]+)_\1(?:_|$)/.test(name) || name.split('switchyard_').length > 2);
      expect(doubled, 'names with a repeated prefix').toEqual([]);
      expect([...exported].filter((name) => !name.startsWith('switchyard_')), 'names outside our prefix').toEqual([]);
    });
  });
});
