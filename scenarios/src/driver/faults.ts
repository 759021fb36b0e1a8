import type { DeliveryChecker } from '@switchyard/core/testing';
import { Redis } from 'ioredis';
import { names } from '../node/ports.js';
import type { Child } from '../proc/rpc.js';
import type { Backend } from '../services/backend.js';
import type { Fault, NodeEvent } from '../types.js';
import type { ScenarioClient } from './clients.js';
import { byLabel, delta, readyStatus, scrape, total, type Sample } from './metrics.js';

/** A running node as the driver sees it. */
export interface NodeHandle {
  index: number;
  id: string;
  url: string;
  httpUrl: string;
  child: Child;
}

/** What the fault did, in numbers and in one line for the table. */
export interface FaultEffect {
  fault: Fault;
  /** The fault really took place (the node died, the bus went down, the link was cut, envelopes were replayed). */
  happened: boolean;
  /** One line, e.g. `killed node-2; 2/2 of its clients moved (1.2 s); declared dead by 2 nodes (3.4 s)`. */
  summary: string;
  details: Record<string, unknown>;
}

export interface FaultContext {
  nodes: NodeHandle[];
  backend: Backend;
  clients: ScenarioClient[];
  checker: DeliveryChecker;
  events: NodeEvent[];
  room: string;
  /** Which node the fault hits (kill, partition). */
  victim: number;
  /** How long a partition lasts, or a restarted bus stays down, ms. */
  faultMs: number;
  /** Replays of the captured envelope. */
  replays: number;
  log: (line: string) => void;
}

/** A fault: armed before the run, injected mid-run (resolves when it is over), measured at the end. */
export interface FaultPlan {
  arm?(): Promise<void>;
  inject(): Promise<void>;
  /** After the run settled: wait for what the fault should have caused (bounded). */
  finish?(deadline: number): Promise<void>;
  effect(): Promise<FaultEffect>;
  dispose?(): Promise<void>;
}

const secs = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The fault plan for `fault`. */
export function planFault(fault: Fault, ctx: FaultContext): FaultPlan {
  switch (fault) {
    case 'none':
      return { inject: async () => undefined, effect: async () => ({ fault, happened: true, summary: 'no fault', details: {} }) };
    case 'kill':
      return killPlan(ctx);
    case 'restart':
      return restartPlan(ctx);
    case 'partition-reset':
    case 'partition-blackhole':
      return partitionPlan(ctx, fault === 'partition-reset' ? 'reset' : 'blackhole');
    case 'replay':
      return replayPlan(ctx);
  }
}

/** The victim's clients: which moved to another node after `since`, and when the first of them got there. */
function moves(ctx: FaultContext, victimId: string, since: number) {
  const own = ctx.clients.filter((c) => c.trace.home === ctx.victim).map((c) => c.snapshot());
  const moved = own.filter((t) => t.nodes.some((n, i) => n !== victimId && (t.connectedAt[i] ?? 0) >= since));
  const firstAt = moved.map((t) => t.connectedAt.find((at, i) => at >= since && t.nodes[i] !== victimId) as number);
  const last = firstAt.length === own.length && own.length ? Math.max(...firstAt) - since : undefined;
  return { own, moved, lastMovedMs: last };
}

/** Nodes (other than the victim) that declared the victim dead after `since`, and when the first did. */
function declaredDead(ctx: FaultContext, victimId: string, since: number) {
  const ev = ctx.events.filter((e) => e.event === 'node:dead' && e.detail === victimId && e.at >= since);
  const by = [...new Set(ev.map((e) => e.node))].filter((n) => n !== victimId);
  return { by, afterMs: ev.length ? Math.min(...ev.map((e) => e.at)) - since : undefined };
}

