import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { defaults } from '../services/backends.js';
import type { System } from '../types.js';
import { cpus } from 'node:os';
import { label, median, type Aggregate } from './aggregate.js';
import { fmt, headline, markdown } from './markdown.js';
import { NOT_RUN } from '../plan.js';

const require = createRequire(import.meta.url);
const REPO = fileURLToPath(new URL('../../..', import.meta.url));

function pkgVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 6; i++) {
      try {
        const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (p.name === name) return p.version ?? '?';
      } catch {
        // keep walking up
      }
      dir = dirname(dir);
    }
  } catch {
    // not installed
  }
  return 'not installed';
}

const tryRun = (f: () => string): string => {
  try {
    return f();
  } catch {
    return 'unknown';
  }
};

/** Versions of everything measured: libraries and the servers they talked to. */
export async function versions(): Promise<Record<string, string>> {
  const v: Record<string, string> = { node: process.version };
  for (const p of ['socket.io', '@socket.io/redis-adapter', 'socket.io-client', 'ws', 'ioredis', 'kafkajs', 'pg', '@nats-io/transport-node', 'hdr-histogram-js']) v[p] = pkgVersion(p);
  v.switchyard = tryRun(() => (JSON.parse(readFileSync(join(REPO, 'packages/core/package.json'), 'utf8')) as { version: string }).version);
  const r = new Redis(defaults.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    v['redis-server'] = /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? 'unknown';
  } catch {
    v['redis-server'] = 'unknown';
  } finally {
    r.disconnect();
  }
  v['nats-server'] = tryRun(() => execFileSync('nats-server', ['--version'], { encoding: 'utf8', timeout: 5000 }).trim().replace(/^nats-server:\s*/, ''));
  v.postgres = tryRun(() => execFileSync('psql', ['-tA', defaults.postgresUrl, '-c', 'SHOW server_version'], { encoding: 'utf8', timeout: 5000 }).trim());
  v.kafka = process.env.KAFKA_VERSION ?? tryRun(() => /KAFKA_VERSION:-([\d.]+)/.exec(readFileSync(join(REPO, 'scripts/kafka.sh'), 'utf8'))?.[1] ?? 'unknown');
  return v;
}

interface Meta {
  command: string;
  when: string;
  machine: string;
  versions: Record<string, string>;
  skipped: Record<string, string>;
  repeat: number;
  minutes: number;
  /** 1-minute load averages sampled at the start and end of every run. */
  loads?: number[];
  /** The command that rendered this file again from saved runs, if it was not the run itself. */
  rendered?: string | undefined;
}

const get = (aggs: Aggregate[], scenario: string, system: System) => aggs.find((a) => a.scenario === scenario && a.system === system && a.failed < a.runs);
const buses = (aggs: Aggregate[], scenario: string) => aggs.filter((a) => a.scenario === scenario && a.system.startsWith('switchyard-') && a.failed < a.runs);
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
const x = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '–');

interface Verdict {
  target: string;
  measured: string;
  met: boolean | undefined;
  why: string;
}

/** Percent of `a` in `b`. */
const pc = (a: number | undefined, b: number | undefined) => {
  const r = ratio(a, b);
  return Number.isFinite(r) ? `${Math.round(r * 100)} %` : '–';
};
const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
const m = (a: Aggregate | undefined, k: string): number | undefined => a?.metrics[k];

/** A saturation run that delivered its highest offered step in full never found its ceiling. */
function unsaturated(a: Aggregate | undefined): boolean {
  const s = a?.representative?.settings;
  if (!a || !s) return false;
  const top = Math.round(s.rate * 8);
  return a.metrics.saturation_offered_msgs_per_s === top && (a.metrics.saturation_deliveries_per_s ?? 0) >= 0.95 * top * s.clients;
}

/**
 * Node CPU per delivery of two saturation runs at one offered rate: the highest step both
 * delivered in full (95 %). Batching grows with the rate, so figures from each system's own best
 * step compare two different loads; this compares one.
 */
