import { round, type Scenario } from './context.js';

/** Connect storm: how many connections per second one node accepts (handshake, session, room join included). */
export const connectStorm: Scenario = async (ctx) => {
  const { h, s } = ctx;
  await Promise.all([h.startServers({ nodes: 1 }), h.startClients(s.clientProcesses)]);
  ctx.progress(0.2, `opening ${s.clients} connections`);
  await h.serverStats(true);
  const r = await h.connect(h.specs(s.clients, () => ['storm']), { concurrency: 250 });
  // the node's CPU over the storm, per accepted connection: the figure that does not depend on
  // how much CPU the client processes take on the same machine
  const [node] = await h.serverStats();
  const secs = (r.endedAt - r.startedAt) / 1000;
  const cpuUs = node && r.connected > 0 ? round((node.cpuSeconds * 1e6) / r.connected, 1) : NaN;
  return {
    metrics: { connections: r.connected, failed: r.failed, seconds: round(secs, 2), connections_per_s: Math.round(r.connected / secs), connect_p50_ms: round(r.p50ms, 1), connect_p99_ms: round(r.p99ms, 1), node_cpu_us_per_connection: cpuUs },
    notes: Object.keys(r.errors).length ? [`errors: ${JSON.stringify(r.errors)}`] : [],
  };
};
