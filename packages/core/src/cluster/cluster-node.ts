import type { Registry } from 'prom-client';
import type { ClusterConfig } from '../config/schema.js';
import { SwitchyardError } from '../errors.js';
import { childLogger, type Logger } from '../logger.js';
import { Topics, historyStream, topicFor, type Address } from '../model/address.js';
import { PROTOCOL_VERSION, type ControlEnvelope, type DeliverEnvelope, type Envelope, type FailoverEnvelope } from '../model/envelope.js';
import { emptyLoad, isHealthy, type NodeInfo, type NodeLoad, type NodeState } from '../model/node.js';
import type { SessionRecord } from '../model/session.js';
import type { ClusterMetrics } from '../metrics/cluster-metrics.js';
import type { MessageBus, Subscription } from '../ports/bus.js';
import type { HistoryStore } from '../ports/history.js';
import type { Lease, NodeRegistry, RegistryEvent } from '../ports/registry.js';
import type { SessionStore } from '../ports/sessions.js';
import type { AffinityStrategy, BalancerStrategy, FailoverReason, FailoverStrategy, PlacementContext } from '../strategy/types.js';
import { TypedEmitter } from '../util/emitter.js';
import { EnvelopeCodec } from './envelope-codec.js';
import { LoadSampler } from './load-sampler.js';
import { planRebalance } from './rebalance.js';
import { ScalingAdvisor } from './scaling-advisor.js';
import type { ClusterEvents, ClusterNodeApi, Placement, PublishOptions, PublishResult } from './types.js';

export const COORDINATOR_LEASE = 'coordinator';

export interface ClusterNodeDeps {
  config: ClusterConfig & { nodeId: string };
  bus: MessageBus;
  registry: NodeRegistry;
  sessions: SessionStore;
  history: HistoryStore | null;
  balancer: BalancerStrategy;
  affinity: AffinityStrategy;
  failover: FailoverStrategy;
  metrics: ClusterMetrics;
  logger: Logger;
  /** Close the ports on stop (default true). */
  closePorts?: boolean;
}

interface PendingFailover {
  reason: FailoverReason;
  timer: ReturnType<typeof setTimeout> | undefined;
  cancelIfBack: boolean;
  earlyWhenIdle: boolean;
  running: boolean;
}

const encoder = new TextEncoder();

/**
 * One node of a Switchyard cluster, transport-agnostic: it registers itself and heartbeats
 * its load, keeps a view of the other nodes, declares a node dead when its record expires
 * without a clean departure, holds (or waits for) the coordinator lease, and as coordinator
 * plans failovers, rebalancing and scaling advice. It routes messages through the bus with
 * interest-based subscriptions and delivers to this node's listeners without a round trip.
 */
export class ClusterNode extends TypedEmitter<ClusterEvents> implements ClusterNodeApi {
  readonly id: string;
  readonly logger: Logger;
  readonly bus: MessageBus;
  readonly registry: NodeRegistry;
  readonly sessions: SessionStore;
  readonly history: HistoryStore | undefined;
  readonly balancer: BalancerStrategy;
  readonly affinity: AffinityStrategy;
  readonly failover: FailoverStrategy;
  readonly metrics: ClusterMetrics;
  readonly config: ClusterNodeDeps['config'];
  readonly codec: EnvelopeCodec;

  private _self: NodeInfo;
  private readonly members = new Map<string, NodeInfo>();
  private readonly departed = new Set<string>();
  private readonly tombstones = new Map<string, number>();
  private readonly interest = new Map<string, { count: number; sub: Promise<Subscription> | undefined }>();
  private readonly pending = new Map<string, PendingFailover>();
  /** Nodes whose failover ran (or is pending), by reason; cleared when the node is seen alive again. */
  private readonly handled = new Map<string, FailoverReason>();
  private readonly sampler = new LoadSampler();
  private readonly scaling: ScalingAdvisor;
  private loadSource: () => Partial<NodeLoad> = () => ({});
  private lease: Lease | null = null;
  private highestToken = 0;
  private timers: Array<ReturnType<typeof setInterval>> = [];
  private stopWatch: (() => void) | undefined;
  private stopBusStatus: (() => void) | undefined;
  private phase: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;
  private ticking = false;

