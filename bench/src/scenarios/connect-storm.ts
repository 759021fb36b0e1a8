import { round, type Scenario } from './context.js';

/** Connect storm: how many connections per second one node accepts (handshake, session, room join included). */
export const connectStorm: Scenario = async (ctx) => {
  const { h, s } = ctx;
  await Promise.all([h.startServers({ nodes: 1 }), h.startClients(s.clientProcesses)]);
  ctx.progress(0.2, `opening ${s.clients} connections`);
  const r = await h.connect(h.specs(s.clients, () => ['storm']), { concurrency: 250 });
  const secs = (r.endedAt - r.startedAt) / 1000;
  return {
    metrics: { connections: r.connected, failed: r.failed, seconds: round(secs, 2), connections_per_s: Math.round(r.connected / secs), connect_p50_ms: round(r.p50ms, 1), connect_p99_ms: round(r.p99ms, 1) },
    notes: Object.keys(r.errors).length ? [`errors: ${JSON.stringify(r.errors)}`] : [],
  };
};