function atOneRate(a: Aggregate | undefined, b: Aggregate | undefined): { rate: number; a: number; b: number; mpfA: number; mpfB: number } | undefined {
  const sa = a?.representative?.series;
  const sb = b?.representative?.series;
  const clients = a?.representative?.settings.clients ?? 0;
  if (!sa?.offered || !sb?.offered || !sa.node_cpu_us_per_delivery || !sb.node_cpu_us_per_delivery || clients <= 0) return undefined;
  const kept = (s: Record<string, Array<[number, number]>>, i: number) => (s.delivered?.[i]?.[1] ?? 0) >= 0.95 * (s.offered?.[i]?.[1] ?? Infinity);
  for (let i = Math.min(sa.offered.length, sb.offered.length) - 1; i >= 0; i--) {
    if (sa.offered[i]?.[1] !== sb.offered[i]?.[1] || !kept(sa, i) || !kept(sb, i)) continue;
    const ca = sa.node_cpu_us_per_delivery[i]?.[1] ?? NaN;
    const cb = sb.node_cpu_us_per_delivery[i]?.[1] ?? NaN;
    if (!Number.isFinite(ca) || !Number.isFinite(cb)) continue;
    return { rate: (sa.offered[i]?.[1] ?? 0) / clients, a: ca, b: cb, mpfA: sa.messages_per_frame?.[i]?.[1] ?? NaN, mpfB: sb.messages_per_frame?.[i]?.[1] ?? NaN };
  }
  return undefined;
}

