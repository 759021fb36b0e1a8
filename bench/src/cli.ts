import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { plan } from './plan.js';
import { SourceAddresses } from './proc/addresses.js';
import { aggregate } from './report/aggregate.js';
import { html } from './report/html.js';
import { markdown, withRatios } from './report/markdown.js';
import { resultsMarkdown, versions } from './report/results-md.js';
import { runOne } from './runner.js';
import { Backends } from './services/backends.js';
import { BUSES, RAW_WS, SCENARIOS, type Bus, type RunResult, type RunSettings, type ScenarioName, type System } from './types.js';

const BENCH = fileURLToPath(new URL('..', import.meta.url));

const list =
  <T extends string>(allowed: readonly T[], what: string) =>
  (v: string): T[] => {
    const xs = v.split(',').map((x) => x.trim()).filter(Boolean);
    for (const x of xs) if (!allowed.includes(x as T)) throw new InvalidArgumentError(`unknown ${what} "${x}" (one of: ${allowed.join(', ')})`);
    return xs as T[];
  };
const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};

const SYSTEM_NAMES = [...BUSES, 'socketio', ...RAW_WS] as const;

const program = new Command()
  .name('bench')
  .description('Drive Switchyard on every bus, Socket.IO 4 + redis-adapter, raw ws and raw ws with per-room batching through the same scenarios, on loopback.')
  .option('--bus <names>', `systems to run, comma-separated: ${SYSTEM_NAMES.join(', ')}`, list(SYSTEM_NAMES, 'bus'))
  .option('--scenario <names>', `scenarios, comma-separated: ${SCENARIOS.join(', ')}`, list(SCENARIOS, 'scenario'))
  .option('--all', 'every scenario on every bus that is available, plus the Socket.IO baseline and the raw ws ceilings (with and without room batching)')
  .option('--skip <scenarios>', 'leave these scenarios out (with --all)', list(SCENARIOS, 'scenario'))
  .option('--nodes <n>', 'node processes (in-memory bus: nodes in one process)', int(1))
  .option('--clients <n>', 'clients', int(1))
  .option('--rate <n>', 'messages per second, whole cluster (saturation: the base of the doubling steps)', int(1))
  .option('--duration <s>', 'seconds of publishing (scale: seconds held)', int(1))
  .option('--room-size <n>', 'members per room (small-rooms)', int(2))
  .option('--payload <bytes>', 'message size', int(70))
  .option('--client-procs <n>', 'client processes', int(1))
  .option('--deadline <s>', 'hard deadline per run: every process of the run is killed', int(10))
  .option('--repeat <n>', 'repeat every run and report medians', int(1), 1)
  .option('--out <dir>', 'where JSON, Markdown and HTML go', join(BENCH, 'results'))
  .option('--write-results', 'also write bench/RESULTS.md from the figures')
  .option('--no-progress', 'no progress bars')
  .option('--report-from <dir>', 'run nothing: render the reports (and RESULTS.md with --write-results) again from a results directory')
  .addHelpText('after', '\nExamples:\n  npm run bench -- --bus redis --nodes 3 --clients 5000 --scenario fanout --rate 1000 --duration 10\n  npm run bench -- --all --repeat 3 --write-results');

