/**
 * A cluster of Switchyard nodes inside one process: each node is a core cluster node plus a
 * WebSocket node on its own 127.0.0.1 port, with its own adapter instances on the chosen
 * backend. Nodes can be started, stopped (graceful drain) and killed (crash) at run time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createCluster, type ClusterNode, type NodeInfo } from '@switchyard/core';
import { createNode, type SwitchyardNode } from '@switchyard/transport-ws';
import type { Backend } from './backends.js';
import { LatencyWindow, RateMeter } from './stats.js';

/** What the process knows about a node it runs (the registry may say otherwise for a while). */
export type ProcessState = 'starting' | 'running' | 'draining' | 'stopped' | 'killed';

/** One node of the demo and its live counters. */
export class DemoNode {
  process: ProcessState = 'starting';
  endedAt: number | undefined;
  readonly busIn = new RateMeter();
  readonly busLatency = new LatencyWindow();
  /** Frames written to sockets per second, from the transport's counter. */
  socketOutRate = 0;
  private lastSent: number | undefined;
  private readonly sentDeltas: number[] = [];

  constructor(
    readonly id: string,
    readonly port: number,
    readonly url: string,
    readonly cluster: ClusterNode,
    readonly ws: SwitchyardNode,
    readonly server: Server,
    readonly sockets: Set<Socket>,
    shared: LatencyWindow,
  ) {
    cluster.on('deliver', (env) => {
      const ms = Date.now() - env.ts;
      this.busIn.mark();
      this.busLatency.add(ms);
      shared.add(ms);
    });
  }

  get alive(): boolean {
    return this.process === 'running' || this.process === 'draining' || this.process === 'starting';
  }

  /** Rooms of this node with their local member counts. */
  rooms(): Record<string, number> {
    const out: Record<string, number> = {};
    if (!this.alive) return out;
    for (const c of this.ws.connections.values()) for (const r of c.rooms) out[r] = (out[r] ?? 0) + 1;
    return out;
  }

  /** Users connected here (for the dashboard's connection list). */
  users(): string[] {
    if (!this.alive) return [];
    return [...this.ws.connections.values()].map((c) => c.userId ?? c.id);
  }

  /** Called once a second: turns the transport's sent-frames counter into a rate. */
  async sample(): Promise<void> {
    if (!this.alive) {
      this.socketOutRate = 0;
      return;
    }
    const metric = this.cluster.metricsRegistry.getSingleMetric('switchyard_ws_messages_sent_total');
    const value = metric ? ((await metric.get()).values[0]?.value ?? 0) : 0;
    if (this.lastSent !== undefined) this.sentDeltas.push(Math.max(0, value - this.lastSent));
    this.lastSent = value;
    if (this.sentDeltas.length > 5) this.sentDeltas.shift();
    this.socketOutRate = this.sentDeltas.length ? this.sentDeltas.reduce((a, b) => a + b, 0) / this.sentDeltas.length : 0;
  }
}

export interface LocalClusterOptions {
  backend: Backend;
  host: string;
  /** First node port (node i listens on basePort + i); 0 picks free ports. */
  basePort: number;
  /** A line for the event log. */
  log: (text: string, level?: 'info' | 'warn') => void;
}

/** Timings chosen so that a person sees failover within a few seconds. */
const TIMINGS = {
  heartbeatIntervalMs: 500,
  nodeTimeoutMs: 2500,
  tombstoneMs: 30_000,
} as const;

export class LocalCluster {
  readonly nodes: DemoNode[] = [];
  /** Bus latency (publish on one node to delivery on another) over every node. */
  readonly busLatency = new LatencyWindow();
  private nextIndex = 1;
  private readonly recent = new Map<string, number>();

  constructor(private readonly o: LocalClusterOptions) {}

  /** Nodes that still run. */
  get running(): DemoNode[] {
    return this.nodes.filter((n) => n.alive);
  }

  /** WebSocket URLs of the running nodes. */
  urls(): string[] {
    return this.running.map((n) => n.url);
  }

  /** The registry's view from any running node (dead nodes stay listed as tombstones for a while). */
  registryView(): NodeInfo[] {
    const viewer = this.running.find((n) => n.process === 'running') ?? this.running[0];
    return viewer ? viewer.cluster.nodes() : [];
  }

