/**
 * `npm run demo`: a local Switchyard cluster (three nodes by default, in one process, each on
 * its own 127.0.0.1 port) with a live dashboard and a chat page. `--help` lists the flags.
 */
import { buildAssets } from './assets.js';
import { parseDemoArgs, USAGE, type DemoArgs } from './args.js';
import { createBackend } from './backends.js';
import { Bots } from './bots.js';
import { clusterTour } from './cluster-tour.js';
import { DashboardServer } from './dashboard-server.js';
import { LocalCluster } from './local-cluster.js';
import { SnapshotBuilder } from './snapshot.js';
import type { DashboardState, LogEntry } from './web/types.js';

const stamp = () => new Date().toISOString().slice(11, 19);

/** Runs the demo until Ctrl-C (or `--exit-after`); resolves once everything is closed. */
export async function runDemo(args: DemoArgs): Promise<void> {
  const startedAt = Date.now();
  const backend = createBackend(args.bus);
  let latest: DashboardState | undefined;
  const dashboard = new DashboardServer(await buildAssets(), {
    state: () => latest,
    urls: () => cluster.urls(),
    start: async () => (await cluster.startNode()).id,
    stop: (id) => cluster.stopNode(id),
    kill: (id) => cluster.killNode(id),
  });
  const log = (text: string, level: 'info' | 'warn' = 'info') => {
    const entry: LogEntry = { t: Date.now(), level, text };
    console.log(`${stamp()}  ${text}`);
    dashboard.addLog(entry);
  };
  const cluster = new LocalCluster({ backend, host: args.host, basePort: args.port, log });
  let bots: Bots | undefined;
  const builder = new SnapshotBuilder({ cluster, get bots() { return bots; }, bus: backend, startedAt });
  const dashboardUrl = await dashboard.listen(args.port, args.host);

  let ticker: ReturnType<typeof setInterval> | undefined;
  try {
    log(`bus: ${backend.name} (${backend.where})`);
    for (let i = 0; i < args.nodes; i++) await cluster.startNode();
    if (args.bots > 0) {
      bots = new Bots({ count: args.bots, urls: () => cluster.urls() });
      bots.start();
      log(`${args.bots} simulated users joined the lobby`);
    }

    let ticking = false;
    const tick = async () => {
      if (ticking) return;
      ticking = true;
      try {
        await Promise.all(cluster.nodes.map((n) => n.sample()));
        latest = builder.build();
        dashboard.push(latest);
      } finally {
        ticking = false;
      }
    };
    await tick();
    ticker = setInterval(() => void tick().catch(() => undefined), 1000);

    console.log('');
    console.log(`  dashboard  ${dashboardUrl}/`);
    console.log(`  chat       ${dashboardUrl}/chat   (open it in several tabs)`);
    for (const n of cluster.running) console.log(`  ${n.id.padEnd(9)}  ${n.url}   http://${args.host}:${n.port}/ready`);
    console.log('');
    console.log('  Ctrl-C stops everything.');
    console.log('');

    await new Promise<void>((resolve) => {
      const done = (why: string) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        if (exitTimer) clearTimeout(exitTimer);
        log(why);
        resolve();
      };
      const onSignal = (sig: NodeJS.Signals) => done(`${sig}: stopping`);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const exitTimer = args.exitAfter > 0 ? setTimeout(() => done(`--exit-after ${args.exitAfter}: stopping`), args.exitAfter * 1000) : undefined;
    });
  } finally {
    clearInterval(ticker);
    bots?.close();
    await cluster.stopAll();
    await dashboard.close();
  }
  console.log(`${stamp()}  stopped`);
}

let args: DemoArgs | null;
try {
  args = parseDemoArgs(process.argv.slice(2));
} catch (err) {
  console.error((err as Error).message);
  console.error(USAGE);
  process.exit(2);
}
if (args === null) {
  console.log(USAGE);
} else if (args.tour) {
  await clusterTour();
} else {
  try {
    await runDemo(args);
  } catch (err) {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
