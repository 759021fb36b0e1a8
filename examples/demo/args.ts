/**
 * Command-line flags of `npm run demo`.
 */
import { parseArgs } from 'node:util';

export interface DemoArgs {
  /** Dashboard port; nodes listen on the ports right after it. */
  port: number;
  /** Nodes started at once. */
  nodes: number;
  /** `memory`, or a URL: `redis://`, `nats://`, `postgres://`, `kafka://host:port[,host:port]`. */
  bus: string;
  /** Simulated SDK clients that chat in the background (0 for none). */
  bots: number;
  /** Stop by itself after this many seconds (0: run until Ctrl-C). */
  exitAfter: number;
  /** Listen address of the dashboard and the nodes. */
  host: string;
  /** Run the short in-process tour of the cluster runtime instead, and exit. */
  tour: boolean;
}

export const USAGE = `usage: npm run demo -- [options]

  --port <n>         dashboard port (default 8080); nodes use the next ports
  --nodes <n>        nodes to start (default 3, at most 9)
  --bus <url>        memory (default), redis://..., nats://..., postgres://...,
                     kafka://host:port[,host:port]
  --bots <n>         simulated chat clients (default 9, 0 for none)
  --host <addr>      listen address (default 127.0.0.1)
  --exit-after <s>   stop by itself after s seconds (for scripts and tests)
  --tour             print a short tour of the cluster runtime and exit
  -h, --help         this text`;

function int(name: string, value: string | undefined, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${value}`);
  return n;
}

/** Parses argv; throws an Error with a readable message on a bad flag. Returns null for --help. */
export function parseDemoArgs(argv: string[]): DemoArgs | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      nodes: { type: 'string' },
      bus: { type: 'string' },
      bots: { type: 'string' },
      host: { type: 'string' },
      'exit-after': { type: 'string' },
      tour: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const bus = values.bus ?? 'memory';
  if (!/^(memory|redis:\/\/|rediss:\/\/|nats:\/\/|postgres:\/\/|postgresql:\/\/|kafka:\/\/)/.test(bus)) {
    throw new Error(`--bus must be memory or a redis://, nats://, postgres:// or kafka:// URL, got ${bus}`);
  }
  return {
    port: int('port', values.port, 8080, 0, 65_000),
    nodes: int('nodes', values.nodes, 3, 1, 9),
    bus,
    bots: int('bots', values.bots, 9, 0, 500),
    host: values.host ?? '127.0.0.1',
    exitAfter: Number(values['exit-after'] ?? 0),
    tour: values.tour === true,
  };
}