  /** Starts one more node and resolves once it serves. */
  async startNode(): Promise<DemoNode> {
    if (this.running.length >= 9) throw new Error('the demo runs at most 9 nodes at once');
    const index = this.nextIndex++;
    const id = `node-${index}`;
    const sockets = new Set<Socket>();
    const server = createServer((req, res) => ws.httpHandler(req, res));
    server.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.basePort === 0 ? 0 : this.o.basePort + index, this.o.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const url = `ws://${this.o.host}:${port}/ws`;
    const cluster = createCluster({
      ...this.o.backend.portsFor(id),
      nodeId: id,
      url,
      ...TIMINGS,
      // A small capacity makes fill ratios (and so rebalancing and scaling advice) visible with a few clients.
      capacity: 20,
      balancer: 'least-connections',
      affinity: 'none',
      failover: 'immediate',
      rebalance: { enabled: true, threshold: 0.15, intervalMs: 4000 },
      scaling: { minNodes: 2, maxNodes: 9, scaleUpAt: 0.75, scaleDownAt: 0.05, sustain: 3, cooldownMs: 30_000, intervalMs: 2000 },
    });
    const ws: SwitchyardNode = createNode({
      cluster,
      server,
      publicUrl: url,
      rooms: { history: true },
      timeouts: { heartbeatMs: 5000 },
      drain: { graceMs: 3000, batchSize: 5, batchIntervalMs: 200 },
      // Demo only: the client names itself. A real application verifies a token (see jwtAuth).
      authenticate: ({ params }) => ({ userId: typeof params?.name === 'string' && params.name ? params.name.slice(0, 40) : undefined }),
    });
    const node = new DemoNode(id, port, url, cluster, ws, server, sockets, this.busLatency);
    this.nodes.push(node);
    this.watch(node);
    try {
      await ws.start();
    } catch (err) {
      node.process = 'stopped';
      node.endedAt = Date.now();
      server.close();
      throw err;
    }
    node.process = 'running';
    this.o.log(`${id} started on ${url}`);
    return node;
  }

  /** Graceful stop: /ready turns 503, clients are told to move (redirect + 1012), sessions fail over, the node deregisters. */
  async stopNode(id: string): Promise<void> {
    const node = this.find(id);
    node.process = 'draining';
    const conns = node.ws.connections.size;
    this.o.log(`${id}: draining (${conns} connection${conns === 1 ? '' : 's'} told to move)`);
    await node.ws.close({ graceMs: 3000 });
    await new Promise<void>((resolve) => node.server.close(() => resolve()));
    node.process = 'stopped';
    node.endedAt = Date.now();
    this.o.log(`${id}: stopped and deregistered`);
  }

  /**
   * Crash: the cluster node halts without a goodbye (no deregistration, no lease release) and
   * every TCP socket of the node is destroyed, as if the process died. The others notice by
   * the node timeout; clients reconnect elsewhere and resume.
   */
  async killNode(id: string): Promise<void> {
    const node = this.find(id);
    node.process = 'killed';
    node.endedAt = Date.now();
    this.o.log(`${id}: killed (sockets dropped, no goodbye; the others notice within ${TIMINGS.nodeTimeoutMs / 1000} s)`, 'warn');
    await node.cluster.halt();
    for (const s of node.sockets) s.destroy();
    node.server.close();
    // Release the transport's own timers; its cluster is already halted, so nothing goes out.
    await node.ws.close({ graceMs: 0 }).catch(() => undefined);
  }

  /** Stops every running node gracefully (short grace period). */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.running.map(async (n) => {
        n.process = 'stopped';
        n.endedAt = Date.now();
        await n.ws.close({ graceMs: 500 }).catch(() => undefined);
        for (const s of n.sockets) s.destroy();
        await new Promise<void>((resolve) => n.server.close(() => resolve()));
      }),
    );
  }

  /** Forget nodes that ended long ago and are gone from the registry. */
  prune(now = Date.now()): void {
    const listed = new Set(this.registryView().map((n) => n.id));
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i] as DemoNode;
      if (!n.alive && n.endedAt !== undefined && now - n.endedAt > 20_000 && !listed.has(n.id)) this.nodes.splice(i, 1);
    }
  }

  find(id: string): DemoNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id}`);
    if (!node.alive) throw new Error(`${id} is not running`);
    return node;
  }

  /** Cluster events to the log, once each even though every node reports them. */
  private watch(node: DemoNode): void {
    const c = node.cluster;
    const once = (key: string, text: string, level: 'info' | 'warn' = 'info') => {
      const now = Date.now();
      for (const [k, at] of this.recent) if (now - at > 5000) this.recent.delete(k);
      if (this.recent.has(key)) return;
      this.recent.set(key, now);
      this.o.log(text, level);
    };
    c.on('node:dead', (d) => once(`dead:${d.id}`, `${d.id} declared dead by ${node.id} (no heartbeat for ${TIMINGS.nodeTimeoutMs / 1000} s)`, 'warn'));
    c.on('node:left', (id, reason) => once(`left:${id}`, `${id} left the cluster (${reason})`));
    c.on('coordinator', (yes) => yes && once(`coord:${node.id}`, `${node.id} holds the coordinator lease`));
    c.on('failover', (f) =>
      once(`failover:${f.node}:${f.token}`, `failover of ${f.node} (${f.reason}, ${f.strategy}) by ${f.from}: ${Object.keys(f.assignments).length} session(s) reassigned`),
    );
    c.on('rebalance', (a) => once(`rebalance:${JSON.stringify(a.moves)}`, `rebalance advice: ${a.moves.map((m) => `${m.connections} from ${m.from} to ${m.to}`).join(', ')}`));
    c.on('scale', (a) => once(`scale:${a.direction}:${a.desiredNodes}`, `scaling advice: ${a.direction} to ${a.desiredNodes} nodes (${a.reason})`));
  }
}