function killPlan(ctx: FaultContext): FaultPlan {
  const victim = ctx.nodes[ctx.victim] as NodeHandle;
  let killedAt = 0;
  return {
    async inject() {
      ctx.log(`kill -9 ${victim.id} (pid ${victim.child.pid})`);
      killedAt = Date.now();
      await victim.child.kill();
    },
    async effect() {
      const m = moves(ctx, victim.id, killedAt);
      const d = declaredDead(ctx, victim.id, killedAt);
      const others = ctx.nodes.length - 1;
      return {
        fault: 'kill',
        happened: killedAt > 0 && !victim.child.alive && m.moved.length === m.own.length,
        summary: `killed ${victim.id}; ${m.moved.length}/${m.own.length} of its clients moved (all by ${secs(m.lastMovedMs)}); declared dead by ${d.by.length}/${others} nodes (${secs(d.afterMs)})`,
        details: { victim: victim.id, clients: m.own.length, moved: m.moved.map((t) => ({ name: t.name, nodes: t.nodes, closeCodes: t.closeCodes })), lastMovedMs: m.lastMovedMs, declaredDeadBy: d.by, declaredDeadAfterMs: d.afterMs },
      };
    },
  };
}

function restartPlan(ctx: FaultContext): FaultPlan {
  let window: { stoppedAt: number; startedAt: number } | undefined;
  return {
    async inject() {
      const service = ctx.backend.private;
      if (!service) throw new Error('the restart fault needs a private service');
      ctx.log(`restarting the ${ctx.backend.bus} service (down ${ctx.faultMs} ms)`);
      window = await service.restart(ctx.faultMs);
      ctx.log(`${ctx.backend.bus} is back`);
    },
    async effect() {
      const w = window ?? { stoppedAt: Infinity, startedAt: Infinity };
      const status = ctx.events.filter((e) => e.event === 'bus:status' && e.at >= w.stoppedAt - 500);
      const sawDown = new Set(status.filter((e) => e.detail !== 'connected').map((e) => e.node));
      const sawBack = new Set(status.filter((e) => e.detail === 'connected' && e.at >= w.stoppedAt).map((e) => e.node));
      const snaps = ctx.clients.map((c) => c.snapshot());
      const reconnects = snaps.reduce((a, t) => a + t.connectedAt.filter((at) => at >= w.stoppedAt).length, 0);
      const dead = ctx.events.filter((e) => e.event === 'node:dead' && e.at >= w.stoppedAt);
      return {
        fault: 'restart',
        happened: window !== undefined,
        summary: `${ctx.backend.bus} down ${secs(window ? w.startedAt - w.stoppedAt : undefined)}; bus link lost on ${sawDown.size}/${ctx.nodes.length} nodes, back on ${sawBack.size}; client reconnects ${reconnects}; nodes declared dead ${dead.length}`,
        details: { downMs: window ? w.startedAt - w.stoppedAt : undefined, busDown: [...sawDown], busBack: [...sawBack], clientReconnects: reconnects, declaredDead: dead.map((e) => `${e.node}->${e.detail}`) },
      };
    },
  };
}

function partitionPlan(ctx: FaultContext, mode: 'reset' | 'blackhole'): FaultPlan {
  const victim = ctx.nodes[ctx.victim] as NodeHandle;
  let cutAt = 0;
  let healedAt = 0;
  let cutConnections = 0;
  let firstNotReadyMs: number | undefined;
  const statuses = new Map<number, number>();
  return {
    async inject() {
      const proxy = ctx.backend.proxy;
      if (!proxy) throw new Error('the partition fault needs a proxy');
      cutConnections = proxy.connections;
      ctx.log(`partition ${victim.id} from ${ctx.backend.bus} (${mode}, ${ctx.faultMs} ms, ${cutConnections} connections)`);
      cutAt = Date.now();
      if (mode === 'reset') proxy.reset();
      else proxy.blackhole();
      while (Date.now() - cutAt < ctx.faultMs) {
        const s = await readyStatus(victim.httpUrl, 1000);
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
        if (s !== 200 && firstNotReadyMs === undefined) firstNotReadyMs = Date.now() - cutAt;
        await pause(Math.min(250, Math.max(0, ctx.faultMs - (Date.now() - cutAt))));
      }
      proxy.pass();
      healedAt = Date.now();
      ctx.log(`partition healed after ${healedAt - cutAt} ms`);
    },
    async effect() {
      const m = moves(ctx, victim.id, cutAt);
      const d = declaredDead(ctx, victim.id, cutAt);
      const fenced = m.own.reduce((a, t) => a + t.closeCodes.filter((c) => c === 4011).length, 0);
      const ready = firstNotReadyMs === undefined ? 'stayed ready' : `/ready failed after ${secs(firstNotReadyMs)}`;
      return {
        fault: mode === 'reset' ? 'partition-reset' : 'partition-blackhole',
        happened: cutAt > 0 && healedAt > 0 && cutConnections > 0,
        summary: `${victim.id} cut off ${secs(healedAt - cutAt)} (${mode}); ${ready}; ${m.moved.length}/${m.own.length} of its clients moved (4011 fenced: ${fenced}); declared dead by ${d.by.length}/${ctx.nodes.length - 1} nodes`,
        details: {
          victim: victim.id,
          mode,
          cutMs: healedAt - cutAt,
          connectionsCut: cutConnections,
          readyStatuses: Object.fromEntries(statuses),
          firstNotReadyMs,
          moved: m.moved.map((t) => ({ name: t.name, nodes: t.nodes, closeCodes: t.closeCodes })),
          fencedCloses: fenced,
          declaredDeadBy: d.by,
          declaredDeadAfterMs: d.afterMs,
        },
      };
    },
  };
}

