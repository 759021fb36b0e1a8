import { publishAndMeasure } from './fanout.js';
import { round, type Scenario } from './context.js';

/**
 * Saturation: fan-out to one room with the offered rate doubling step by step; the figure is
 * the highest delivered rate of any step (deliveries/s at saturation).
 */
export const saturation: Scenario = async (ctx) => {
  const stepMs = Math.max(1500, Math.round((ctx.s.duration * 1000) / 6));
  const rates = [1, 2, 4, 8, 16, 32].map((k) => Math.round((ctx.s.rate * k) / 4));
  const out = await publishAndMeasure(ctx, { roomsOf: () => ['fan'], rooms: ['fan'], steps: rates.map((rate) => ({ rate, ms: stepMs })), membersOf: () => ctx.s.clients });
  // delivered per step from the 100 ms buckets, skipping each step's first 300 ms
  const buckets = new Map(out.timeline?.map(([t, v]) => [Math.round(t * 10), v]) ?? []);
  const delivered = out.stepWindows.map(([a, b]) => {
    const ks = [];
    for (let k = Math.ceil((a + 300) / 100); k < Math.floor(b / 100); k++) ks.push(buckets.get(k) ?? 0);
    return ks.length ? ks.reduce((x, y) => x + y, 0) / ks.length : 0;
  });
  const best = Math.max(...delivered);
  return {
    metrics: { ...out.metrics, saturation_deliveries_per_s: Math.round(best), saturation_offered_msgs_per_s: rates[delivered.indexOf(best)] ?? 0, lost: out.metrics.lost ?? 0, loss_pct: out.metrics.loss_pct ?? 0, cpu_s_nodes_total: out.metrics.cpu_s_nodes_total ?? 0 },
    latency: out.latency,
    timeline: out.timeline,
    series: { offered: rates.map((r, i) => [i, r * ctx.s.clients]), delivered: delivered.map((d, i) => [i, round(d, 0)]) },
    notes: [`offered steps (messages/s to ${ctx.s.clients} clients): ${rates.join(', ')}; ${stepMs} ms each`],
  };
};