/** Each target of issue 12 against the figures, with a reason computed from them where it falls short. */
function verdicts(aggs: Aggregate[]): Verdict[] {
  const out: Verdict[] = [];
  const cores = cpus().length;
  const sio = (sc: string) => get(aggs, sc, 'socketio');
  const ref = (sc: string) => get(aggs, sc, 'switchyard-redis');
  const raw = (sc: string) => get(aggs, sc, 'ws');
  const batched = (sc: string) => get(aggs, sc, 'ws-batch');

  // 1. saturated fan-out over Redis >= 8x Socket.IO deliveries/s
  {
    const a = m(ref('saturation'), 'saturation_deliveries_per_s');
    const b = m(sio('saturation'), 'saturation_deliveries_per_s');
    const r = ratio(a, b);
    const met = Number.isFinite(r) ? r >= 8 : undefined;
    const cpuSy = m(ref('saturation'), 'node_cpu_us_per_delivery');
    const cpuSio = m(sio('saturation'), 'node_cpu_us_per_delivery');
    const cpuRatio = ratio(cpuSio, cpuSy);
    const busy = m(ref('saturation'), 'node_cpu_cores');
    let why = '';
    if (met === false) {
      why = `Per delivery the Redis-bus nodes spent ${fmt(cpuSy)} µs of CPU against Socket.IO's ${fmt(cpuSio)} µs (Socket.IO ÷ Redis bus = ${x(cpuRatio)}).`;
      if (Number.isFinite(cpuRatio) && cpuRatio < 8) why += ` Were node CPU the bound for both, the ratio would be near ${x(cpuRatio)}; for 8x the nodes' CPU per delivery has to fall to Socket.IO's ÷ 8 (${fmt((cpuSio ?? NaN) / 8)} µs).`;
      else if (Number.isFinite(cpuRatio)) why += ` Node CPU alone would allow ${x(cpuRatio)}.`;
      if (finite(busy)) why += ` At the best step the Redis-bus nodes kept ${fmt(busy)} of ${cores} cores busy${busy < 0.9 * cores ? '; the rest went to the client processes, Redis and any other work on the machine' : ''}.`;
      if (unsaturated(ref('saturation')) || unsaturated(sio('saturation'))) why += ` ${[ref('saturation'), sio('saturation')].filter(unsaturated).map((g) => label((g as Aggregate).system)).join(' and ')} delivered even the highest offered step in full: not saturated, so the ratio says little; run with a higher --rate.`;
    }
    out.push({
      target: 'saturated fan-out over the Redis bus: >= 8x Socket.IO deliveries/s',
      measured: `Redis bus ${fmt(a)}/s vs Socket.IO ${fmt(b)}/s = ${x(r)} (raw ws ${fmt(m(raw('saturation'), 'saturation_deliveries_per_s'))}/s, raw ws + room batching ${fmt(m(batched('saturation'), 'saturation_deliveries_per_s'))}/s; raw ws is 1 node, the batched ceiling as many nodes as the cluster)`,
      met,
      why,
    });
  }
  // 2. node CPU per delivery <= 1.5x the ws-batch ceiling
  {
    const a = m(ref('saturation'), 'node_cpu_us_per_delivery');
    const c = m(batched('saturation'), 'node_cpu_us_per_delivery');
    const r = ratio(a, c);
    const met = Number.isFinite(r) ? r <= 1.5 : undefined;
    const mpfSy = m(ref('saturation'), 'messages_per_frame');
    const mpfC = m(batched('saturation'), 'messages_per_frame');
    const same = atOneRate(ref('saturation'), batched('saturation'));
    const sameText = same
      ? `; at one offered rate, the highest both delivered in full (${fmt(same.rate)} msg/s): Redis bus ${fmt(same.a)} µs vs ceiling ${fmt(same.b)} µs = ${x(ratio(same.a, same.b))}, messages per frame ${fmt(same.mpfA)} vs ${fmt(same.mpfB)}`
      : '';
    let why = '';
    if (met === false) {
      why = `The Redis-bus nodes spent ${fmt(a)} µs per delivery, the batched ceiling ${fmt(c)} µs (${x(r)}).`;
      if (finite(mpfSy) && finite(mpfC)) {
        why +=
          mpfSy * 1.2 < mpfC
            ? ` The ceiling wrote ${fmt(mpfC)} messages per frame, the Redis-bus nodes ${fmt(mpfSy)}: ${x(mpfC / mpfSy)} as many socket writes per delivery.`
            : ` Messages per frame are close (Redis bus ${fmt(mpfSy)}, ceiling ${fmt(mpfC)}), so the difference is work per message other than socket writes; the ceiling's nodes share each message over a bare TCP mesh, while each Switchyard node receives every message from the bus with its envelope, order and delivery bookkeeping.`;
      } else why += ' Messages per frame were not measured for both, so the figures do not say where the difference is.';
    }
    out.push({
      target: 'saturated fan-out over the Redis bus: node CPU per delivery <= 1.5x the raw ws + room batching ceiling',
      measured: `Redis bus ${fmt(a)} µs vs ceiling ${fmt(c)} µs = ${x(r)} (Socket.IO ${fmt(m(sio('saturation'), 'node_cpu_us_per_delivery'))} µs, raw ws ${fmt(m(raw('saturation'), 'node_cpu_us_per_delivery'))} µs); messages per frame: Redis bus ${fmt(mpfSy)}, ceiling ${fmt(mpfC)} (each at its best step)${sameText}`,
      met,
      why,
    });
  }
  // 3. light fan-out: cross-node p99 no worse than raw ws without batching
  {
    const f = ref('fanout');
    const a = m(f, 'cross_p99_ms');
    const b = m(raw('fanout'), 'same_p99_ms');
    const sameSy = m(f, 'same_p99_ms');
    const st = f?.representative?.settings;
    const met = finite(a) && finite(b) ? a <= b : undefined;
    let why = '';
    if (met === false) {
      why = `Redis-bus cross-node p99 ${fmt(a)} ms against raw ws's ${fmt(b)} ms (raw ws is one node: all its deliveries are same-node).`;
      if (finite(sameSy) && finite(b)) why += sameSy <= b ? ` Its same-node p99 (${fmt(sameSy)} ms, clients on the publishing node) is within raw ws's, so the extra tail is on the cross-node path (cross-node p50 ${fmt(m(f, 'cross_p50_ms'))} ms, same-node p50 ${fmt(m(f, 'same_p50_ms'))} ms).` : ` Its same-node p99 (${fmt(sameSy)} ms, clients on the publishing node) is above raw ws's too, so the cross-node hop is not the whole difference.`;
    }
    out.push({
      target: 'fan-out at 20 msg/s to 2,000 clients: cross-node p99 no worse than raw ws without batching',
      measured: `Redis bus cross-node p99 ${fmt(a)} ms vs raw ws p99 ${fmt(b)} ms (${x(ratio(a, b))}); raw ws + batching ${fmt(m(batched('fanout'), 'same_p99_ms'))} ms; Socket.IO cross-node ${fmt(m(sio('fanout'), 'cross_p99_ms'))} ms${st && (st.rate !== 20 || st.clients !== 2000) ? `; run at ${st.rate} msg/s to ${st.clients.toLocaleString('en-US')} clients` : ''}`,
      met: st && (st.rate !== 20 || st.clients !== 2000) ? undefined : met,
      why,
    });
  }
  // 4. connect storm >= 80 % of raw ws
  {
    const a = m(ref('connect-storm'), 'connections_per_s');
    const b = m(raw('connect-storm'), 'connections_per_s');
    const mem = m(get(aggs, 'connect-storm', 'switchyard-memory'), 'connections_per_s');
    const r = ratio(a, b);
    const met = Number.isFinite(r) ? r >= 0.8 : undefined;
    let why = '';
    if (met === false) {
      why = `A Switchyard node on the Redis bus accepted ${fmt(a)} connections/s, raw ws ${fmt(b)}/s (connect p50 ${fmt(m(ref('connect-storm'), 'connect_p50_ms'))} ms vs ${fmt(m(raw('connect-storm'), 'connect_p50_ms'))} ms).`;
      if (finite(mem) && finite(b)) why += mem / b >= 0.8 ? ` On the in-memory bus (no store over the network) the same node reaches ${pc(mem, b)}: the gap on Redis is the session store and registry round trips.` : ` Even on the in-memory bus (no store over the network) it reaches only ${pc(mem, b)}, so most of the gap is the node's own hello path, not the store.`;
    }
    out.push({
      target: 'connect storm on the Redis bus: >= 80 % of raw ws connections/s',
      measured: `Redis bus ${fmt(a)}/s = ${pc(a, b)} of raw ws ${fmt(b)}/s (in-memory bus ${fmt(mem)}/s, Socket.IO ${fmt(m(sio('connect-storm'), 'connections_per_s'))}/s, raw ws + batching ${fmt(m(batched('connect-storm'), 'connections_per_s'))}/s)`,
      met,
      why,
    });
  }
  // 5. failover of 1,000 displaced clients
  {
    const f = ref('failover');
    const moved = m(f, 'clients_on_killed_node');
    const max = m(f, 'receiving_again_max_ms');
    const lost = m(f, 'lost');
    const never = m(f, 'never_recovered');
    const hist = m(f, 'history');
    const enough = finite(moved) && moved >= 1000;
    const ok = f ? (max ?? Infinity) <= 1000 && lost === 0 && never === 0 && hist === 1 : undefined;
    const met = f && !enough ? undefined : ok;
    const others = buses(aggs, 'failover')
      .filter((g) => g.system !== 'switchyard-redis')
      .map((g) => `${g.system.slice(11)}: max ${fmt(m(g, 'receiving_again_max_ms'))} ms, lost ${fmt(m(g, 'lost'))}`)
      .join('; ');
    const s = sio('failover');
    let why = '';
    if (ok === false) {
      const rmax = m(f, 'reconnected_max_ms');
      if (finite(max) && max > 1000) {
        why +=
          finite(rmax) && rmax > 1000
            ? `Reconnecting itself took up to ${fmt(rmax)} ms (p50 ${fmt(m(f, 'reconnected_p50_ms'))} ms; the killed node was declared dead after ${fmt(m(f, 'declared_dead_ms'))} ms).`
            : `Every client had reconnected within ${fmt(rmax)} ms (p50 ${fmt(m(f, 'reconnected_p50_ms'))} ms); the rest of the ${fmt(max)} ms until the last one received again lies between its hello and its first message (resume and replay).`;
      }
      const dropped = m(f, 'dropped_on_surviving_nodes') ?? 0;
      const early = m(f, 'dropped_before_kill') ?? 0;
      const again = m(f, 'cut_off_more_than_once') ?? 0;
      if (dropped > 0) why += ` Besides the ${fmt(moved)} displaced clients, ${fmt(dropped)} clients of the surviving node${(f?.representative?.settings.nodes ?? 2) > 2 ? 's' : ''} lost their connection after the kill too (counted in the times above).`;
      if (early > 0) why += ` ${fmt(early)} clients lost their connection before the kill.`;
      if (again > 0) why += ` ${fmt(again)} clients lost their connection more than once in the run.`;
      if (dropped > 0 || early > 0) why += ' The close codes are in the run notes.';
      if ((lost ?? 0) > 0 || (never ?? 0) > 0) why += ` ${fmt(lost)} messages were counted lost, ${fmt(never)} clients never received again before the run ended.`;
      if (hist !== 1) why += ' The run had no history.';
    }
    out.push({
      target: 'failover of 1,000 displaced clients: all receiving again <= 1 s, 0 lost with history',
      measured: f
        ? `Redis bus, ${fmt(moved)} clients displaced${(m(f, 'dropped_on_surviving_nodes') ?? 0) > 0 ? ` (and ${fmt(m(f, 'dropped_on_surviving_nodes'))} dropped by the surviving node)` : ''}${(m(f, 'dropped_before_kill') ?? 0) > 0 ? `, ${fmt(m(f, 'dropped_before_kill'))} clients dropped before the kill` : ''}: receiving again p50 ${fmt(m(f, 'receiving_again_p50_ms'))} / p99 ${fmt(m(f, 'receiving_again_p99_ms'))} / max ${fmt(max)} ms, lost ${fmt(lost)}, never recovered ${fmt(never)}, duplicates ${fmt(m(f, 'duplicates_seen'))}${enough ? '' : ' (fewer than the 1,000 the target is about: no verdict)'}${others ? ` (${others})` : ''}${s ? `; Socket.IO receiving again max ${fmt(m(s, 'receiving_again_max_ms'))} ms, lost ${fmt(m(s, 'lost'))}` : ''}`
        : 'not run',
      met,
      why: why.trim(),
    });
  }
  // 6. idle memory at 10,000 connections
  {
    const sy = get(aggs, 'idle-memory', 'switchyard-redis');
    const v = m(sy, 'rss_kb_per_conn_10k');
    const w = m(raw('idle-memory'), 'rss_kb_per_conn_10k');
    const met = finite(v) ? v <= 8 : undefined;
    const heapSy = m(sy, 'heap_kb_per_conn_10k');
    const heapW = m(raw('idle-memory'), 'heap_kb_per_conn_10k');
    const why =
      met === false && finite(v) && finite(w)
        ? `A Switchyard connection took ${fmt(v - w)} KB more RSS than a raw ws socket (${fmt(w)} KB)${finite(heapSy) && finite(heapW) ? `, ${fmt(heapSy - heapW)} KB of it JS heap (${fmt(heapSy)} vs ${fmt(heapW)} KB per connection)` : ''}.`
        : '';
    out.push({
      target: 'idle memory: <= 8 KB RSS per connection at 10,000 connections',
      measured: `Switchyard ${fmt(v)} KB (heap ${fmt(heapSy)} KB); Socket.IO ${fmt(m(sio('idle-memory'), 'rss_kb_per_conn_10k'))} KB; raw ws ${fmt(w)} KB; raw ws + batching ${fmt(m(batched('idle-memory'), 'rss_kb_per_conn_10k'))} KB`,
      met,
      why,
    });
  }
  return out;
}