  constructor(private readonly deps: ClusterNodeDeps) {
    super();
    const { config } = deps;
    this.config = config;
    this.id = config.nodeId;
    this.logger = childLogger(deps.logger, { nodeId: this.id });
    this.bus = deps.bus;
    this.registry = deps.registry;
    this.sessions = deps.sessions;
    this.history = deps.history ?? undefined;
    this.balancer = deps.balancer;
    this.affinity = deps.affinity;
    this.failover = deps.failover;
    this.metrics = deps.metrics;
    this.scaling = new ScalingAdvisor(config.scaling);
    const capabilities = [...new Set([...config.capabilities, ...(this.history ? ['history'] : [])])];
    this.codec = new EnvelopeCodec({ nodeId: this.id, clusterKey: config.clusterKey, capabilities });
    const now = Date.now();
    this._self = {
      id: this.id,
      url: config.url,
      region: config.region,
      weight: config.weight,
      capacity: config.capacity,
      state: 'starting',
      load: emptyLoad(),
      protocol: PROTOCOL_VERSION,
      capabilities,
      startedAt: now,
      updatedAt: now,
      meta: config.meta,
    };
  }

  get self(): NodeInfo {
    return this._self;
  }

  get state(): NodeState {
    return this._self.state;
  }

  get metricsRegistry(): Registry {
    return this.metrics.registry;
  }