async function main(): Promise<void> {
  const o = program.parse(process.argv).opts<{
    bus?: Array<(typeof SYSTEM_NAMES)[number]>;
    scenario?: ScenarioName[];
    all?: boolean;
    skip?: ScenarioName[];
    nodes?: number;
    clients?: number;
    rate?: number;
    duration?: number;
    roomSize?: number;
    payload?: number;
    clientProcs?: number;
    deadline?: number;
    repeat: number;
    out: string;
    writeResults?: boolean;
    progress: boolean;
    reportFrom?: string;
  }>();
  if (o.reportFrom) return rerender(o.reportFrom, o.writeResults === true);
  if (!o.all && !o.scenario) program.error('give --scenario (and --bus), or --all');
  const chosen = o.bus ?? (o.all ? undefined : (['redis'] as const));
  const wantBuses = (chosen ?? BUSES).filter((b): b is Bus => (BUSES as readonly string[]).includes(b));
  const log = (s: string) => process.stderr.write(`${s}\n`);

  const backends = new Backends();
  const cleanup = async () => {
    await backends.stop();
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    await backends.prepare(wantBuses, true, log);
    for (const [b, why] of Object.entries(backends.skipped)) log(`skipping bus ${b}: ${why}`);
    const buses = wantBuses.filter((b) => backends.available.has(b));
    const systems = chosen ? (chosen.filter((s) => !(BUSES as readonly string[]).includes(s) || buses.includes(s as Bus)).map((s) => ((BUSES as readonly string[]).includes(s) ? `switchyard-${s}` : s)) as System[]) : undefined;
    const overrides: Partial<RunSettings> = {};
    if (o.nodes) overrides.nodes = o.nodes;
    if (o.clients) overrides.clients = o.clients;
    if (o.rate) overrides.rate = o.rate;
    if (o.duration) overrides.duration = o.duration;
    if (o.roomSize) overrides.roomSize = o.roomSize;
    if (o.payload) overrides.payloadBytes = o.payload;
    if (o.clientProcs) overrides.clientProcesses = o.clientProcs;
    if (o.deadline) overrides.deadline = o.deadline;
    const scenarios = (o.scenario ?? [...SCENARIOS]).filter((s) => !o.skip?.includes(s));
    const runs = plan({ scenarios, systems, buses, repeat: o.repeat, overrides, all: o.all === true });
    if (!runs.length) program.error('nothing to run (is the service for that bus up?)');
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const dir = join(o.out, stamp);
    mkdirSync(join(dir, 'runs'), { recursive: true });
    log(`${runs.length} runs; results in ${dir}`);

    const tty = o.progress && process.stderr.isTTY;
    const bar = tty ? new cliProgress.SingleBar({ format: ' {bar} {percentage}% | run {run}/{runs} {label} | {status}', hideCursor: true, stream: process.stderr, etaBuffer: 20 }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(runs.length * 100, 0, { run: 1, runs: runs.length, label: '', status: '' });
    const results: RunResult[] = [];
    const addresses = new SourceAddresses();
    const started = Date.now();
    for (const [i, s] of runs.entries()) {
      const tag = `${s.scenario} ${s.system}`;
      if (!tty) log(`[${i + 1}/${runs.length}] ${tag} ...`);
      const r = await runOne(s, backends, addresses, (f, status) => bar?.update(i * 100 + Math.round(f * 100), { run: i + 1, label: tag, status }));
      bar?.update((i + 1) * 100, { run: i + 1, label: tag, status: r.ok ? 'done' : 'FAILED' });
      if (!tty) log(`[${i + 1}/${runs.length}] ${tag}: ${r.ok ? 'ok' : `FAILED: ${r.error}`} (${r.wallSeconds.toFixed(1)} s; ${((Date.now() - started) / 1000).toFixed(1)} s since the first run)`);
      else if (!r.ok) log(`\n${tag} failed: ${r.error}`);
      results.push(r);
      writeFileSync(join(dir, 'runs', `${String(i + 1).padStart(3, '0')}-${s.scenario}-${s.system}.json`), JSON.stringify(r, null, 2));
    }
    bar?.stop();
    const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
    const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    const summary: Summary = { meta: { title: 'Switchyard bench', command, when: new Date().toISOString(), machine }, versions: await versions(), skipped: backends.skipped, minutes: (Date.now() - started) / 60000, repeat: o.repeat };
    writeOutputs(dir, results, summary, o.writeResults === true);
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

interface Summary {
  meta: { title: string; command: string; when: string; machine: string };
  versions: Record<string, string>;
  skipped: Record<string, string>;
  minutes: number;
  repeat: number;
  rendered?: string;
}

/** JSON summary, Markdown, HTML (and RESULTS.md) from the runs of one invocation. */
function writeOutputs(dir: string, results: RunResult[], summary: Summary, writeResults: boolean): void {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const aggs = withRatios(aggregate(results));
  const md = markdown(aggs);
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...summary, aggregates: aggs.map(({ representative: _r, ...a }) => a) }, null, 2));
  writeFileSync(join(dir, 'report.md'), md);
  writeFileSync(join(dir, 'report.html'), html(aggs, summary.meta));
  process.stdout.write(`${md}\n`);
  log(`JSON: ${join(dir, 'runs')}  Markdown: ${join(dir, 'report.md')}  HTML: ${join(dir, 'report.html')}`);
  if (writeResults) {
    const loads = results.flatMap((r) => r.load ?? []);
    writeFileSync(join(BENCH, 'RESULTS.md'), resultsMarkdown(aggs, { ...summary.meta, versions: summary.versions, skipped: summary.skipped, repeat: summary.repeat, minutes: summary.minutes, loads, rendered: summary.rendered }));
    log(`wrote ${join(BENCH, 'RESULTS.md')}`);
  }
}

/** --report-from: read a results directory back and render everything again (no run). */
function rerender(dir: string, writeResults: boolean): void {
  const runsDir = join(dir, 'runs');
  if (!existsSync(runsDir)) program.error(`no runs/ in ${dir}`);
  const results = readdirSync(runsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(runsDir, f), 'utf8')) as RunResult);
  const prev = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary & { meta: Summary['meta'] };
  const summary: Summary = { ...prev, repeat: prev.repeat ?? Math.max(...results.map((r) => results.filter((x) => x.scenario === r.scenario && x.system === r.system).length)), rendered: `npm run bench -- ${process.argv.slice(2).join(' ')}` };
  writeOutputs(dir, results, summary, writeResults);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