/** A short reading of the figures, filled in from them. */
function reading(aggs: Aggregate[]): string[] {
  const lines: string[] = [];
  const sat = buses(aggs, 'saturation').sort((a, b) => (b.metrics.saturation_deliveries_per_s ?? 0) - (a.metrics.saturation_deliveries_per_s ?? 0));
  const sio = get(aggs, 'saturation', 'socketio')?.metrics.saturation_deliveries_per_s;
  const ceilings = (['ws', 'ws-batch'] as const).map((s) => get(aggs, 'saturation', s)).filter((a): a is Aggregate => a !== undefined);
  if (sat.length || ceilings.length)
    lines.push(
      `- Throughput: at saturation ${sat.length ? `the buses rank ${sat.map((a) => `${a.system.slice(11)} (${fmt(a.metrics.saturation_deliveries_per_s)}/s, ${x(ratio(a.metrics.saturation_deliveries_per_s, sio))} Socket.IO, ${fmt(a.metrics.node_cpu_us_per_delivery)} µs node CPU per delivery)`).join(', ')}` : 'no bus ran'}${ceilings.length ? `; ceilings: ${ceilings.map((a) => `${label(a.system)} ${fmt(a.metrics.saturation_deliveries_per_s)}/s at ${fmt(a.metrics.node_cpu_us_per_delivery)} µs`).join(', ')}` : ''}.`,
    );
  const fan = buses(aggs, 'fanout').sort((a, b) => (a.metrics.cross_p99_ms ?? 0) - (b.metrics.cross_p99_ms ?? 0));
  if (fan.length) lines.push(`- Light fan-out (cross-node p99): ${fan.map((a) => `${a.system.slice(11)} ${fmt(a.metrics.cross_p99_ms)} ms`).join(', ')}; Socket.IO ${fmt(get(aggs, 'fanout', 'socketio')?.metrics.cross_p99_ms)} ms; raw ws (same-node only) ${fmt(get(aggs, 'fanout', 'ws')?.metrics.same_p99_ms)} ms. Lost messages: ${fan.map((a) => `${a.system.slice(11)} ${fmt(a.metrics.lost)}`).join(', ')}.`);
  const sr = buses(aggs, 'small-rooms');
  if (sr.length) lines.push(`- Small rooms: each node subscribes only to the rooms it has members in; node CPU per delivery: ${sr.map((a) => `${a.system.slice(11)} ${fmt(a.metrics.node_cpu_us_per_delivery)} µs`).join(', ')} vs Socket.IO ${fmt(get(aggs, 'small-rooms', 'socketio')?.metrics.node_cpu_us_per_delivery)} µs (its adapter sends every message to every node).`);
  const fo = buses(aggs, 'failover');
  if (fo.length) lines.push(`- Failover: the killed node was declared dead after ${fo.map((a) => `${a.system.slice(11)} ${fmt(a.metrics.declared_dead_ms)} ms`).join(', ')} (node timeout 1 s, heartbeat 250 ms); the clients cut off had reconnected after a median of ${fo.map((a) => `${a.system.slice(11)} ${fmt(a.metrics.reconnected_p50_ms)} ms`).join(', ')}.${get(aggs, 'failover', 'socketio') ? ` Socket.IO clients lost ${fmt(get(aggs, 'failover', 'socketio')?.metrics.lost)} messages (the Redis adapter keeps no history).` : ''}`);
  const cs = buses(aggs, 'connect-storm');
  if (cs.length) lines.push(`- Connect storm (connections/s one node accepts): ${cs.map((a) => `${a.system.slice(11)} ${fmt(a.metrics.connections_per_s)}`).join(', ')}; Socket.IO ${fmt(get(aggs, 'connect-storm', 'socketio')?.metrics.connections_per_s)}; raw ws ${fmt(get(aggs, 'connect-storm', 'ws')?.metrics.connections_per_s)}; raw ws + batching ${fmt(get(aggs, 'connect-storm', 'ws-batch')?.metrics.connections_per_s)}.`);
  lines.push('- The in-memory bus runs all its nodes in one process: its figures show the cost of the node itself without a network hop, not a deployable cluster.');
  return lines;
}

