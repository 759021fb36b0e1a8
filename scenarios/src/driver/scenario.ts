import { randomId } from '@switchyard/core/adapter';
import { DeliveryChecker, type DeliveryReport } from '@switchyard/core/testing';
import { Child } from '../proc/rpc.js';
import { prepareBackend } from '../services/backend.js';
import type { Bus, Fault, NodeEvent, NodeStartArgs, NodeStarted } from '../types.js';
import { Publisher, ScenarioClient, type ClientTrace, type PublishStats } from './clients.js';
import { planFault, type FaultEffect, type FaultPlan, type NodeHandle } from './faults.js';
import { byLabel, scrape } from './metrics.js';

const NODE_ENTRY = new URL('../node/main.ts', import.meta.url);

export interface ScenarioOptions {
  bus: Bus;
  fault: Fault;
  /** Messages per second per publisher (default 40). */
  rate?: number;
  /** How long the publishers publish at least, ms (default 10 s); they go on 4 s after the fault is over in any case. */
  durationMs?: number;
  /** When the fault starts, ms after publishing started (default 3 s). */
  faultAtMs?: number;
  /** How long a partition lasts or a restarted bus stays down, ms (default 8 s and 2 s). */
  faultMs?: number;
  /** Longest wait after publishing for every client to have every acked message, ms (default 15 s). */
  settleMs?: number;
  /** Cluster heartbeat and node timeout, ms (default 300 and 3000: they hold on a busy 2-core machine). */
  heartbeatIntervalMs?: number;
  nodeTimeoutMs?: number;
  /** Replays of the captured envelope (replay fault; default 5). */
  replays?: number;
  log?: (line: string) => void;
}

export interface ScenarioResult {
  bus: Bus;
  fault: Fault;
  tag: string;
  room: string;
  /** Every client stayed subscribed and has missing 0, duplicates 0, out of order 0 (signalled gaps allowed). */
  ok: boolean;
  report: DeliveryReport;
  /** The checker's line per client. */
  lines: string;
  clients: ClientTrace[];
  /** `ackedAfterFault`: acks of publishes sent after the fault was over (the way back was exercised). */
  publishing: PublishStats & { ackedAfterFault: number };
  effect: FaultEffect;
  /** Envelopes dropped over the run by reason, summed over the nodes still alive at the end. */
  dropped: Record<string, number>;
  events: NodeEvent[];
  /** The run reached "every client has every acked message" before the settle deadline. */
  settled: boolean;
  timings: { setupMs: number; publishMs: number; settleMs: number; totalMs: number };
}

const HISTORY_PREFIX = 'h-';
/** Publishing goes on at least this long after the fault is over. */
const TAIL_MS = 4000;
/**
 * Publishes acknowledged after the fault that end the tail (the way back must be exercised); a
 * backend slow to answer again on a busy machine keeps the publishers going, up to `MAX_TAIL_MS`.
 */
const TAIL_ACKS = 30;
const MAX_TAIL_MS = 60_000;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it is true or `deadline` passes; returns whether it became true. */
async function until(check: () => boolean | Promise<boolean>, deadline: number, everyMs = 100): Promise<boolean> {
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await pause(everyMs);
  }
}

/** `p`, or a rejection with `message` after `ms`. */
async function withDeadline<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One scenario: 3 nodes on `bus`, 3 publishers (one dialling each node, every node's URL given
 * for failover) publishing to one room at a steady rate, 3 subscribers (one per node), the fault
 * injected mid-run; then publishing stops and the run waits until every client has every acked
 * message or the settle deadline passes. Everything it started is stopped before it returns.
 */
