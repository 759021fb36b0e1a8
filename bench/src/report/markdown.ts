import { SCENARIOS, type ScenarioName, type System } from '../types.js';
import { label, systemOrder, type Aggregate } from './aggregate.js';

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
    ['node_cpu_us_per_delivery', 'node CPU µs/delivery'],
    ['messages_per_frame', 'msgs/frame'],
  ],
  saturation: [
    ['saturation_deliveries_per_s', 'deliveries/s at saturation'],
    ['ratio_vs_socketio', 'x Socket.IO'],
    ['saturation_offered_msgs_per_s', 'at offered msg/s'],
    ['loss_pct', 'lost %'],
    ['cpu_s_nodes_total', 'CPU s (nodes)'],
    ['node_cpu_us_per_delivery', 'node CPU µs/delivery (best step)'],
    ['node_cpu_cores', 'node cores busy (best step)'],
    ['messages_per_frame', 'msgs/frame (best step)'],
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
    ['node_cpu_us_per_delivery', 'node CPU µs/delivery'],
    ['messages_per_frame', 'msgs/frame'],
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
    ['node_cpu_us_per_connection', 'node CPU µs/connection'],
    ['connections', 'connections'],
    ['connect_p50_ms', 'p50 ms'],
    ['connect_p99_ms', 'p99 ms'],
    ['failed', 'failed'],
  ],
  failover: [
    ['clients_on_killed_node', 'clients displaced'],
    ['dropped_on_surviving_nodes', 'dropped by survivors'],
    ['dropped_before_kill', 'dropped before the kill'],
    ['declared_dead_ms', 'declared dead ms'],
    ['receiving_again_p50_ms', 'receiving again p50 ms'],
    ['receiving_again_p99_ms', 'p99 ms'],
    ['receiving_again_max_ms', 'max ms'],
    ['never_recovered', 'never recovered'],
    ['lost', 'messages lost'],
    ['gapped_messages', 'of them told (gap)'],
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
  const nodes = s.scenario === 'connect-storm' || s.scenario === 'idle-memory' ? 1 : s.scenario === 'failover' ? Math.max(2, s.nodes) : s.nodes;
  const parts = [`${nodes} node${nodes > 1 ? 's' : ''}`, `${s.clients.toLocaleString('en-US')} clients`];
  if (['fanout', 'small-rooms', 'failover'].includes(s.scenario)) parts.push(`${s.rate} msg/s`, `${s.duration} s`);
  if (s.scenario === 'saturation') parts.push(`offered ${s.rate / 4}..${s.rate * 8} msg/s in 6 steps`);
  if (s.scenario === 'small-rooms') parts.push(`rooms of ${s.roomSize}`);
  if (s.scenario === 'scale') parts.push(`held ${s.duration} s`);
  parts.push(`${s.payloadBytes} B payload`);
  return parts.join(', ');
}

/** The columns of the headline table: [scenario, metric, header]. */
export const HEADLINE: Array<[ScenarioName, string, string]> = [
  ['saturation', 'node_cpu_us_per_delivery', 'node CPU µs/delivery, saturation (best step)'],
  ['fanout', 'node_cpu_us_per_delivery', 'node CPU µs/delivery, fan-out'],
  ['small-rooms', 'node_cpu_us_per_delivery', 'node CPU µs/delivery, small rooms'],
  ['saturation', 'messages_per_frame', 'messages per frame, saturation (best step)'],
  ['fanout', 'messages_per_frame', 'messages per frame, fan-out'],
  ['connect-storm', 'connections_per_s', 'connections/s, connect storm'],
  ['connect-storm', 'node_cpu_us_per_connection', 'node CPU µs/connection, connect storm'],
  ['saturation', 'saturation_deliveries_per_s', 'deliveries/s at saturation'],
];

/**
 * The figures that lead: node CPU per delivery (node processes only, so it does not depend on
 * how much CPU the client processes take), messages per WebSocket frame, and connect rate, per
 * system side by side. Empty when none of their scenarios ran.
 */
export function headline(aggs: Aggregate[]): string {
  const cols = HEADLINE.filter(([sc]) => aggs.some((a) => a.scenario === sc));
  if (!cols.length) return '';
  const systems = [...new Set(aggs.filter((a) => cols.some(([sc]) => sc === a.scenario)).map((a) => a.system))].sort((a, b) => systemOrder(a) - systemOrder(b));
  const cell = (system: System, sc: ScenarioName, k: string) => {
    const a = aggs.find((g) => g.system === system && g.scenario === sc);
    return a && a.failed < a.runs ? fmt(a.metrics[k]) : a ? 'failed' : 'not run';
  };
  return [
    '### Node CPU per delivery, messages per frame, connect rate',
    '',
    '_Node CPU µs per delivery: CPU (user + system) of the node processes only, divided by the deliveries clients received in the same window (fan-out, small rooms: from the first publish to the last delivery; saturation: the best step). Messages per frame: messages written to sockets ÷ WebSocket frames carrying them (Switchyard: its `switchyard_ws_messages_sent_total` ÷ `switchyard_ws_frames_written_total`; Socket.IO: engine.io message packets, one frame each; raw ws: one frame per message per socket; ws + batching: its batch frames). Higher is fewer writes. Connect rate: connections one node accepts per second (handshake and room join included); node CPU µs per connection: the node CPU over the storm ÷ connections accepted._',
    '',
    `| system | ${cols.map((c) => c[2]).join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|`,
    ...systems.map((s) => `| ${label(s)} | ${cols.map(([sc, k]) => cell(s, sc, k)).join(' | ')} |`),
    '',
  ].join('\n');
}

/** The headline table, then one Markdown table per scenario, rows in a stable order. */
export function markdown(aggs: Aggregate[], o: { headline?: boolean } = {}): string {
  const out: string[] = [];
  const lead = o.headline === false ? '' : headline(aggs);
  if (lead) out.push(lead);
  for (const sc of SCENARIOS) {
    const rows = aggs.filter((a) => a.scenario === sc).sort((a, b) => systemOrder(a.system) - systemOrder(b.system));
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
