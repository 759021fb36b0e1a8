import { round, sleep, type Scenario } from './context.js';

/** Idle memory: RSS and heap of one node process per idle connection at 1k, 10k and 19k connections (after GC). */
export const idleMemory: Scenario = async (ctx) => {
  const { h, s } = ctx;
  const levels = [1000, 10_000, Math.min(19_000, Math.max(s.clients, 1000))].filter((l, i, a) => a.indexOf(l) === i && l <= Math.max(s.clients, 1000));
  await Promise.all([h.startServers({ nodes: 1, heartbeatMs: 25_000 }), h.startClients(s.clientProcesses)]);
  await sleep(500);
  const gc = () => (h.servers[0] as NonNullable<(typeof h.servers)[0]>).call<{ rss: number; heapUsed: number; external: number }>('gc');
  const base = await gc();
  const metrics: Record<string, number> = { base_rss_mb: round(base.rss / 1048576, 1), base_heap_mb: round(base.heapUsed / 1048576, 1) };
  const series: Array<[number, number]> = [];
  let have = 0;
  for (const level of levels) {
    ctx.progress(0.1 + (0.8 * have) / levels[levels.length - 1]!, `connecting up to ${level}`);
    const conn = await h.connect(h.specs(level - have, () => ['idle']), { concurrency: 100 });
    have += conn.connected;
    if (conn.connected < level - (have - conn.connected)) throw new Error(`only ${have}/${level} idle clients connected: ${JSON.stringify(conn.errors)}`);
    await sleep(1000);
    const m = await gc();
    const k = `${Math.round(level / 1000)}k`;
    metrics[`rss_kb_per_conn_${k}`] = round((m.rss - base.rss) / 1024 / have, 2);
    metrics[`heap_kb_per_conn_${k}`] = round((m.heapUsed - base.heapUsed) / 1024 / have, 2);
    metrics[`rss_mb_${k}`] = round(m.rss / 1048576, 1);
    series.push([have, round((m.rss - base.rss) / 1024 / have, 2)]);
  }
  metrics.connections = have;
  return { metrics, series: { rss_kb_per_conn: series } };
};