/** bench/RESULTS.md, written by the tool: nothing in it is typed by hand. */
export function resultsMarkdown(aggs: Aggregate[], meta: Meta): string {
  const v = verdicts(aggs);
  const ver = Object.entries(meta.versions).map(([k, val]) => `${k} ${val}`).join(', ');
  return [
    '# Switchyard bench results',
    '',
    '> Written by `bench` (`--write-results`); every figure below comes from the run it describes. Do not edit by hand: run the command again.',
    '',
    `- When: ${meta.when} (${meta.minutes.toFixed(1)} minutes of machine time)`,
    `- Machine: ${meta.machine}. Every process (nodes, clients, Redis, NATS, Postgres, Kafka) shares these cores, and so does any other work on the machine (see the load below).`,
    `- Command: \`${meta.command}\`${meta.rendered ? ` (this file rendered again from its saved runs with \`${meta.rendered}\`)` : ''}`,
    ...(meta.loads?.length ? [`- Machine load (1-minute load average at the start and end of each run, on ${cpus().length} cores): median ${median(meta.loads).toFixed(1)}, max ${Math.max(...meta.loads).toFixed(1)}. Above ${cpus().length} the bench's processes waited for CPU behind other work, which inflates latency tails and lowers throughput for every system alike.`] : []),
    `- Figures: medians of ${meta.repeat} run(s) of each scenario and system (idle memory and scale: one run each).`,
    `- Versions: ${ver}`,
    ...(Object.keys(meta.skipped).length ? [`- Not measured: ${Object.entries(meta.skipped).map(([b, why]) => `${b} (${why})`).join('; ')}`] : []),
    '',
    '## Node CPU per delivery, messages per frame, connect rate',
    '',
    headline(aggs).split('\n').slice(2).join('\n') || '_Not measured: fan-out, saturation, small rooms and connect storm did not run._\n',
    '## Targets (issue 12)',
    '',
    '| target | measured | verdict |',
    '|---|---|---|',
    ...v.map((t) => `| ${t.target} | ${t.measured} | ${t.met === undefined ? 'not measured' : t.met ? 'met' : '**short**'} |`),
    '',
    ...(v.some((t) => t.met === false) ? ['### Where a figure falls short, and why', '', ...v.filter((t) => t.met === false).map((t) => `- **${t.target}**: ${t.why}`), ''] : []),
    '## Reading',
    '',
    ...reading(aggs),
    '',
    '## Figures',
    '',
    'Same-node: the receiving client is on the node that published; cross-node: on another node (through the bus). Latency is end to end, from the publish call on the sending node to the client process handling the message (one clock: all processes run on this machine).',
    '',
    markdown(aggs, { headline: false }),
    '## Not run, and why',
    '',
    ...NOT_RUN.map((n) => `- ${n}`),
    '',
  ].join('\n');
}
