import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { listenOverflows, settleTimeWait } from './proc/time-wait.js';
import { Harness } from './harness.js';
import type { SourceAddresses } from './proc/addresses.js';
import { cleanPostgres, type Backends } from './services/backends.js';
import { connectStorm } from './scenarios/connect-storm.js';
import type { Scenario } from './scenarios/context.js';
import { failover } from './scenarios/failover.js';
import { fanout } from './scenarios/fanout.js';
import { idleMemory } from './scenarios/idle-memory.js';
import { saturation } from './scenarios/saturation.js';
import { scale } from './scenarios/scale.js';
import { smallRooms } from './scenarios/small-rooms.js';
import type { RunResult, RunSettings, ScenarioName } from './types.js';

const SCENARIO: Record<ScenarioName, Scenario> = {
  fanout,
  saturation,
  'small-rooms': smallRooms,
  'idle-memory': idleMemory,
  'connect-storm': connectStorm,
  failover,
  scale,
};

/**
 * One run: fresh processes, the scenario, then everything stopped. A hard deadline kills every
 * child process of the run (SIGKILL) and marks the run failed.
 */
/** Connections dropped by full accept queues during the run (machine-wide), when the kernel says. */
function overflowNote(before: number, after: number): string[] {
  if (!Number.isFinite(before) || !Number.isFinite(after)) return [];
  return [`connections dropped by a full accept queue during the run (machine-wide, each retried by TCP 1 s later): ${after - before}`];
}

export async function runOne(s: RunSettings, backends: Backends, addresses: SourceAddresses, progress: (fraction: number, status: string) => void): Promise<RunResult> {
  // closed connections of earlier runs slow new connects down: start every run on the same footing
  const settled = s.clients >= 500 ? await settleTimeWait(s.clients) : { waitedMs: 0, left: NaN };
  const id = `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const h = new Harness(s.system, backends.config(id), addresses);
  const startedAt = new Date();
  const t = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void h.kill();
      reject(new Error(`hard deadline of ${s.deadline} s reached: every process of the run was killed`));
    }, s.deadline * 1000);
  });
  const load0 = loadavg()[0] as number;
  const overflows0 = await listenOverflows();
  const base = () => ({ id, system: s.system, scenario: s.scenario, settings: s, startedAt: startedAt.toISOString(), load: [load0, loadavg()[0] as number] as [number, number] });
  try {
    const phases: Array<[string, number]> = [];
    const track = (f: number, status: string) => {
      if (phases[phases.length - 1]?.[0] !== status) phases.push([status, Math.round((Date.now() - t) / 100) / 10]);
      progress(f, status);
    };
    const out = await Promise.race([SCENARIO[s.scenario]({ h, s, progress: track }), deadline]);
    phases.push(['done', Math.round((Date.now() - t) / 100) / 10]);
    return { ...base(), wallSeconds: (Date.now() - t) / 1000, ok: true, ...out, notes: [...(out.notes ?? []), `phases (s since start): ${phases.map(([p, at]) => `${p} ${at}`).join(', ')}`, ...(Number.isFinite(settled.left) ? [`TIME_WAIT sockets at the start: ${settled.left}${settled.waitedMs >= 1000 ? ` (waited ${Math.round(settled.waitedMs / 1000)} s for earlier runs' to expire)` : ''}`] : []), ...overflowNote(overflows0, await listenOverflows())] };
  } catch (err) {
    return { ...base(), wallSeconds: (Date.now() - t) / 1000, ok: false, error: err instanceof Error ? err.message : String(err), metrics: {} };
  } finally {
    clearTimeout(timer);
    await Promise.race([h.close(), new Promise((r) => setTimeout(r, 20_000).unref())]);
    await h.kill();
    if (s.system.startsWith('switchyard-')) {
      await backends.cleanRedis(id);
      if (s.system === 'switchyard-postgres') await cleanPostgres(id);
    } else if (s.system === 'socketio') await backends.cleanRedis(id);
  }
}
