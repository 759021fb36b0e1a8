import { cpuMetrics, now, round, sleep, timeline, type Scenario } from './context.js';

const pct = (xs: number[], p: number): number => {
  if (!xs.length) return NaN;
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))] as number;
};

/**
 * Failover: a room with history streams from node 0; a quarter into the run the last node
 * process is killed with SIGKILL. Measures time to declared dead, time until each client cut off
 * (its own, and any a surviving node dropped meanwhile) receives again, and the messages each
 * client never got.
 */
export const failover: Scenario = async (ctx) => {
  const { h, s } = ctx;
  const history = s.system.startsWith('switchyard-');
  await Promise.all([h.startServers({ nodes: Math.max(2, s.nodes), history, clusterHeartbeatMs: 250, nodeTimeoutMs: 1000, heartbeatMs: 5000 }), h.startClients(s.clientProcesses)]);
  ctx.progress(0.15, `connecting ${s.clients} clients`);
  const room = history ? 'h-stream' : 'stream';
  const conn = await h.connect(h.specs(s.clients, () => [room]), { concurrency: 100, trackSeq: true, failover: true });
  if (conn.connected < s.clients) throw new Error(`only ${conn.connected}/${s.clients} clients connected: ${JSON.stringify(conn.errors)}`);
  const victim = h.nodes[h.nodes.length - 1]!;
  const publisher = h.nodes[0]!;
  const ms = s.duration * 1000;
  const t0 = now() + 200;
  await h.resetClients(t0);
  await h.serverStats(true);
  ctx.progress(0.3, 'streaming');
  const pubDone = publisher.proc.call<Array<{ sent: number }>>('publish', { rooms: [room], steps: [{ rate: s.rate, ms }], payloadBytes: s.payloadBytes, nodes: [publisher.id] }, ms + 60_000);
  await sleep(200 + ms / 4);
  const killAt = now();
  ctx.progress(0.45, `kill -9 ${victim.id}`);
  await victim.proc.kill();
  const sent = (await pubDone).reduce((a, p) => a + p.sent, 0);
  ctx.progress(0.85, 'waiting for resumes and replays');
  await h.waitForDeliveries(sent * s.clients, 3000, 30_000);
  const st = await h.clientStats(true);
  const cpu = await h.serverStats();
  // a node fencing itself (and lifting its fence), with why, relative to the kill
  const fences = h.events
    .filter((e) => e.event === 'fence')
    .map((e) => e.data as { node: string; fenced: boolean; reason: string | null; at: number })
    .map((f) => `${f.node} ${f.fenced ? `fenced (${f.reason ?? 'no reason'})` : 'lifted its fence'} at ${round(f.at - killAt, 0)} ms`);
  const dead = h.events.filter((e) => e.event === 'dead' && (e.data as { dead: string }).dead === victim.id).map((e) => (e.data as { at: number }).at - killAt).filter((d) => d >= 0);
  // Every client cut off at or after the kill: those of the killed node, and any a surviving node
  // dropped meanwhile. A client cut off more than once counts from the kill to the first message
  // after its last reconnect. Losses before the kill are counted apart.
  const cut = st.traces.map((t) => ({ t, eps: t.losses.filter((e) => e.lostAt >= killAt) })).filter((c) => c.eps.length > 0);
  const moved = cut.map((c) => c.t);
  const displaced = st.traces.filter((t) => t.node === victim.id).length;
  const reconnected = cut.map((c) => c.eps[0]?.reconnectedAt).filter((v): v is number => v !== undefined).map((v) => v - killAt);
  const back = cut.map((c) => c.eps[c.eps.length - 1]?.firstAfter).filter((v): v is number => v !== undefined).map((v) => v - killAt);
  const lost = st.traces.reduce((a, t) => a + Math.max(0, sent - t.distinct), 0);
  const lostMoved = moved.reduce((a, t) => a + Math.max(0, sent - t.distinct), 0);
  const reasons = (eps: Array<{ because?: string }>) => {
    const out: Record<string, number> = {};
    for (const e of eps) out[e.because ?? 'unknown'] = (out[e.because ?? 'unknown'] ?? 0) + 1;
    return Object.keys(out).length ? JSON.stringify(out) : 'none';
  };
  const gapReasons = new Map<string, number>();
  for (const t of st.traces) for (const [r, n] of Object.entries(t.gapReasons ?? {})) gapReasons.set(r, (gapReasons.get(r) ?? 0) + n);
  const before = st.traces.flatMap((t) => t.losses.filter((e) => e.lostAt < killAt));
  const recoveredCurve: Array<[number, number]> = [...back].sort((a, b) => a - b).map((v, i) => [round(v, 1), i + 1]);
  const base = Math.floor((killAt - t0) / 100);
  return {
    metrics: {
      clients: conn.connected,
      clients_on_killed_node: displaced,
      clients_cut_off: moved.length,
      dropped_on_surviving_nodes: moved.filter((t) => t.node !== victim.id).length,
      dropped_before_kill: st.traces.filter((t) => t.losses.some((e) => e.lostAt < killAt)).length,
      cut_off_more_than_once: st.traces.filter((t) => t.losses.length > 1).length,
      recovered_clients: back.length,
      never_recovered: st.traces.filter((t) => t.losses.length > 0 && t.losses[t.losses.length - 1]?.firstAfter === undefined).length,
      declared_dead_ms: dead.length ? round(Math.min(...dead), 0) : NaN,
      reconnected_p50_ms: round(pct(reconnected, 50), 0),
      reconnected_max_ms: reconnected.length ? round(Math.max(...reconnected), 0) : NaN,
      receiving_again_p50_ms: round(pct(back, 50), 0),
      receiving_again_p99_ms: round(pct(back, 99), 0),
      receiving_again_max_ms: back.length ? round(Math.max(...back), 0) : NaN,
      sent,
      lost,
      lost_by_moved_clients: lostMoved,
      // of what was not received: gap events the clients got (told, not silent) and the messages they name
      gap_events: st.traces.reduce((a, t) => a + (t.gaps ?? 0), 0),
      gapped_messages: st.traces.reduce((a, t) => a + (t.gapped ?? 0), 0),
      duplicates_seen: st.traces.reduce((a, t) => a + t.duplicates, 0),
      history: history ? 1 : 0,
      ...cpuMetrics(cpu),
    },
    timeline: timeline(st.buckets).map(([t, v]) => [round(t - base / 10, 1), v]),
    series: { recovered: recoveredCurve, marks: [[0, 0], ...(dead.length ? [[round(Math.min(...dead), 0), 1] as [number, number]] : [])] },
    notes: [
      `connections lost after the kill, by close code / reason: clients of the killed node ${reasons(cut.filter((c) => c.t.node === victim.id).flatMap((c) => c.eps))}; of the surviving node${h.nodes.length > 2 ? 's' : ''} ${reasons(cut.filter((c) => c.t.node !== victim.id).flatMap((c) => c.eps))}`,
      ...(before.length ? [`connections lost before the kill (${before.length}), by close code / reason: ${reasons(before)}`] : []),
      `killed ${victim.id} (pid ${victim.proc.pid}) ${round(ms / 4 / 1000, 1)} s into the stream; timeline t=0 is the kill`,
      ...(fences.length ? [`fences (t=0 is the kill): ${fences.join('; ')}`] : []),
      ...(gapReasons.size ? [`gap events by reason: ${JSON.stringify(Object.fromEntries(gapReasons))}`] : []),
    ],
  };
};