  nodes(): NodeInfo[] {
    const list = [...this.members.values()];
    if (!this.members.has(this.id)) list.push(this._self);
    return list.map((n) => (n.id === this.id ? this._self : n)).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  healthyNodes(): NodeInfo[] {
    return this.nodes().filter(isHealthy);
  }

  isCoordinator(): boolean {
    return this.lease !== null && this.lease.expiresAt > Date.now();
  }

  setUrl(url: string): void {
    this._self = { ...this._self, url };
  }

  setLoadSource(source: () => Partial<NodeLoad>): void {
    this.loadSource = source;
  }

  override onListenerError(err: unknown, event: string): void {
    this.logger.error({ err, event }, 'cluster event listener threw');
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.phase !== 'new') throw new SwitchyardError('CONFLICT', `cluster node ${this.id} was already started`);
    this.phase = 'starting';
    const observer = this.metrics.observer;
    for (const port of this.ports()) port.instrument?.(observer);
    await Promise.all(this.ports().map((p) => p.connect()));
    this.stopBusStatus = this.bus.onStatus((s) => this.emit('bus:status', s));
    await this.acquire(Topics.clusterEvents);
    await this.acquire(Topics.node(this.id));
    this.stopWatch = this.registry.watch((e) => this.onRegistryEvent(e));
    this.sampler.start();
    this.refreshLoad();
    await this.registry.register(this._self, this.config.nodeTimeoutMs);
    await this.reconcile();
    this.setState('ready');
    await this.heartbeat();
    this.phase = 'running';
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const t = setInterval(() => {
        Promise.resolve()
          .then(fn)
          .catch((err: unknown) => this.logger.warn({ err }, 'cluster timer task failed'));
      }, ms);
      this.timers.push(t);
    };
    every(this.config.heartbeatIntervalMs, () => this.tick());
    if (this.config.rebalance.enabled) every(this.config.rebalance.intervalMs, () => this.adviseRebalance());
    if (this.config.scaling.enabled) every(this.config.scaling.intervalMs, () => this.adviseScaling());
    this.logger.info({ url: this._self.url }, 'cluster node started');
  }

  async drain(): Promise<void> {
    if (this._self.state === 'draining' || this._self.state === 'dead') return;
    this.setState('draining');
    if (this.lease) {
      const lease = this.lease;
      this.setLease(null);
      await this.registry.releaseLease(lease).catch(() => undefined);
    }
    if (this.phase === 'running') await this.heartbeat();
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /**
   * Stop abruptly, as a crashed process would: timers and bus subscriptions end, nothing is
   * deregistered or released, so the other nodes find out by the node timeout. For tests and
   * demos of failover; use `stop()` to leave a cluster.
   */
  halt(): Promise<void> {
    this.stopping ??= this.doStop(true);
    return this.stopping;
  }

  private async doStop(crash = false): Promise<void> {
    const wasRunning = !crash && (this.phase === 'running' || this.phase === 'starting');
    this.phase = 'stopping';
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
    this.sampler.stop();
    this.stopWatch?.();
    const subs = [...this.interest.values()].map((i) => i.sub);
    this.interest.clear();
    await Promise.all(subs.map((s) => s?.then((x) => x.unsubscribe()).catch(() => undefined)));
    if (wasRunning) {
      if (this.lease) await this.registry.releaseLease(this.lease).catch(() => undefined);
      this.setLease(null);
      await this.registry.deregister(this.id).catch((err: unknown) => this.logger.warn({ err }, 'deregister failed'));
    }
    this.stopBusStatus?.();
    if (this.deps.closePorts !== false) {
      for (const p of this.ports().reverse()) await p.close().catch((err: unknown) => this.logger.warn({ err }, 'closing a port failed'));
    }
    this._self = { ...this._self, state: 'dead' };
    this.phase = 'stopped';
    this.logger.info('cluster node stopped');
    this.removeAllListeners();
  }

  private ports() {
    return [this.bus, this.registry, this.sessions, ...(this.history ? [this.history] : [])];
  }

  // ---------------------------------------------------------------- heartbeat and membership

  private setState(state: NodeState): void {
    if (this._self.state === state) return;
    this._self = { ...this._self, state };
    this.emit('state', state);
  }

  private refreshLoad(): void {
    const measured = this.sampler.sample();
    const fromTransport = this.loadSource();
    this._self = { ...this._self, load: { ...emptyLoad(), ...measured, ...fromTransport }, updatedAt: Date.now() };
    this.metrics.connections.set(this._self.load.connections);
  }

  private async heartbeat(): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    this.refreshLoad();
    const end = this.metrics.heartbeatDuration.startTimer();
    try {
      await this.registry.heartbeat(this._self, this.config.nodeTimeoutMs);
      end();
    } catch (err) {
      this.metrics.heartbeatFailures.inc();
      this.logger.warn({ err }, 'heartbeat failed');
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.phase !== 'running') return;
    this.ticking = true;
    try {
      await this.heartbeat();
      await this.reconcile();
      await this.coordinate();
    } finally {
      this.ticking = false;
    }
  }

  private onRegistryEvent(e: RegistryEvent): void {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    if (e.type === 'left') {
      if (e.nodeId === this.id) return;
      if (e.reason === 'shutdown') this.departed.add(e.nodeId);
      if (e.reason === 'shutdown' && this.members.has(e.nodeId)) {
        this.members.delete(e.nodeId);
        this.emit('node:left', e.nodeId, 'shutdown');
        this.updateNodeMetrics();
      }
      return;
    }
    if (e.node.id === this.id) return;
    this.observe(e.node);
  }

  /** Merge one node record into the view. */
  private observe(node: NodeInfo): void {
    const prev = this.members.get(node.id);
    this.departed.delete(node.id);
    if (this.tombstones.delete(node.id)) this.logger.info({ node: node.id }, 'dead node is back');
    this.members.set(node.id, node);
    if (node.state === 'ready' || node.state === 'starting') this.handled.delete(node.id);
    if (!prev || prev.state === 'dead') this.emit('node:joined', node);
    else if (prev.updatedAt !== node.updatedAt || prev.state !== node.state) this.emit('node:updated', node, prev);
    this.updateNodeMetrics();
  }

  /** Compare the registry's list with the view: joins, updates, departures, deaths. */
  async reconcile(): Promise<void> {
    let listed: NodeInfo[];
    try {
      listed = await this.registry.list();
    } catch (err) {
      this.logger.warn({ err }, 'registry list failed');
      return;
    }
    const seen = new Set<string>();
    for (const n of listed) {
      seen.add(n.id);
      if (n.id === this.id) continue;
      this.observe(n);
    }
    if (!seen.has(this.id) && this.phase === 'running') {
      this.logger.warn('own registry record expired; registering again');
      await this.registry.register(this._self, this.config.nodeTimeoutMs).catch(() => undefined);
    }
    const now = Date.now();
    for (const [id, node] of this.members) {
      if (id === this.id || seen.has(id) || node.state === 'dead') continue;
      if (this.departed.has(id)) {
        this.members.delete(id);
        this.emit('node:left', id, 'shutdown');
        continue;
      }
      const dead: NodeInfo = { ...node, state: 'dead' };
      this.members.set(id, dead);
      this.tombstones.set(id, now);
      this.metrics.nodeDeaths.inc();
      this.logger.warn({ node: id }, 'node declared dead: no heartbeat within the node timeout');
      this.emit('node:left', id, 'timeout');
      this.emit('node:dead', dead);
    }
    for (const [id, at] of this.tombstones) {
      if (now - at > this.config.tombstoneMs && !this.pending.has(id)) {
        this.tombstones.delete(id);
        this.members.delete(id);
      }
    }
    this.updateNodeMetrics();
  }

  private updateNodeMetrics(): void {
    const nodes = this.nodes();
    for (const s of ['starting', 'ready', 'draining', 'dead'] as const) this.metrics.nodes.set({ state: s }, nodes.filter((n) => n.state === s).length);
    this.metrics.healthyNodes.set(nodes.filter(isHealthy).length);
  }

  // ---------------------------------------------------------------- coordination and failover

  private setLease(lease: Lease | null): void {
    const was = this.lease !== null;
    this.lease = lease;
    if (lease) this.highestToken = Math.max(this.highestToken, lease.token);
    this.metrics.coordinator.set(lease ? 1 : 0);
    if (was !== (lease !== null)) {
      this.logger.info({ token: lease?.token }, lease ? 'became coordinator' : 'no longer coordinator');
      this.emit('coordinator', lease !== null);
    }
  }

  private async coordinate(): Promise<void> {
    if (this._self.state !== 'ready') return;
    const ttl = this.config.leaseTtlMs ?? this.config.nodeTimeoutMs;
    try {
      const lease = this.lease ? await this.registry.renewLease(this.lease, ttl) : await this.registry.acquireLease(COORDINATOR_LEASE, this.id, ttl);
      this.setLease(lease ?? (this.lease ? await this.registry.acquireLease(COORDINATOR_LEASE, this.id, ttl) : null));
    } catch (err) {
      this.logger.warn({ err }, 'lease renewal failed');
      if (this.lease && this.lease.expiresAt <= Date.now()) this.setLease(null);
    }
    if (!this.lease) return;
    for (const node of this.members.values()) {
      const reason: FailoverReason | undefined = node.state === 'dead' ? 'dead' : node.state === 'draining' ? 'draining' : undefined;
      if (reason && this.handled.get(node.id) !== reason) this.schedule(node, reason);
    }
    for (const [id, p] of this.pending) {
      const node = this.members.get(id);
      if (p.cancelIfBack && node && node.state === 'ready') {
        if (p.timer) clearTimeout(p.timer);
        this.pending.delete(id);
        this.logger.info({ node: id }, 'failover cancelled: node came back');
      } else if (p.earlyWhenIdle && node && node.load.connections === 0 && !p.running) {
        if (p.timer) clearTimeout(p.timer);
        void this.runFailover(id);
      }
    }
  }

  private schedule(node: NodeInfo, reason: FailoverReason): void {
    const existing = this.pending.get(node.id);
    if (existing && existing.reason === reason) return;
    if (existing?.timer) clearTimeout(existing.timer);
    this.handled.set(node.id, reason);
    const timing = this.failover.timing({ node, reason });
    const p: PendingFailover = { reason, timer: undefined, cancelIfBack: false, earlyWhenIdle: false, running: false };
    this.pending.set(node.id, p);
    if (timing.action === 'now') {
      void this.runFailover(node.id);
      return;
    }
    p.cancelIfBack = timing.cancelIfBack;
    p.earlyWhenIdle = timing.earlyWhenIdle;
    p.timer = setTimeout(() => void this.runFailover(node.id), timing.ms);
    this.logger.info({ node: node.id, reason, waitMs: timing.ms, strategy: this.failover.name }, 'failover scheduled');
  }

  /** Move the node's sessions per the failover strategy. Retried on the next tick if it cannot finish. */
  private async runFailover(nodeId: string): Promise<void> {
    const p = this.pending.get(nodeId);
    if (!p || p.running || this.phase !== 'running') return;
    p.running = true;
    p.timer = undefined;
    try {
      const lease = this.lease && (await this.registry.renewLease(this.lease, this.config.leaseTtlMs ?? this.config.nodeTimeoutMs));
      if (!lease) {
        this.setLease(null);
        this.pending.delete(nodeId);
        this.handled.delete(nodeId); // the next coordinator decides
        return;
      }
      this.setLease(lease);
      const node = this.members.get(nodeId);
      const candidates = this.healthyNodes().filter((n) => n.id !== nodeId);
      if (candidates.length === 0) {
        this.logger.warn({ node: nodeId }, 'failover postponed: no healthy node to take the sessions');
        p.running = false;
        p.timer = setTimeout(() => void this.runFailover(nodeId), this.config.heartbeatIntervalMs);
        return;
      }
      const sessions = await this.sessions.byNode(nodeId);
      const assignments = this.assign(sessions, candidates);
      const result = sessions.length > 0 ? await this.sessions.reassign(nodeId, assignments) : { moved: {}, skipped: [] };
      const envelope = this.codec.build<FailoverEnvelope>({
        type: 'failover',
        node: nodeId,
        reason: p.reason,
        strategy: this.failover.name,
        token: lease.token,
        assignments: result.moved,
      });
      this.metrics.failovers.inc({ reason: p.reason, strategy: this.failover.name });
      this.metrics.sessionsReassigned.inc(Object.keys(result.moved).length);
      this.logger.info({ node: nodeId, reason: p.reason, moved: Object.keys(result.moved).length, skipped: result.skipped.length, token: lease.token }, 'failover executed');
      this.pending.delete(nodeId);
      if (node?.state === 'dead') this.tombstones.set(nodeId, Date.now());
      this.onEnvelope(envelope);
      await this.send(Topics.clusterEvents, envelope);
    } catch (err) {
      this.logger.error({ err, node: nodeId }, 'failover failed; will retry');
      p.running = false;
      if (this.phase === 'running') p.timer = setTimeout(() => void this.runFailover(nodeId), this.config.heartbeatIntervalMs);
    }
  }

  private assign(sessions: readonly SessionRecord[], candidates: readonly NodeInfo[]): Record<string, string> {
    // A working copy whose connection counts grow with each pick, so load-aware balancers spread the sessions.
    const working = candidates.map((n) => ({ ...n, load: { ...n.load } }));
    const pick = (s: SessionRecord): NodeInfo => {
      const chosen = this.balancer.pick(working, { sessionId: s.id, userId: s.userId, key: s.userId ?? s.id });
      const w = working.find((n) => n.id === chosen.id);
      if (w) w.load.connections++;
      return chosen;
    };
    if (this.failover.assign) return this.failover.assign(sessions, working, pick);
    return Object.fromEntries(sessions.map((s) => [s.id, pick(s).id]));
  }

  private adviseRebalance(): void {
    if (!this.isCoordinator()) return;
    const advice = planRebalance(this.nodes(), this.config.rebalance.threshold);
    if (!advice) return;
    this.metrics.rebalanceAdvice.inc();
    this.emit('rebalance', advice);
    for (const m of advice.moves) void this.control('rebalance', { connections: m.connections, to: m.to }, m.from).catch(() => undefined);
  }

  private adviseScaling(): void {
    if (!this.isCoordinator()) return;
    const advice = this.scaling.evaluate(this.nodes());
    if (!advice) return;
    this.metrics.scaleAdvice.inc({ direction: advice.direction });
    this.logger.info(advice, `scale-${advice.direction} advised`);
    this.emit('scale', advice);
  }

  // ---------------------------------------------------------------- placement

  async place(ctx: PlacementContext): Promise<Placement> {
    const end = this.metrics.pickDuration.startTimer();
    const healthy = this.healthyNodes();
    if (healthy.length === 0) {
      if (this._self.state === 'starting' || this._self.state === 'ready') return this.placed(this._self, 'local', null, end);
      throw new SwitchyardError('NO_HEALTHY_NODE', 'no healthy node can take the connection');
    }
    const narrowed = this.affinity.candidates?.(healthy, ctx) ?? healthy;
    const candidates = narrowed.length > 0 ? narrowed : healthy;
    const key = this.affinity.key(ctx);
    if (key) {
      const pinned = await this.sessions.getAffinity(key);
      const node = pinned ? candidates.find((n) => n.id === pinned) : undefined;
      if (node) return this.placed(node, 'affinity', key, end);
    }
    const node = this.balancer.pick(candidates, ctx);
    if (key) await this.sessions.setAffinity(key, node.id, this.config.sessionTtlMs);
    return this.placed(node, 'balancer', key, end);
  }

  private placed(node: NodeInfo, reason: Placement['reason'], key: string | null, end: () => void): Placement {
    end();
    const local = node.id === this.id;
    this.metrics.assignments.inc({ strategy: this.balancer.name, reason, local: String(local) });
    // Count the placement at once so a burst between heartbeats spreads.
    // (the next heartbeat replaces the estimate with the measured load)
    if (local) this._self = { ...this._self, load: { ...this._self.load, connections: this._self.load.connections + 1 } };
    const m = this.members.get(node.id);
    if (m && !local) this.members.set(node.id, { ...m, load: { ...m.load, connections: m.load.connections + 1 } });
    return { node, reason, key, local };
  }

  // ---------------------------------------------------------------- messaging

  async acquire(topic: string): Promise<void> {
    let entry = this.interest.get(topic);
    if (!entry) {
      entry = { count: 0, sub: undefined };
      this.interest.set(topic, entry);
      const e = entry;
      e.sub = this.bus.subscribe(topic, (payload) => this.onBusMessage(payload));
      e.sub.catch(() => {
        if (this.interest.get(topic) === e) this.interest.delete(topic);
      });
    }
    entry.count++;
    await entry.sub;
  }

  async release(topic: string): Promise<void> {
    const entry = this.interest.get(topic);
    if (!entry) return;
    entry.count--;
    if (entry.count > 0) return;
    this.interest.delete(topic);
    const sub = await entry.sub?.catch(() => undefined);
    await sub?.unsubscribe();
  }

  /** Topics this node currently receives. */
  topics(): string[] {
    return [...this.interest.keys()];
  }

  async publish(address: Address, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const result: PublishResult = {};
    if (options.history && address.kind === 'room') {
      if (!this.history) throw new SwitchyardError('UNSUPPORTED', 'history was requested but no HistoryStore is configured');
      const pos = await this.history.append(historyStream(address.room), encoder.encode(JSON.stringify(data)));
      result.offset = pos.offset;
      result.epoch = pos.epoch;
    }
    const envelope = this.codec.build<DeliverEnvelope>({
      type: 'deliver',
      to: address,
      data,
      ...(options.except?.length ? { except: options.except } : {}),
      ...(result.offset !== undefined ? { offset: result.offset, epoch: result.epoch } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    });
    const topic = topicFor(address);
    const onlyHere = (address.kind === 'node' && address.nodeId === this.id) || (address.kind === 'connection' && address.nodeId === this.id);
    if (onlyHere || this.interest.has(topic)) this.emit('deliver', envelope);
    if (!onlyHere) await this.send(topic, envelope);
    return result;
  }

  async control(action: ControlEnvelope['action'], args: Record<string, unknown> = {}, node?: string): Promise<void> {
    const envelope = this.codec.build<ControlEnvelope>({ type: 'control', action, args, ...(node ? { node } : {}) });
    if (node === this.id) {
      this.onEnvelope(envelope);
      return;
    }
    await this.send(node ? Topics.node(node) : Topics.clusterEvents, envelope);
  }

  private async send(topic: string, envelope: Envelope): Promise<void> {
    const end = this.metrics.publishDuration.startTimer();
    await this.bus.publish(topic, this.codec.encode(envelope));
    end();
    this.metrics.envelopesPublished.inc({ type: envelope.type });
  }

  private onBusMessage(payload: Uint8Array): void {
    const decoded = this.codec.decode(payload);
    if (!decoded.ok) {
      this.metrics.envelopesDropped.inc({ reason: decoded.reason });
      this.logger.debug({ reason: decoded.reason, detail: decoded.detail }, 'envelope dropped');
      this.emit('envelope:dropped', decoded.reason, decoded.detail);
      return;
    }
    const envelope = decoded.envelope;
    if (envelope.from === this.id) return; // delivered locally when published
    this.metrics.envelopesReceived.inc({ type: envelope.type });
    this.metrics.busLatency.observe(Math.max(0, Date.now() - envelope.ts) / 1000);
    this.onEnvelope(envelope);
  }

  private onEnvelope(envelope: Envelope): void {
    switch (envelope.type) {
      case 'deliver':
        this.emit('deliver', envelope);
        return;
      case 'failover':
        if (envelope.token < this.highestToken && envelope.from !== this.id) {
          this.metrics.envelopesDropped.inc({ reason: 'stale' });
          this.logger.warn({ token: envelope.token, highest: this.highestToken }, 'failover from a stale coordinator ignored');
          return;
        }
        this.highestToken = Math.max(this.highestToken, envelope.token);
        if (!this.members.get(envelope.node) || this.members.get(envelope.node)?.state !== 'ready') this.handled.set(envelope.node, envelope.reason);
        this.emit('failover', envelope);
        return;
      case 'control':
        if (envelope.node && envelope.node !== this.id) return;
        if (envelope.action === 'drain') void this.drain().catch((err: unknown) => this.logger.warn({ err }, 'drain failed'));
        this.emit('control', envelope);
        return;
    }
  }
}
