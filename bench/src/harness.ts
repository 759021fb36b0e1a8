import { Child } from './proc/rpc.js';
import type { SourceAddresses } from './proc/addresses.js';
import type { BackendConfig } from './server/ports.js';
import type { Sample, ServerStartArgs, WireCounts } from './server/types.js';
import type { ClientSpec } from './client/drivers.js';
import type { ClientTrace } from './client/recorder.js';
import { merge } from './stats/histogram.js';
import type { System } from './types.js';

export interface NodeRef {
  id: string;
  url: string;
  proc: Child;
}

export interface ServerOptions {
  nodes: number;
  history?: boolean;
  heartbeatMs?: number;
  clusterHeartbeatMs?: number;
  nodeTimeoutMs?: number;
}

export interface ClientStats {
  received: number;
  inWindow: number;
  perRoom: Record<string, number>;
  same: string;
  cross: string;
  buckets: Array<[number, number]>;
  firstAt: number;
  lastAt: number;
  traces: ClientTrace[];
}

export interface ConnectReport {
  connected: number;
  failed: number;
  notTried?: number;
  errors: Record<string, number>;
  startedAt: number;
  endedAt: number;
  p50ms: number;
  p99ms: number;
}

/**
 * The processes of one run: node processes (one per node; one for every in-memory node) and
 * client processes, all on loopback. `close()` stops them politely, then kills what is left.
 */
export class Harness {
  readonly servers: Child[] = [];
  readonly clients: Child[] = [];
  nodes: NodeRef[] = [];
  readonly events: Array<{ event: string; data: unknown }> = [];

  constructor(
    readonly system: System,
    readonly backend: BackendConfig,
    readonly addresses: SourceAddresses,
  ) {}

  get children(): Child[] {
    return [...this.servers, ...this.clients];
  }

  /** Start the node processes and wait until every node listens. */
  async startServers(o: ServerOptions): Promise<NodeRef[]> {
    // raw ws is one node; the batched ceiling runs as many node processes as the cluster it is
    // compared with, joined by a bare TCP mesh; the in-memory bus hosts all its nodes in one process
    const single = this.system === 'switchyard-memory' || this.system === 'ws';
    const procs = single ? 1 : o.nodes;
    const perProc = single ? (this.system === 'ws' ? 1 : o.nodes) : 1;
    const meshPorts: number[] = [];
    const started = await Promise.all(
      Array.from({ length: procs }, async (_, p) => {
        const child = new Child('server', `node-${p}`);
        this.servers.push(child);
        child.on('dead', (d) => this.events.push({ event: 'dead', data: d }));
        child.on('fence', (d) => this.events.push({ event: 'fence', data: d }));
        await child.ready();
        const args: ServerStartArgs = {
          system: this.system,
          count: perProc,
          index: p * perProc,
          history: o.history ?? false,
          heartbeatMs: o.heartbeatMs ?? 25_000,
          clusterHeartbeatMs: o.clusterHeartbeatMs ?? 1000,
          nodeTimeoutMs: o.nodeTimeoutMs ?? 5000,
          backend: this.backend,
        };
        const r = await child.call<{ nodes: Array<{ id: string; url: string }>; meshPort?: number }>('start', args, 60_000);
        if (r.meshPort !== undefined) meshPorts[p] = r.meshPort;
        return r.nodes.map((n) => ({ ...n, proc: child }));
      }),
    );
    if (meshPorts.length > 1) await Promise.all(this.servers.map((c, p) => c.call('mesh', { ports: meshPorts.filter((_, q) => q !== p) }, 30_000)));
    this.nodes = started.flat();
    return this.nodes;
  }

  /** Fork `count` client processes. */
  async startClients(count: number): Promise<void> {
    const fresh = Array.from({ length: count }, (_, i) => new Child('client', `clients-${this.clients.length + i}`));
    this.clients.push(...fresh);
    await Promise.all(fresh.map((c) => c.ready()));
  }

  /**
   * Specs for `total` clients: client g dials node g % N (its failover list is the other nodes
   * in turn) and joins `roomsOf(g)`. Fresh source addresses for the run.
   */
  specs(total: number, roomsOf: (g: number) => string[], nodes: NodeRef[] = this.nodes): ClientSpec[] {
    const addrs = this.addresses.take(total);
    const ids = Object.fromEntries(this.nodes.map((n) => [n.url, n.id]));
    return Array.from({ length: total }, (_, g) => {
      const k = g % nodes.length;
      const own = nodes[k] as NodeRef;
      const others = this.nodes.filter((n) => n !== own);
      const rot = others.length ? g % others.length : 0;
      return { url: own.url, urls: [own.url, ...others.slice(rot).map((n) => n.url), ...others.slice(0, rot).map((n) => n.url)], ids, rooms: roomsOf(g), localAddress: addrs[g % addrs.length] as string };
    });
  }

