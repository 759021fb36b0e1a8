import { now, round, sleep, type Scenario } from './context.js';
import { summarize } from '../stats/histogram.js';

/**
 * Scale: as many concurrent connections as the machine allows, over several node processes
 * (about 19,000 sockets per process at most), held with heartbeats for `duration` seconds, then
 * one broadcast that must reach every one of them.
 */
/** The connect phase stops starting connections after this long; the rest is reported as not tried. */
const CONNECT_BUDGET_MS = 360_000;

export const scale: Scenario = async (ctx) => {
  const { h, s } = ctx;
  const perNode = Math.ceil(s.clients / s.nodes);
  if (perNode > 19_000) throw new Error(`${perNode} connections per node is above the ~19,000 one process can hold (20,000 fds): use more --nodes`);
  await h.startServers({ nodes: s.nodes, heartbeatMs: 20_000 });
  const procs = Math.max(s.clientProcesses, Math.ceil(s.clients / 16_000));
  await h.startClients(procs);
  ctx.progress(0.05, `connecting ${s.clients} clients`);
  const ticker = setInterval(() => {
    void h.serverStats().then((st) => ctx.progress(0.05 + 0.45 * (st.reduce((a, x) => a + x.connections.reduce((b, c) => b + c, 0), 0) / s.clients), 'connecting'), () => undefined);
  }, 2000);
  let conn;
  try {
    conn = await h.connect(h.specs(s.clients, () => []), { concurrency: 200, handshakeTimeoutMs: 60_000, budgetMs: CONNECT_BUDGET_MS });
  } finally {
    clearInterval(ticker);
  }
  const connectSecs = (conn.endedAt - conn.startedAt) / 1000;
  const holdMs = s.duration * 1000;
  const holdStart = Date.now();
  let minHeld = Infinity;
  while (Date.now() - holdStart < holdMs) {
    ctx.progress(0.5 + (0.4 * (Date.now() - holdStart)) / holdMs, `holding ${conn.connected}`);
    const held = (await h.serverStats()).reduce((a, x) => a + x.connections.reduce((b, c) => b + c, 0), 0);
    minHeld = Math.min(minHeld, held);
    await sleep(Math.min(5000, holdMs - (Date.now() - holdStart)));
  }
  const stats = await h.serverStats();
  const held = stats.reduce((a, x) => a + x.connections.reduce((b, c) => b + c, 0), 0);
  await h.resetClients(now());
  ctx.progress(0.92, 'broadcast');
  await h.nodes[0]!.proc.call('broadcast', {});
  const got = await h.waitForDeliveries(held, 10_000, 180_000);
  const st = await h.clientStats();
  st.same.add(st.cross);
  const lat = summarize(st.same);
  return {
    metrics: {
      target: s.clients,
      connected: conn.connected,
      failed: conn.failed,
      not_tried: conn.notTried ?? 0,
      connect_seconds: round(connectSecs, 1),
      connections_per_s: Math.round(conn.connected / connectSecs),
      held_min: Number.isFinite(minHeld) ? minHeld : held,
      held_end: held,
      broadcast_reached: got,
      broadcast_missed: Math.max(0, held - got),
      broadcast_p99_ms: lat?.p99 ?? NaN,
      broadcast_max_ms: lat?.max ?? NaN,
      rss_mb_max_node: round(Math.max(...stats.map((x) => x.rss)) / 1048576, 0),
      node_processes: h.servers.length,
      client_processes: procs,
    },
    notes: [
      ...(Object.keys(conn.errors).length ? [`connect errors: ${JSON.stringify(conn.errors)}`] : []),
      ...(conn.notTried ? [`the connect phase hit its ${CONNECT_BUDGET_MS / 1000} s budget: ${conn.notTried} connections were not tried`] : []),
    ],
  };
};
