import { serve } from '../proc/rpc.js';
import type { Bus } from '../types.js';
import { now, publishFrom, type PublishArgs, type PublishReport } from './publisher.js';
import { startBatchedWs } from './ws-batch.js';
import { startRawWs } from './ws-raw.js';
import type { BenchServer, Sample, ServerStartArgs, WireCounts } from './types.js';

/** A node process: hosts one node (or, for the in-memory bus, every node) and obeys the runner over IPC. */
let server: BenchServer | undefined;
let cpuMark = process.cpuUsage();
let wireMark: WireCounts | undefined;

const SAMPLE_MS = 100;
const MAX_SAMPLES = 20_000;
let samples: Sample[] = [];
let sampling: ReturnType<typeof setTimeout> | undefined;
let generation = 0;

/**
 * Sample CPU and frame counts every 100 ms from a reset on, so the runner can take any window
 * (a saturation step, or publish start to last delivery) and divide by the deliveries in it.
 * Samples are timestamped, so a late timer on a busy loop only makes them sparser.
 */
async function sample(next: boolean): Promise<void> {
  const gen = generation;
  const t = now();
  const c = process.cpuUsage(cpuMark);
  const w = await server?.wire();
  const base = wireMark;
  if (gen !== generation) return;
  samples.push([t, c.user + c.system, w && base ? w.frames - base.frames : NaN, w && base ? w.messages - base.messages : NaN]);
  if (next && samples.length < MAX_SAMPLES) sampling = setTimeout(() => void sample(true), SAMPLE_MS);
}

async function start(args: ServerStartArgs): Promise<{ nodes: Array<{ id: string; url: string }>; pid: number }> {
  if (args.system === 'socketio') {
    const { startSocketIo } = await import('./socketio.js');
    server = await startSocketIo(args);
  } else if (args.system === 'ws') {
    server = await startRawWs(args);
  } else if (args.system === 'ws-batch') {
    server = await startBatchedWs(args);
  } else {
    const { startSwitchyard } = await import('./switchyard.js');
    server = await startSwitchyard(args.system.replace(/^switchyard-/, '') as Bus, args);
  }
  server.onDead((observer, dead) => rpc.emit('dead', { observer, dead, at: now() }));
  server.onFence?.((node, fenced, reason) => rpc.emit('fence', { node, fenced, reason, at: now() }));
  return { nodes: server.nodes.map((n) => ({ id: n.id, url: n.url })), pid: process.pid, ...(server.meshPort !== undefined ? { meshPort: server.meshPort } : {}) };
}

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

const rpc = serve({
  start: (args: ServerStartArgs) => start(args),
  mesh: async (args: { ports: number[] }) => {
    await server?.mesh?.(args.ports);
    return true;
  },
  publish: async (args: PublishArgs & { nodes?: string[] }): Promise<PublishReport[]> => {
    const nodes = (server?.nodes ?? []).filter((n) => !args.nodes || args.nodes.includes(n.id));
    return Promise.all(nodes.map((n) => publishFrom(n, args)));
  },
  broadcast: async (): Promise<{ at: number }> => {
    const n = server?.nodes[0];
    const at = now();
    await n?.broadcast({ t: at, n: n.id, s: 1, r: '*', p: '' });
    return { at };
  },
  stats: async (args: { reset?: boolean }) => {
    const cpu = process.cpuUsage(cpuMark);
    const w = await server?.wire();
    const wire = w && wireMark ? { frames: w.frames - wireMark.frames, messages: w.messages - wireMark.messages } : undefined;
    if (args.reset) {
      cpuMark = process.cpuUsage();
      wireMark = w;
      clearTimeout(sampling);
      generation++;
      samples = [];
      await sample(true);
    }
    return { cpuSeconds: (cpu.user + cpu.system) / 1e6, cpuUser: cpu.user / 1e6, cpuSystem: cpu.system / 1e6, ...memory(), connections: (server?.nodes ?? []).map((n) => n.connections()), wire };
  },
  /** The samples since the last reset (one more taken now, so the last delivery is inside them). */
  samples: async (): Promise<Sample[]> => {
    await sample(false);
    return samples;
  },
  gc: async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    return memory();
  },
  stop: async () => {
    await server?.close();
    server = undefined;
    setTimeout(() => process.exit(0), 50).unref();
    return true;
  },
});