  /** Spread specs over the client processes and connect them all; totals of every process. */
  async connect(specs: ClientSpec[], o: { concurrency?: number; trackSeq?: boolean; failover?: boolean; handshakeTimeoutMs?: number; budgetMs?: number } = {}): Promise<ConnectReport> {
    const parts = this.clients.map((_, i) => specs.filter((_, g) => g % this.clients.length === i));
    const reports = await Promise.all(
      this.clients.map((c, i) =>
        c.call<ConnectReport>(
          'connect',
          { system: this.system, specs: parts[i], concurrency: o.concurrency ?? 100, trackSeq: o.trackSeq ?? false, failover: o.failover ?? false, handshakeTimeoutMs: o.handshakeTimeoutMs ?? 20_000, budgetMs: o.budgetMs },
          600_000,
        ),
      ),
    );
    const errors: Record<string, number> = {};
    for (const r of reports) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    return {
      connected: sum(reports.map((r) => r.connected)),
      failed: sum(reports.map((r) => r.failed)),
      notTried: sum(reports.map((r) => r.notTried ?? 0)),
      errors,
      startedAt: Math.min(...reports.map((r) => r.startedAt)),
      endedAt: Math.max(...reports.map((r) => r.endedAt)),
      p50ms: Math.max(...reports.map((r) => r.p50ms)),
      p99ms: Math.max(...reports.map((r) => r.p99ms)),
    };
  }

  async resetClients(t0: number, window?: [number, number]): Promise<void> {
    await Promise.all(this.clients.map((c) => c.call('reset', { t0, window })));
  }

  /** Every client process's figures, histograms merged, buckets summed. */
  async clientStats(traces = false) {
    const all = await Promise.all(this.clients.filter((c) => c.alive).map((c) => c.call<ClientStats>('stats', { traces })));
    const buckets = new Map<number, number>();
    const perRoom: Record<string, number> = {};
    for (const s of all) {
      for (const [b, n] of s.buckets) buckets.set(b, (buckets.get(b) ?? 0) + n);
      for (const [r, n] of Object.entries(s.perRoom)) perRoom[r] = (perRoom[r] ?? 0) + n;
    }
    return {
      received: sum(all.map((s) => s.received)),
      inWindow: sum(all.map((s) => s.inWindow)),
      perRoom,
      same: merge(all.map((s) => s.same)),
      cross: merge(all.map((s) => s.cross)),
      buckets,
      firstAt: Math.min(...all.map((s) => s.firstAt || Infinity)),
      lastAt: Math.max(...all.map((s) => s.lastAt)),
      traces: all.flatMap((s) => s.traces),
    };
  }

  /**
   * Per node process: CPU seconds and frames written since the last reset, memory, connections.
   * A reset also starts each process's 100 ms samples (see `serverSamples`).
   */
  async serverStats(reset = false): Promise<ServerStats[]> {
    return Promise.all(this.servers.filter((s) => s.alive).map((s) => s.call<ServerStats>('stats', { reset })));
  }

  /** Per live node process: its CPU and frame-count samples since the last reset. */
  async serverSamples(): Promise<Sample[][]> {
    return Promise.all(this.servers.filter((s) => s.alive).map((s) => s.call<Sample[]>('samples', {})));
  }

  /** Poll until `received` reaches `expected` or stops growing for `quietMs`; bounded by `maxMs`. */
  async waitForDeliveries(expected: number, quietMs = 1500, maxMs = 15_000): Promise<number> {
    const deadline = Date.now() + maxMs;
    let last = -1;
    let since = Date.now();
    for (;;) {
      const got = sum(await Promise.all(this.clients.filter((c) => c.alive).map((c) => c.call<ClientStats>('stats', {}).then((s) => s.received))));
      if (got >= expected || Date.now() > deadline) return got;
      if (got !== last) {
        last = got;
        since = Date.now();
      } else if (Date.now() - since > quietMs) return got;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Stop everything. A benchmark needs no graceful shutdown (each run has its own namespace on
   * the backends, cleaned afterwards), so by default clients and then nodes are killed at once:
   * fast and bounded. `polite` asks every process to stop first (bounded too).
   */
  async close(polite = false): Promise<void> {
    // a CPU profile is written only when a node exits by itself
    if (polite || process.env.BENCH_CPU_PROF) {
      await Promise.all(this.clients.filter((c) => c.alive).map((c) => c.call('close', {}, 5000).catch(() => undefined)));
      await Promise.all(this.servers.filter((c) => c.alive).map((c) => c.call('stop', {}, 8000).catch(() => undefined)));
      await Promise.all(this.children.map((c) => Promise.race([c.exited, new Promise((r) => setTimeout(r, process.env.BENCH_CPU_PROF ? 20_000 : 2000).unref())])));
    }
    await Promise.all(this.clients.map((c) => c.kill()));
    await this.kill();
  }

  /** kill -9 every child still alive. */
  async kill(): Promise<void> {
    await Promise.all(this.children.map((c) => c.kill()));
  }
}

export interface ServerStats {
  cpuSeconds: number;
  rss: number;
  heapUsed: number;
  connections: number[];
  /** Frames and messages written since the last reset; undefined when the system cannot tell. */
  wire?: WireCounts;
}

export const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
