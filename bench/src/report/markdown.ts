import { SCENARIOS, type ScenarioName } from '../types.js';
import { label, type Aggregate } from './aggregate.js';

/** Columns of each scenario's table: [metric, header]. */
export const COLUMNS: Record<ScenarioName, Array<[string, string]>> = {
  fanout: [
    ['deliveries_per_s', 'deliveries/s'],
    ['same_p50_ms', 'same p50 ms'],
    ['same_p99_ms', 'same p99 ms'],
    ['cross_p50_ms', 'cross p50 ms'],
    ['cross_p95_ms', 'cross p95 ms'],
    ['cross_p99_ms', 'cross p99 ms'],
    ['cross_max_ms', 'cross max ms'],
    ['lost', 'lost'],
    ['cpu_s_nodes_total', 'CPU s (nodes)'],
  ],
  saturation: [
    ['saturation_deliveries_per_s', 'deliveries/s at saturation'],
    ['ratio_vs_socketio', 'x Socket.IO'],
    ['saturation_offered_msgs_per_s', 'at offered msg/s'],
    ['loss_pct', 'lost %'],
    ['cpu_s_nodes_total', 'CPU s (nodes)'],
  ],
  'small-rooms': [
    ['deliveries_per_s', 'deliveries/s'],
    ['rooms', 'rooms'],
    ['same_p99_ms', 'same p99 ms'],
    ['cross_p50_ms', 'cross p50 ms'],
    ['cross_p99_ms', 'cross p99 ms'],
    ['cross_max_ms', 'cross max ms'],
    ['lost', 'lost'],
    ['cpu_s_nodes_total', 'CPU s (nodes)'],
  ],
  'idle-memory': [
    ['rss_kb_per_conn_1k', 'RSS KB/conn @1k'],
    ['rss_kb_per_conn_10k', 'RSS KB/conn @10k'],
    ['rss_kb_per_conn_19k', 'RSS KB/conn @19k'],
    ['heap_kb_per_conn_19k', 'heap KB/conn @19k'],
    ['rss_mb_19k', 'RSS MB @19k'],
  ],
  'connect-storm': [
    ['connections_per_s', 'connections/s'],
    ['connections', 'connections'],
    ['connect_p50_ms', 'p50 ms'],
    ['connect_p99_ms', 'p99 ms'],
    ['failed', 'failed'],
  ],
  failover: [
    ['clients_on_killed_node', 'clients moved'],
    ['declared_dead_ms', 'declared dead ms'],
    ['receiving_again_p50_ms', 'receiving again p50 ms'],
    ['receiving_again_p99_ms', 'p99 ms'],
    ['receiving_again_max_ms', 'max ms'],
    ['never_recovered', 'never recovered'],
    ['lost', 'messages lost'],
    ['history', 'history'],
  ],
  scale: [
    ['target', 'target'],
    ['connected', 'connected'],
    ['held_min', 'held (min)'],
    ['broadcast_reached', 'broadcast reached'],
    ['broadcast_missed', 'missed'],
    ['connect_seconds', 'connect s'],
    ['connections_per_s', 'conn/s'],
    ['node_processes', 'node procs'],
    ['rss_mb_max_node', 'max node RSS MB'],
  ],
};

export const TITLES: Record<ScenarioName, string> = {
  fanout: 'Fan-out (one room over N nodes)',
  saturation: 'Saturation (fan-out at the highest rate it sustains)',
  'small-rooms': 'Small rooms (chat-like)',
  'idle-memory': 'Idle memory per connection (one node process, after GC)',
  'connect-storm': 'Connect storm (one node)',
  failover: 'Failover (kill -9 a node while a room streams)',
  scale: 'Scale (concurrent connections held, then one broadcast)',
};

export function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Number.isInteger(v)) return String(v);
  return String(Math.round(v * 100) / 100);
}

/** Add the Switchyard/Socket.IO ratios the tables show. */
export function withRatios(aggs: Aggregate[]): Aggregate[] {
  const sio = aggs.find((a) => a.scenario === 'saturation' && a.system === 'socketio')?.metrics.saturation_deliveries_per_s;
  return aggs.map((a) => (a.scenario === 'saturation' && sio ? { ...a, metrics: { ...a.metrics, ratio_vs_socketio: a.metrics.saturation_deliveries_per_s! / sio } } : a));
}

/** Settings line of a scenario (from its first run). */
export function settingsLine(a: Aggregate | undefined): string {
  const s = a?.representative?.settings;
  if (!s) return '';
  const parts = [`${s.nodes} node${s.nodes > 1 ? 's' : ''}`, `${s.clients.toLocaleString('en-US')} clients`];
  if (['fanout', 'small-rooms', 'failover'].includes(s.scenario)) parts.push(`${s.rate} msg/s`, `${s.duration} s`);
  if (s.scenario === 'saturation') parts.push(`offered ${s.rate / 4}..${s.rate * 8} msg/s in 6 steps`);
  if (s.scenario === 'small-rooms') parts.push(`rooms of ${s.roomSize}`);
  if (s.scenario === 'scale') parts.push(`held ${s.duration} s`);
  parts.push(`${s.payloadBytes} B payload`);
  return parts.join(', ');
}

/** One Markdown table per scenario, rows in a stable order. */
export function markdown(aggs: Aggregate[]): string {
  const out: string[] = [];
  const order = (s: string) => (s === 'socketio' ? 100 : s === 'ws' ? 101 : 0);
  for (const sc of SCENARIOS) {
    const rows = aggs.filter((a) => a.scenario === sc).sort((a, b) => order(a.system) - order(b.system));
    if (!rows.length) continue;
    const cols = COLUMNS[sc];
    out.push(`### ${TITLES[sc]}`, '', `_${settingsLine(rows[0])}; medians of ${Math.max(...rows.map((r) => r.runs))} run(s)_`, '');
    out.push(`| system | ${cols.map((c) => c[1]).join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`);
    for (const r of rows) {
      const cells = r.failed === r.runs ? cols.map((_, i) => (i === 0 ? `failed: ${(r.errors[0] ?? '').slice(0, 80)}` : '')) : cols.map(([k]) => fmt(r.metrics[k]));
      out.push(`| ${label(r.system)}${r.failed && r.failed < r.runs ? ` (${r.failed}/${r.runs} failed)` : ''} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
