import type { ScenarioResult } from '../driver/scenario.js';
import type { Bus, Fault } from '../types.js';

/** A row of the table: a finished run, or one that was skipped or failed to run. */
export type Row = { result: ScenarioResult } | { bus: Bus; fault: Fault; skipped?: string; error?: string };

const HEADER = ['bus', 'fault', 'clients', 'acked', 'delivered', 'missing', 'duplicates', 'out of order', 'signalled gaps', 'verdict', "the fault's effect"];

const cell = (s: string | number): string => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * The Markdown table of a set of runs: per bus and fault, the clients checked (every publisher
 * and subscriber stays subscribed to the room), the acked messages, and the checker's totals
 * over those clients.
 */
export function markdownTable(rows: Row[]): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (i >= 2 && i <= 8 ? '---:' : '---')).join('|')}|`];
  for (const row of rows) {
    if ('result' in row) {
      const r = row.result;
      const t = r.report.totals;
      const verdict = r.ok ? 'pass' : 'FAIL';
      lines.push(`| ${[r.bus, r.fault, r.clients.length, t.acked, t.delivered, t.missing, t.duplicates, t.outOfOrder, t.signalled, verdict, r.effect.summary].map(cell).join(' | ')} |`);
    } else {
      const why = row.skipped ? `skipped: ${row.skipped}` : `did not run: ${row.error ?? 'unknown error'}`;
      lines.push(`| ${[row.bus, row.fault, '', '', '', '', '', '', '', '-', why].map(cell).join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

/** The checker's lines and the run's numbers, for a log. */
export function details(r: ScenarioResult): string {
  const failed = Object.entries(r.publishing.failed).map(([k, v]) => `${k} ${v}`).join(', ');
  const dropped = Object.entries(r.dropped).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `${r.bus}/${r.fault} (run ${r.tag}, room ${r.room}): ${r.ok ? 'pass' : 'FAIL'}${r.settled ? '' : ' (not settled before the deadline)'}`,
    `  published ${r.publishing.sent}, acked ${r.publishing.acked} (${r.publishing.ackedAfterFault} sent after the fault was over)${failed ? `, failed: ${failed}` : ''}`,
    `  fault: ${r.effect.summary}`,
    `  envelopes dropped: ${dropped || 'none'}`,
    ...r.lines.split('\n').map((l) => `  ${l}`),
    ...r.clients.map((c) => `  ${c.name}: nodes ${c.nodes.join(' -> ')}${c.closeCodes.length ? `, closes ${c.closeCodes.join(' ')}` : ''}${c.gapFlags ? `, subscribed with gap ${c.gapFlags}` : ''}${c.gapEvents ? `, gap events ${c.gapEvents}` : ''}${c.subscribedNow ? '' : ', NOT subscribed at the end'}`),
    ...aroundMissing(r),
    `  setup ${r.timings.setupMs} ms, publishing ${r.timings.publishMs} ms, settling ${r.timings.settleMs} ms, total ${r.timings.totalMs} ms`,
  ].join('\n');
}

/** Events of the log kept on each side of a client's first missing offset. */
const AROUND = 10;

/**
 * For each client that missed something: what it saw around the first missing offset (the
 * connection it was on, resumes, the messages and gaps just before and after), from its event log.
 */
export function aroundMissing(r: Pick<ScenarioResult, 'report' | 'clients'>): string[] {
  const out: string[] = [];
  for (const c of r.report.clients) {
    const range = c.missingRanges[0];
    const trace = r.clients.find((t) => t.name === c.client);
    if (!range || !trace) continue;
    const events = trace.events;
    // the last event at or before the hole, and the first after it
    let i = events.findIndex((e) => e.offset !== undefined && e.offset > range.to);
    if (i < 0) i = events.length;
    const from = Math.max(0, i - 2 * AROUND);
    const t0 = events[from]?.at ?? 0;
    out.push(`  ${c.client} missed ${range.from === range.to ? range.from : `${range.from}..${range.to}`}; what it saw around it:`);
    for (const e of events.slice(from, i + AROUND)) out.push(`    +${e.at - t0} ms ${e.text}`);
  }
  return out;
}