/**
 * Capture one signed `deliver` envelope of the room from the Redis channel with a client of our
 * own, publish the same bytes again `replays` times mid-run, and read what the nodes did with it.
 */
function replayPlan(ctx: FaultContext): FaultPlan {
  const url = ctx.backend.redisUrl;
  if (!url) throw new Error('the replay fault needs Redis');
  const channel = `${names(ctx.backend.tag).redisPrefix}t:room.${ctx.room}`;
  const sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let captured: Buffer | undefined;
  let capturedId: string | undefined;
  let seen = 0;
  let replayed = 0;
  let before: Sample[][] = [];
  let dropped: Record<string, number> = {};
  const live = () => ctx.nodes.filter((n) => n.child.alive);
  const droppedNow = async () => byLabel((await Promise.all(live().map((n) => scrape(n.httpUrl)))).flat(), 'switchyard_envelopes_dropped_total', 'reason');
  return {
    async arm() {
      await Promise.all([sub.connect(), pub.connect()]);
      sub.on('messageBuffer', (_ch: Buffer, msg: Buffer) => {
        seen++;
        if (captured || seen < 20) return;
        const text = msg.toString('utf8');
        const json = text.slice(text.indexOf('.', text.indexOf('.') + 1) + 1);
        try {
          const env = JSON.parse(json) as { type?: string; id?: string };
          if (env.type !== 'deliver') return;
          captured = Buffer.from(msg);
          capturedId = env.id;
        } catch {
          // not an envelope we can read: wait for the next
        }
      });
      await sub.subscribe(channel);
    },
    async inject() {
      const deadline = Date.now() + 5000;
      while (!captured && Date.now() < deadline) await pause(50);
      if (!captured) throw new Error(`no deliver envelope seen on ${channel}`);
      before = await Promise.all(live().map((n) => scrape(n.httpUrl)));
      ctx.log(`replaying envelope ${capturedId} ${ctx.replays} times`);
      for (let i = 0; i < ctx.replays; i++) {
        await pub.publish(channel, captured);
        replayed++;
        await pause(100);
      }
    },
    async finish(deadline) {
      // the node that sent the original may ignore its own envelopes before any replay check
      const want = replayed * Math.max(1, live().length - 1);
      const clients = ctx.clients.length;
      while (Date.now() < deadline) {
        dropped = delta(byLabel(before.flat(), 'switchyard_envelopes_dropped_total', 'reason'), await droppedNow());
        if (total(dropped) >= want || ctx.checker.report().totals.duplicates >= replayed * clients) break;
        await pause(200);
      }
    },
    async effect() {
      const dups = ctx.checker.report().totals.duplicates;
      const reasons = Object.entries(dropped).map(([k, v]) => `${k} ${v}`).join(', ');
      return {
        fault: 'replay',
        happened: captured !== undefined && replayed === ctx.replays,
        summary: `replayed 1 envelope ${replayed}×; nodes dropped ${total(dropped)}${reasons ? ` (${reasons})` : ''}; clients got ${dups} copies`,
        details: { envelope: capturedId, channel, replayed, dropped, duplicatesDelivered: dups },
      };
    },
    async dispose() {
      sub.disconnect();
      pub.disconnect();
    },
  };
}
