import { summarize } from '../stats/histogram.js';
import { perDelivery, windowFigures } from '../stats/window.js';
import type { PublishReport, Step } from '../server/publisher.js';
import type { Sample } from '../server/types.js';
import { cpuMetrics, latencyMetrics, now, round, timeline, type Scenario, type ScenarioContext, type ScenarioOutput } from './context.js';

type PubReport = PublishReport;

/**
 * Shared engine of fan-out, saturation and small rooms: connect clients to rooms, publish
 * from every node at the offered steps, wait for the deliveries to settle, and measure.
 */
export async function publishAndMeasure(
  ctx: ScenarioContext,
  o: { roomsOf: (g: number) => string[]; rooms: string[]; steps: Step[]; membersOf: (room: string) => number },
): Promise<ScenarioOutput & { pub: PubReport[]; stepWindows: Array<[number, number]>; start: number; samples: Sample[][] }> {
  const { h, s } = ctx;
  ctx.progress(0.05, 'starting nodes');
  await Promise.all([h.startServers({ nodes: s.nodes }), h.startClients(s.clientProcesses)]);
  ctx.progress(0.15, `connecting ${s.clients} clients`);
  const conn = await h.connect(h.specs(s.clients, o.roomsOf), { concurrency: 100 });
  if (conn.connected < s.clients) throw new Error(`only ${conn.connected}/${s.clients} clients connected: ${JSON.stringify(conn.errors)}`);
  const nodes = h.nodes.length;
  const perNode = o.steps.map((st) => ({ rate: st.rate / nodes, ms: st.ms }));
  const total = o.steps.reduce((a, st) => a + st.ms, 0);
  const start = now() + 300;
  await h.resetClients(start, [start, start + total]);
  await h.serverStats(true);
  ctx.progress(0.3, 'publishing');
  const ticker = setInterval(() => ctx.progress(0.3 + 0.5 * Math.min(1, (now() - start) / total), 'publishing'), 500);
  let pub: PubReport[];
  try {
    await new Promise((r) => setTimeout(r, 300));
    const perProc = await Promise.all(h.servers.map((p) => p.call<PubReport[]>('publish', { rooms: o.rooms, steps: perNode, payloadBytes: s.payloadBytes }, total + 60_000)));
    pub = perProc.flat();
  } finally {
    clearInterval(ticker);
  }
  const cpu = await h.serverStats();
  const perRoomSent: Record<string, number> = {};
  for (const p of pub) for (const [r, n] of Object.entries(p.perRoom)) perRoomSent[r] = (perRoomSent[r] ?? 0) + n;
  const expected = Object.entries(perRoomSent).reduce((a, [r, n]) => a + n * o.membersOf(r), 0);
  ctx.progress(0.85, 'waiting for the last deliveries');
  await h.waitForDeliveries(expected);
  const st = await h.clientStats();
  const samples = await h.serverSamples();
  // node CPU from the start of publishing to the last delivery, per delivery received; frames
  // and messages counted from the reset on (nothing else is written in between)
  const end = st.lastAt > start ? st.lastAt : now();
  const w = windowFigures(samples, start, end);
  const counts = windowFigures(samples, -Infinity, Infinity);
  const node = perDelivery({ ...w, frames: counts.frames, messages: counts.messages }, st.received, (end - start) / 1000, round);
  const sent = pub.reduce((a, p) => a + p.sent, 0);
  const windowSec = total / 1000;
  const lat = { same: summarize(st.same), cross: summarize(st.cross) };
  const stepWindows: Array<[number, number]> = [];
  let acc = 0;
  for (const step of o.steps) {
    stepWindows.push([acc, acc + step.ms]);
    acc += step.ms;
  }
  return {
    pub,
    stepWindows,
    start,
    samples,
    metrics: {
      clients: conn.connected,
      nodes,
      sent,
      skipped_publishes: pub.reduce((a, p) => a + p.skipped, 0),
      failed_publishes: pub.reduce((a, p) => a + p.failed, 0),
      expected_deliveries: expected,
      received: st.received,
      lost: Math.max(0, expected - st.received),
      loss_pct: expected ? round((100 * Math.max(0, expected - st.received)) / expected, 3) : 0,
      deliveries_per_s: Math.round(st.inWindow / windowSec),
      ...latencyMetrics(lat),
      ...cpuMetrics(cpu),
      ...node,
    },
    latency: lat,
    timeline: timeline(st.buckets, 0),
  };
}

/** Fan-out: C clients in one room over N nodes, messages at the target rate. */
export const fanout: Scenario = async (ctx) => {
  const out = await publishAndMeasure(ctx, { roomsOf: () => ['fan'], rooms: ['fan'], steps: [{ rate: ctx.s.rate, ms: ctx.s.duration * 1000 }], membersOf: () => ctx.s.clients });
  return { metrics: out.metrics, latency: out.latency, timeline: out.timeline };
};