export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => undefined);
  const rate = o.rate ?? 40;
  const faultAtMs = o.faultAtMs ?? 3000;
  const partition = o.fault === 'partition-reset' || o.fault === 'partition-blackhole';
  const faultMs = o.faultMs ?? (partition ? 8000 : 2000);
  const durationMs = o.durationMs ?? 10_000;
  const settleMs = o.settleMs ?? 15_000;
  const heartbeatIntervalMs = o.heartbeatIntervalMs ?? 300;
  const nodeTimeoutMs = o.nodeTimeoutMs ?? 3000;
  // the replay fault uses a room without history: there the offset cannot hide a copy
  const room = o.fault === 'replay' ? 'p-chat' : `${HISTORY_PREFIX}chat`;
  const victim = 2;
  const count = 3;

  const backend = await prepareBackend(o.bus, o.fault, { partitioned: victim });
  const checker = new DeliveryChecker();
  const events: NodeEvent[] = [];
  const nodes: NodeHandle[] = [];
  const children: Child[] = [];
  const clients: ScenarioClient[] = [];
  let plan: FaultPlan | undefined;
  /** Publishers stop at this time (set once the fault is over; 0 on the way out, whatever happened). */
  let stopAt = Infinity;
  try {
    log(`${o.bus}/${o.fault}: starting ${count} nodes (run ${backend.tag})`);
    const clusterKey = `scenario-${randomId(16)}-${randomId(16)}`;
    const startNode = async (i: number): Promise<NodeHandle> => {
      const child = new Child(`node-${i}`, NODE_ENTRY);
      children.push(child);
      child.on('cluster', (e) => events.push(e as NodeEvent));
      const args: NodeStartArgs = { nodeId: `node-${i}`, backend: backend.forNode(i), heartbeatIntervalMs, nodeTimeoutMs, clusterKey, historyPrefix: HISTORY_PREFIX, historyMaxLength: 100_000 };
      const s = await child.call<NodeStarted>('start', args, 90_000);
      return { index: i, id: s.id, url: s.url, httpUrl: s.httpUrl, child };
    };
    // node-0 first: it creates what the bus needs (topics, streams, schema); concurrent first
    // starts race on that (Kafka: "This server does not host this topic-partition")
    const started = [await startNode(0)];
    started.push(...(await Promise.all(Array.from({ length: count - 1 }, (_, i) => startNode(i + 1)))));
    nodes.push(...started);
    const ids = nodes.map((n) => n.id);
    const formed = await until(async () => {
      const seen = await Promise.all(nodes.map((n) => n.child.call<string[]>('healthy', {}, 5000).catch((): string[] => [])));
      return seen.every((s) => ids.every((id) => s.includes(id)));
    }, Date.now() + 30_000, 200);
    if (!formed) throw new Error('the 3 nodes did not see each other within 30 s');

    const urlsFor = (home: number) => [nodes[home] as NodeHandle, ...nodes.filter((n) => n.index !== home)].map((n) => n.url);
    const publishers = nodes.map((n) => new Publisher(`pub-${n.index}`, n.index, urlsFor(n.index), room, checker));
    const subscribers = nodes.map((n) => new ScenarioClient(`sub-${n.index}`, 'subscriber', n.index, urlsFor(n.index), room, checker));
    clients.push(...subscribers, ...publishers);
    await withDeadline(Promise.all(clients.map((c) => c.ready())), 20_000, 'not every client subscribed within 20 s');

    plan = planFault(o.fault, { nodes, backend, clients, checker, events, room, victim, faultMs, replays: o.replays ?? 5, log });
    await plan.arm?.();
    const setupMs = Date.now() - t0;

    log(`publishing ${rate}/s from ${publishers.length} publishers for ${durationMs} ms (and ${TAIL_MS} ms after the fault is over, until ${TAIL_ACKS} of those are acknowledged); fault at ${faultAtMs} ms`);
    const tp = Date.now();
    // publish for durationMs, and on for TAIL_MS after the fault is over (a restart may take long)
    // and until TAIL_ACKS publishes sent since then were acknowledged (at most MAX_TAIL_MS)
    let faultOverAt = Infinity;
    const ackedSinceFault = () => publishers.reduce((a, p) => a + p.ackedSince(faultOverAt), 0);
    const stop = () => {
      const now = Date.now();
      return now >= stopAt && (stopAt === 0 || ackedSinceFault() >= TAIL_ACKS || now >= faultOverAt + MAX_TAIL_MS);
    };
    const publishing = Promise.all(publishers.map((p) => p.run(rate, stop)));
    await pause(faultAtMs);
    await plan.inject();
    faultOverAt = Date.now();
    stopAt = Math.max(tp + durationMs, faultOverAt + TAIL_MS);
    await publishing;
    await Promise.all(publishers.map((p) => p.settled()));
    const publishMs = Date.now() - tp;

    const ts = Date.now();
    const allHave = () => {
      const r = checker.report();
      return clients.every((c) => c.snapshot().subscribedNow) && r.clients.every((c) => c.missing === 0);
    };
    const settled = await until(allHave, ts + settleMs, 200);
    await plan.finish?.(Date.now() + 5000);
    const settleTook = Date.now() - ts;

    const effect = await plan.effect();
    const report = checker.report();
    const traces = clients.map((c) => c.snapshot());
    const dropped = byLabel((await Promise.all(nodes.filter((n) => n.child.alive).map((n) => scrape(n.httpUrl)))).flat(), 'switchyard_envelopes_dropped_total', 'reason');
    const stats: PublishStats = { sent: 0, acked: 0, failed: {} };
    let ackedAfterFault = 0;
    for (const p of publishers) {
      stats.sent += p.stats.sent;
      stats.acked += p.stats.acked;
      ackedAfterFault += p.ackedSince(faultOverAt);
      for (const [k, v] of Object.entries(p.stats.failed)) stats.failed[k] = (stats.failed[k] ?? 0) + v;
    }
    const ok = traces.every((t) => t.subscribedNow) && report.clients.every((c) => c.missing === 0 && c.duplicates === 0 && c.outOfOrder === 0 && c.mismatched === 0) && report.totals.conflicts === 0;
    return {
      bus: o.bus,
      fault: o.fault,
      tag: backend.tag,
      room,
      ok,
      report,
      lines: checker.format(report),
      clients: traces,
      publishing: { ...stats, ackedAfterFault },
      effect,
      dropped,
      events,
      settled,
      timings: { setupMs, publishMs, settleMs: settleTook, totalMs: Date.now() - t0 },
    };
  } finally {
    stopAt = 0;
    for (const c of clients) c.close();
    await plan?.dispose?.().catch(() => undefined);
    await Promise.all(children.map((c) => c.stop(3000)));
    await backend.close();
    log(`${o.bus}/${o.fault}: cleaned up after ${Date.now() - t0} ms`);
  }
}
