import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runScenario } from './driver/scenario.js';
import { details, markdownTable, type Row } from './report/table.js';
import { inCi, ScenarioSkipped } from './services/backend.js';
import { BUSES, FAULTS, MATRIX, type Bus, type Fault } from './types.js';

const USAGE = `Run delivery scenarios on real buses and print a Markdown table of the checker's counts.

  npm run scenarios -- [--bus redis,nats,postgres,kafka] [--fault none,kill,restart,partition-reset,partition-blackhole,replay]
                       [--rate 40] [--duration 10000] [--json results.json] [--quiet]

Without --bus/--fault: every bus with the faults issue 11 asks for (${Object.entries(MATRIX)
  .map(([b, f]) => `${b}: ${f.join(' ')}`)
  .join('; ')}).
Combinations a bus does not support are left out. Exit code 1 when a scenario fails.`;

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

function list<T extends string>(value: string | undefined, known: readonly T[], what: string): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!known.includes(i as T)) throw new Error(`unknown ${what} ${i} (known: ${known.join(', ')})`);
  return items as T[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      bus: { type: 'string' },
      fault: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const buses = list(values.bus, BUSES, 'bus') ?? [...BUSES];
  const faults = list(values.fault, FAULTS, 'fault');
  const plan: Array<[Bus, Fault]> = [];
  for (const bus of buses) for (const fault of faults ?? MATRIX[bus]) if (supported(bus, fault)) plan.push([bus, fault]);
  if (!plan.length) throw new Error('nothing to run for that choice of buses and faults');

  const rows: Row[] = [];
  let failed = false;
  for (const [bus, fault] of plan) {
    const log = values.quiet ? undefined : (line: string) => err(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
    try {
      const result = await runScenario({ bus, fault, ...(values.rate ? { rate: Number(values.rate) } : {}), ...(values.duration ? { durationMs: Number(values.duration) } : {}), ...(log ? { log } : {}) });
      rows.push({ result });
      if (!result.ok) failed = true;
      if (!values.quiet) err(details(result));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof ScenarioSkipped && !inCi()) rows.push({ bus, fault, skipped: message });
      else {
        failed = true;
        rows.push({ bus, fault, error: message });
      }
      err(`${bus}/${fault}: ${message}`);
    }
  }
  out(markdownTable(rows));
  if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
  return failed ? 1 : 0;
}

/** Partitions need one TCP service per node link (not Kafka's advertised brokers); the replay reads a Redis channel. */
function supported(bus: Bus, fault: Fault): boolean {
  if (fault === 'replay') return bus === 'redis';
  if (fault === 'partition-reset' || fault === 'partition-blackhole') return bus !== 'kafka';
  return true;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    err(e instanceof Error ? e.message : String(e));
    err(USAGE);
    process.exit(2);
  },
);
