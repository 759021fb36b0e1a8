import { perDelivery, windowFigures } from '../stats/window.js';
import { publishAndMeasure } from './fanout.js';
import { round, type Scenario } from './context.js';

/**
 * Saturation: fan-out to one room with the offered rate doubling step by step; the figure is
 * the highest delivered rate of any step (deliveries/s at saturation). Node CPU per delivery and
 * messages per frame are taken over the same window as that best step's deliveries.
 */
export const saturation: Scenario = async (ctx) => {
  const stepMs = Math.max(1500, Math.round((ctx.s.duration * 1000) / 6));
  const rates = [1, 2, 4, 8, 16, 32].map((k) => Math.round((ctx.s.rate * k) / 4));
  const out = await publishAndMeasure(ctx, { roomsOf: () => ['fan'], rooms: ['fan'], steps: rates.map((rate) => ({ rate, ms: stepMs })), membersOf: () => ctx.s.clients });
  // delivered per step from the 100 ms buckets, skipping each step's first 300 ms
  const buckets = new Map(out.timeline?.map(([t, v]) => [Math.round(t * 10), v]) ?? []);
  const windows = out.stepWindows.map(([a, b]) => [Math.ceil((a + 300) / 100), Math.floor(b / 100)] as [number, number]);
  const delivered = windows.map(([k0, k1]) => {
    const ks = [];
    for (let k = k0; k < k1; k++) ks.push(buckets.get(k) ?? 0);
    return ks.length ? ks.reduce((x, y) => x + y, 0) / ks.length : 0;
  });
  const best = Math.max(...delivered);
  const bestIx = delivered.indexOf(best);
  // the best step's window: buckets k0..k1-1 (timeline values are per second: a bucket holds a tenth)
  const [k0, k1] = windows[bestIx] ?? [0, 0];
  let deliveries = 0;
  for (let k = k0; k < k1; k++) deliveries += (buckets.get(k) ?? 0) / 10;
  const node = perDelivery(windowFigures(out.samples, out.start + k0 * 100, out.start + k1 * 100), deliveries, (k1 - k0) / 10, round);
  // the same figures for every step, so systems can be compared at one offered rate (batching, and
  // with it the CPU per delivery, depends on the rate)
  const perStep = windows.map(([a, b], i) => perDelivery(windowFigures(out.samples, out.start + a * 100, out.start + b * 100), ((delivered[i] ?? 0) * (b - a)) / 10, (b - a) / 10, round));
  const all = { node_cpu_us_per_delivery_all_steps: out.metrics.node_cpu_us_per_delivery ?? NaN, messages_per_frame_all_steps: out.metrics.messages_per_frame ?? NaN };
  return {
    metrics: { ...out.metrics, ...node, ...all, saturation_deliveries_per_s: Math.round(best), saturation_offered_msgs_per_s: rates[bestIx] ?? 0, lost: out.metrics.lost ?? 0, loss_pct: out.metrics.loss_pct ?? 0, cpu_s_nodes_total: out.metrics.cpu_s_nodes_total ?? 0 },
    latency: out.latency,
    timeline: out.timeline,
    series: {
      offered: rates.map((r, i) => [i, r * ctx.s.clients]),
      delivered: delivered.map((d, i) => [i, round(d, 0)]),
      node_cpu_us_per_delivery: perStep.map((f, i) => [i, f.node_cpu_us_per_delivery ?? NaN]),
      messages_per_frame: perStep.map((f, i) => [i, f.messages_per_frame ?? NaN]),
    },
    notes: [`offered steps (messages/s to ${ctx.s.clients} clients): ${rates.join(', ')}; ${stepMs} ms each; node CPU per delivery and messages per frame from step ${bestIx + 1} (the best), ${((k1 - k0) / 10).toFixed(1)} s`],
  };
};
