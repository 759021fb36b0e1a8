import { serve } from '../proc/rpc.js';
import type { Bus } from '../types.js';
import { now, publishFrom, type PublishArgs, type PublishReport } from './publisher.js';
import { startRawWs } from './ws-raw.js';
import type { BenchServer, ServerStartArgs } from './types.js';

/** A node process: hosts one node (or, for the in-memory bus, every node) and obeys the runner over IPC. */
let server: BenchServer | undefined;
let cpuMark = process.cpuUsage();

async function start(args: ServerStartArgs): Promise<{ nodes: Array<{ id: string; url: string }>; pid: number }> {
  if (args.system === 'socketio') {
    const { startSocketIo } = await import('./socketio.js');
    server = await startSocketIo(args);
  } else if (args.system === 'ws') {
    server = await startRawWs(args);
  } else {
    const { startSwitchyard } = await import('./switchyard.js');
    server = await startSwitchyard(args.system.replace(/^switchyard-/, '') as Bus, args);
  }
  server.onDead((observer, dead) => rpc.emit('dead', { observer, dead, at: now() }));
  return { nodes: server.nodes.map((n) => ({ id: n.id, url: n.url })), pid: process.pid };
}

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

const rpc = serve({
  start: (args: ServerStartArgs) => start(args),
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
  stats: (args: { reset?: boolean }) => {
    const cpu = process.cpuUsage(cpuMark);
    if (args.reset) cpuMark = process.cpuUsage();
    return { cpuSeconds: (cpu.user + cpu.system) / 1e6, cpuUser: cpu.user / 1e6, cpuSystem: cpu.system / 1e6, ...memory(), connections: (server?.nodes ?? []).map((n) => n.connections()) };
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
