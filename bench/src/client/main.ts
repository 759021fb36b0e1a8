import { serve } from '../proc/rpc.js';
import { connectRawWs, connectSocketIo, connectSwitchyard, type ClientSpec, type DriverOptions, type Handle } from './drivers.js';
import { now, Recorder } from './recorder.js';
import { isRawWs } from '../types.js';

/** A client process: opens many clients with bounded concurrency and measures what they receive. */
let recorder = new Recorder(false);
const handles: Handle[] = [];

interface ConnectArgs extends DriverOptions {
  system: string;
  specs: ClientSpec[];
  /** Connection attempts in flight at once. */
  concurrency: number;
  trackSeq: boolean;
  /** Stop starting new connections after this long (ms); what connected by then stays. */
  budgetMs?: number;
}

async function connect(args: ConnectArgs) {
  recorder = new Recorder(args.trackSeq);
  const driver = args.system === 'socketio' ? connectSocketIo : isRawWs(args.system) ? connectRawWs : connectSwitchyard;
  const started = now();
  let next = 0;
  let connected = 0;
  const errors: Record<string, number> = {};
  const times: number[] = [];
  const worker = async () => {
    const stopAt = args.budgetMs ? started + args.budgetMs : Infinity;
    while (next < args.specs.length && now() < stopAt) {
      const i = next++;
      const spec = args.specs[i] as ClientSpec;
      const trace = recorder.add(i);
      trace.node = spec.ids[spec.url] ?? spec.url;
      const t = now();
      try {
        handles.push(await driver(spec, trace, (p, node) => recorder.record(i, p, node), args));
        connected++;
        times.push(now() - t);
      } catch (err) {
        const k = err instanceof Error ? err.message.slice(0, 80) : String(err);
        errors[k] = (errors[k] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(args.concurrency, args.specs.length)) }, worker));
  times.sort((a, b) => a - b);
  return { connected, failed: next - connected, notTried: args.specs.length - next, errors, startedAt: started, endedAt: now(), p50ms: times[Math.floor(times.length / 2)] ?? 0, p99ms: times[Math.floor(times.length * 0.99)] ?? 0 };
}

serve({
  connect: (args: ConnectArgs) => connect(args),
  reset: (args: { t0: number; window?: [number, number] }) => {
    recorder.reset(args.t0, args.window ?? [0, Number.MAX_SAFE_INTEGER]);
    return true;
  },
  stats: (args: { traces?: boolean }) => recorder.snapshot(args.traces === true),
  memory: () => process.memoryUsage(),
  close: async () => {
    for (const h of handles.splice(0)) h.close();
    setTimeout(() => process.exit(0), 200).unref();
    return true;
  },
});
