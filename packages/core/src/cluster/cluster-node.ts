import type { Registry } from 'prom-client';
import { livenessTimes, type ClusterConfig } from '../config/schema.js';
import { OrderedRooms, type RoomGap } from '../delivery/ordered-rooms.js';
import { SenderWindows } from '../delivery/sender-windows.js';
import { SwitchyardError } from '../errors.js';
import { childLogger, type Logger } from '../logger.js';
import { Topics, type Address } from '../model/address.js';
import { PROTOCOL_VERSION, type ControlEnvelope, type DeliverEnvelope, type Envelope } from '../model/envelope.js';
import { emptyLoad, isHealthy, type NodeInfo, type NodeLoad, type NodeState } from '../model/node.js';
import type { ClusterMetrics } from '../metrics/cluster-metrics.js';
import { startTracing, type Tracing } from '../observability/tracing.js';
import type { ClusterAdapter } from '../ports/adapter.js';
import type { MessageBus } from '../ports/bus.js';
import type { AdapterObserver } from '../ports/observer.js';
import type { HistoryPosition, HistoryStore } from '../ports/history.js';
import type { Lease, NodeRegistry, RegistryEvent } from '../ports/registry.js';
import type { SessionStore } from '../ports/sessions.js';
import type { AffinityStrategy, BalancerStrategy, FailoverStrategy, PlacementContext } from '../strategy/types.js';
import { withDeadline } from '../util/deadline.js';
import { TypedEmitter } from '../util/emitter.js';
import { EnvelopeCodec } from './envelope-codec.js';
import { FailoverPlanner } from './failover-planner.js';
import { Liveness } from './liveness.js';
import { LoadSampler } from './load-sampler.js';
import { planRebalance } from './rebalance.js';
import { ClusterQueries, type QueryHandler } from './queries.js';
import { MessageRouter } from './router.js';
import { ScalingAdvisor } from './scaling-advisor.js';
import type { ClusterEvents, ClusterHealth, ClusterNodeApi, ClusterPhase, Placement, PublishOptions, PublishResult, QueryOptions, QueryResult } from './types.js';

export const COORDINATOR_LEASE = 'coordinator';
/** Built-in query every node answers, used by `probe()`. */
const PING_QUERY = 'switchyard.ping';

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
  /**
   * The adapter every one of its ports above came from: its `instrument()`, `connect()` and
   * `close()` are used for those ports (the others are handled one by one).
   */
  adapter?: ClusterAdapter;
}

/** Something with a lifecycle the node drives: a port, or an adapter holding several. */
interface LifecycleUnit {
  readonly name: string;
  /** The unit is (or holds) the bus: closed last. */
  readonly bus: boolean;
  connect(): Promise<void>;
  close(): Promise<void>;
  instrument?(observer: AdapterObserver): void;
}

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
  /** Nodes reported as gone, until when; and the heartbeat time they were reported at. */
  private readonly suspects = new Map<string, number>();
  private readonly suspectedAt = new Map<string, number>();
  private readonly probes = new Map<string, Promise<boolean>>();
  /** When a node last joined, left, died or changed state (rebalance advice waits for it to settle). */
  private membershipChangedAt = 0;
  private readonly router: MessageRouter;
  private readonly planner: FailoverPlanner;
  private readonly queries: ClusterQueries;
  private readonly sampler = new LoadSampler();
  private readonly scaling: ScalingAdvisor;
  private readonly liveness: Liveness;
  /** Per-room ordering of rooms with history (absent without a history store). */
  private readonly ordered: OrderedRooms | undefined;
  private readonly registryTimeoutMs: number;
  private loadSource: () => Partial<NodeLoad> = () => ({});
  private lease: Lease | null = null;
  private highestToken = 0;
  private timers: Array<ReturnType<typeof setInterval>> = [];
  private stopWatch: (() => void) | undefined;
  private stopBusStatus: (() => void) | undefined;
  private _phase: ClusterPhase = 'new';
  private stopping: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private ticking = false;
  private beating = false;
  /** Spans for publishes and deliveries; null (one check on the delivery path) while nothing would record them. */
  private tracing: Tracing | null = null;

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
    const times = livenessTimes(config);
    this.registryTimeoutMs = times.registryTimeoutMs;
    this.liveness = new Liveness({
      fenceAfterMs: times.fenceAfterMs,
      fenceOnBusLoss: config.fenceOnBusLoss,
      nodeTimeoutMs: config.nodeTimeoutMs,
      onFence: (reason) => this.onFence(reason),
      onUnfence: () => this.onUnfence(),
      onRegistryLink: (up, downForMs) =>
        up
          ? this.logger.warn({ registry: this.registry.name, downForMs: Math.round(downForMs) }, 'registry reachable again')
          : this.logger.warn({ registry: this.registry.name }, 'registry unreachable: /ready answers 503; the node fences itself if it cannot heartbeat before the others may declare it dead'),
    });
    this.ordered = this.history
      ? new OrderedRooms({
          nodeId: this.id,
          history: this.history,
          options: config.delivery,
          logger: this.logger,
          deliver: (e) => this.deliverLocal(e),
          gap: (g) => this.onRoomGap(g),
          count: (event, n = 1) => (event === 'reordered' ? this.metrics.roomReordered : event === 'filled' ? this.metrics.roomFilled : this.metrics.roomDuplicates).inc(n),
        })
      : undefined;
    this.router = new MessageRouter({
      nodeId: this.id,
      bus: this.bus,
      history: this.history,
      codec: this.codec,
      metrics: this.metrics,
      logger: this.logger,
      windows: new SenderWindows({ strict: this.codec.signing, windowMs: config.replayWindowMs, maxEntries: 100_000 }),
      receive: (envelope) => this.onEnvelope(envelope),
      dropped: (reason, detail) => this.emit('envelope:dropped', reason, detail),
      lost: (topic, from) => this.emit('envelope:lost', topic, from),
    });
    this.planner = new FailoverPlanner({
      failover: this.failover,
      balancer: this.balancer,
      sessions: this.sessions,
      metrics: this.metrics,
      logger: this.logger,
      retryMs: config.heartbeatIntervalMs,
      node: (id) => this.members.get(id),
      healthyNodes: () => this.healthyNodes(),
      renewLease: () => this.renewLease(),
      announce: (plan) => this.router.sendTo(plan),
    });
    this.queries = new ClusterQueries({
      nodeId: this.id,
      logger: this.logger,
      sendQuery: (q, node) => this.router.sendTo(q, node),
      sendReply: (r, to) => this.router.sendTo(r, to),
    });
    this.queries.handle(PING_QUERY, () => true);
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

  get phase(): ClusterPhase {
    return this._phase;
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
    const now = Date.now();
    return this.nodes().filter((n) => isHealthy(n) && !((this.suspects.get(n.id) ?? 0) > now));
  }

  /**
   * Ask a node whether it is alive; if it does not answer within `timeoutMs`, suspect it.
   * Concurrent probes of one node share one question. Resolves true when it answered.
   */
  probe(nodeId: string, timeoutMs = 250): Promise<boolean> {
    if (nodeId === this.id) return Promise.resolve(this._phase === 'running');
    let p = this.probes.get(nodeId);
    if (!p) {
      p = this.queries.ask(PING_QUERY, null, [nodeId], timeoutMs).then((r) => {
        this.probes.delete(nodeId);
        const alive = r.results.length > 0;
        if (!alive) this.suspect(nodeId);
        return alive;
      });
      this.probes.set(nodeId, p);
    }
    return p;
  }

  /**
   * Someone (a client that lost its connection abnormally, a failed request) reports that a
   * node seems gone. Placement skips it until it heartbeats again or `ttlMs` passes (default
   * the node timeout), so clients of a crashed node are not sent back to it while the failure
   * detector is still counting.
   */
  suspect(nodeId: string, ttlMs = this.config.nodeTimeoutMs): void {
    if (nodeId === this.id || !this.members.has(nodeId)) return;
    this.suspects.set(nodeId, Date.now() + ttlMs);
    this.suspectedAt.set(nodeId, this.members.get(nodeId)?.updatedAt ?? 0);
  }

  isCoordinator(): boolean {
    return this.lease !== null && this.lease.expiresAt > Date.now();
  }

  /** True while this node has fenced itself: cut off from the registry (or the bus), it must serve no client. */
  get fenced(): boolean {
    return this.liveness.fenced !== null;
  }

  health(): ClusterHealth {
    return { registry: this.liveness.registryHealthy, bus: this.bus.status, fenced: this.liveness.fenced };
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

  start(): Promise<void> {
    if (this._phase !== 'new') return Promise.reject(new SwitchyardError('CONFLICT', `cluster node ${this.id} was already started`));
    this.starting = this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this._phase = 'starting';
    this.tracing = await startTracing(this.config.tracing, { nodeId: this.id, logger: this.logger });
    const observer = this.metrics.observer;
    for (const unit of this.lifecycleUnits()) unit.instrument?.(observer);
    await Promise.all(this.lifecycleUnits().map((u) => u.connect()));
    let busWasUp = this.bus.status === 'connected';
    let busDownAt = 0;
    this.stopBusStatus = this.bus.onStatus((s) => {
      this.liveness.busChanged(s);
      const up = s === 'connected';
      if (up !== busWasUp && s !== 'closed' && this._phase !== 'stopping') {
        if (up) this.logger.warn({ bus: this.bus.name, downForMs: Date.now() - busDownAt }, 'bus connection back');
        else {
          busDownAt = Date.now();
          this.logger.warn({ bus: this.bus.name, status: s }, 'bus connection lost: publishes are buffered, /ready answers 503');
        }
      }
      // what the bus did not bring while it was down is in history
      if (up && !busWasUp) this.ordered?.catchUp();
      busWasUp = up;
      this.emit('bus:status', s);
    });
    await this.acquire(Topics.clusterEvents);
    await this.acquire(Topics.node(this.id));
    this.stopWatch = this.registry.watch((e) => this.onRegistryEvent(e));
    this.sampler.start();
    this.refreshLoad();
    const registeredAt = performance.now();
    await this.registry.register(this._self, this.config.nodeTimeoutMs);
    this.liveness.start(registeredAt, this.bus.status);
    await this.reconcile();
    this.setState('ready');
    await this.heartbeat();
    this._phase = 'running';
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
    const check = this.config.delivery.checkIntervalMs;
    if (this.ordered && check > 0) every(check, () => this.ordered?.catchUp(check));
    this.logger.info({ url: this._self.url }, 'cluster node started');
  }

  /** Resolves once `start()` has finished (rejects as it does); rejects at once if `start()` was never called. */
  whenRunning(): Promise<void> {
    if (!this.starting) return Promise.reject(new SwitchyardError('CONFLICT', `cluster node ${this.id} was not started`));
    return this.starting;
  }

  async drain(): Promise<void> {
    if (this._self.state === 'draining' || this._self.state === 'dead') return;
    this.setState('draining');
    if (this.lease) {
      const lease = this.lease;
      this.setLease(null);
      await this.registry.releaseLease(lease).catch(() => undefined);
    }
    if (this._phase === 'running') await this.heartbeat();
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
    const wasRunning = !crash && (this._phase === 'running' || this._phase === 'starting');
    this._phase = 'stopping';
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.planner.stop();
    this.queries.stop();
    this.sampler.stop();
    this.liveness.stop();
    this.ordered?.stop();
    this.stopWatch?.();
    // Every step has a deadline: a stop finishes whatever the bus or the registry is doing.
    const ms = this.registryTimeoutMs;
    await withDeadline(this.router.releaseAll(), ms, 'unsubscribe').catch((err: unknown) => this.logger.warn({ err }, 'unsubscribing failed'));
    if (wasRunning) {
      if (this.lease) await withDeadline(this.registry.releaseLease(this.lease), ms, 'lease release').catch(() => undefined);
      this.setLease(null);
      await withDeadline(this.registry.deregister(this.id), ms, 'deregister').catch((err: unknown) => this.logger.warn({ err }, 'deregister failed'));
    }
    this.stopBusStatus?.();
    if (this.deps.closePorts !== false) {
      for (const u of this.lifecycleUnits().reverse()) await withDeadline(u.close(), ms, `closing the ${u.name}`).catch((err: unknown) => this.logger.warn({ err }, 'closing a port failed'));
    }
    this._self = { ...this._self, state: 'dead' };
    this._phase = 'stopped';
    this.logger.info('cluster node stopped');
    this.removeAllListeners();
  }

  private ports() {
    return [this.bus, this.registry, this.sessions, ...(this.history ? [this.history] : [])];
  }

  /**
   * What start and stop drive, in connect order (stop goes in reverse, so the bus closes
   * last): the adapter the ports came from as one unit, and each port it does not hold.
   */
  private lifecycleUnits(): LifecycleUnit[] {
    const adapter = this.deps.adapter;
    const held = new Set<unknown>(adapter ? [adapter.bus, adapter.registry, adapter.sessions, adapter.history].filter((p) => p !== undefined) : []);
    const port = (p: ReturnType<ClusterNode['ports']>[number]): LifecycleUnit => ({
      name: `${p.name} port`,
      bus: p === this.bus,
      connect: () => p.connect(),
      close: () => p.close(),
      instrument: p.instrument ? (o) => p.instrument?.(o) : undefined,
    });
    const own = this.ports().filter((p) => !held.has(p)).map(port);
    if (!adapter) return own;
    const unit: LifecycleUnit = {
      name: 'adapter',
      bus: held.has(this.bus),
      connect: () => adapter.connect(),
      close: () => adapter.close(),
      instrument: (o) => adapter.instrument(o),
    };
    // a bus not from the adapter still connects first and closes last
    return [...own.filter((u) => u.bus), unit, ...own.filter((u) => !u.bus)];
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
    if (this._phase === 'stopping' || this._phase === 'stopped') return;
    this.refreshLoad();
    const end = this.metrics.heartbeatDuration.startTimer();
    const sentAt = performance.now();
    try {
      await this.registryCall(this.registry.heartbeat(this._self, this.config.nodeTimeoutMs), 'heartbeat');
      end();
      this.liveness.heartbeatSucceeded(sentAt);
    } catch (err) {
      this.metrics.heartbeatFailures.inc();
      this.logger.debug({ err }, 'heartbeat failed'); // the link going down is logged once (see Liveness)
    }
  }

  /**
   * One heartbeat interval: the heartbeat on its own (a slow listing or lease call never delays
   * it: the fence counts from heartbeats), then reconcile and coordinate. Neither overlaps itself.
   */
  private async tick(): Promise<void> {
    if (this._phase !== 'running') return;
    const work: Array<Promise<void>> = [];
    if (!this.beating) {
      this.beating = true;
      work.push(this.heartbeat().finally(() => (this.beating = false)));
    }
    if (!this.ticking) {
      this.ticking = true;
      work.push(
        this.reconcile()
          .then(() => this.coordinate())
          .finally(() => (this.ticking = false)),
      );
    }
    await Promise.all(work);
  }

  private onRegistryEvent(e: RegistryEvent): void {
    if (this._phase === 'stopping' || this._phase === 'stopped') return;
    if (e.type === 'left') {
      if (e.nodeId === this.id) return;
      if (e.reason === 'shutdown') this.departed.add(e.nodeId);
      if (e.reason === 'shutdown' && this.members.has(e.nodeId)) {
        this.members.delete(e.nodeId);
        this.membershipChangedAt = Date.now();
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
    if (node.updatedAt > (this.suspectedAt.get(node.id) ?? Infinity)) {
      // a heartbeat newer than the report: the node is alive after all
      this.suspects.delete(node.id);
      this.suspectedAt.delete(node.id);
    }
    if (node.state === 'ready' || node.state === 'starting') this.planner.forget(node.id);
    if (!prev || prev.state !== node.state) this.membershipChangedAt = Date.now();
    if (!prev || prev.state === 'dead') this.emit('node:joined', node);
    else if (prev.updatedAt !== node.updatedAt || prev.state !== node.state) this.emit('node:updated', node, prev);
    this.updateNodeMetrics();
  }

  /** Compare the registry's list with the view: joins, updates, departures, deaths. */
  async reconcile(): Promise<void> {
    let listed: NodeInfo[];
    try {
      listed = await this.registryCall(this.registry.list(), 'list');
    } catch (err) {
      this.logger.debug({ err }, 'registry list failed');
      return;
    }
    const seen = new Set<string>();
    for (const n of listed) {
      seen.add(n.id);
      if (n.id === this.id) continue;
      this.observe(n);
    }
    const listedSelf = seen.has(this.id);
    if (!listedSelf && this._phase === 'running') {
      this.logger.warn('own registry record expired; registering again');
      await this.registryCall(this.registry.register(this._self, this.config.nodeTimeoutMs), 'register').catch(() => undefined);
    }
    // A node whose own registry link was failing, or whose record the registry lost, judges no one
    // until the registry has answered for a whole node timeout: the others may not have had a
    // chance to heartbeat again yet.
    const mayJudge = this.liveness.mayJudge(listedSelf);
    const now = Date.now();
    for (const [id, node] of this.members) {
      if (id === this.id || seen.has(id) || node.state === 'dead') continue;
      if (!mayJudge && !this.departed.has(id)) continue;
      if (this.departed.has(id)) {
        this.members.delete(id);
        this.membershipChangedAt = Date.now();
        this.emit('node:left', id, 'shutdown');
        continue;
      }
      const dead: NodeInfo = { ...node, state: 'dead' };
      this.members.set(id, dead);
      this.tombstones.set(id, now);
      this.metrics.nodeDeaths.inc();
      this.logger.warn({ node: id }, 'node declared dead: no heartbeat within the node timeout');
      this.membershipChangedAt = Date.now();
      this.emit('node:left', id, 'timeout');
      this.emit('node:dead', dead);
    }
    for (const [id, at] of this.tombstones) {
      if (now - at > this.config.tombstoneMs && !this.planner.isPending(id)) {
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

  private leaseTtl(): number {
    return this.config.leaseTtlMs ?? this.config.nodeTimeoutMs;
  }

  /** A registry call with the registry deadline; a failure or timeout marks the registry link down. */
  private registryCall<T>(p: Promise<T>, what: string): Promise<T> {
    return withDeadline(p, this.registryTimeoutMs, `registry ${what}`).catch((err: unknown) => {
      this.liveness.registryFailed();
      throw err;
    });
  }

  private async renewLease(): Promise<Lease | null> {
    if (this.fenced) {
      this.setLease(null);
      return null;
    }
    const lease = this.lease && (await this.registryCall(this.registry.renewLease(this.lease, this.leaseTtl()), 'lease renewal'));
    this.setLease(lease || null);
    return this.lease;
  }

  /** Hold (or try to take) the coordinator lease; as coordinator, review failovers. */
  private async coordinate(): Promise<void> {
    if (this._self.state !== 'ready' || this.fenced) return;
    const ttl = this.leaseTtl();
    try {
      const renewed = this.lease ? await this.registryCall(this.registry.renewLease(this.lease, ttl), 'lease renewal') : null;
      this.setLease(renewed ?? (await this.registryCall(this.registry.acquireLease(COORDINATOR_LEASE, this.id, ttl), 'lease')));
    } catch (err) {
      this.logger.debug({ err }, 'lease renewal failed');
      if (this.lease && this.lease.expiresAt <= Date.now()) this.setLease(null);
    }
    if (this.lease && !this.fenced) this.planner.review(this.members.values());
  }

  private adviseRebalance(): Promise<void> | undefined {
    if (!this.isCoordinator()) return;
    // Loads in the registry lag by a heartbeat: while membership moves (a node starting or
    // draining, or one that joined, left or changed state in the last two heartbeats) the
    // advice would chase numbers that are about to change.
    const settling = this.nodes().some((n) => n.state === 'starting' || n.state === 'draining');
    if (settling || Date.now() - this.membershipChangedAt < 2 * this.config.heartbeatIntervalMs) return;
    // Never a move to or from a node that may be gone while the registry still lists it as ready
    // (a crash is noticed only at the node timeout): one suspected here, one whose heartbeats
    // stopped arriving (older than two and a half intervals), or one that does not answer a ping
    // now. A node that fails the ping is suspected, so the next round plans without it.
    const now = Date.now();
    const suspected = [...this.suspects].filter(([, until]) => until > now).map(([id]) => id);
    const advice = planRebalance(this.nodes(), this.config.rebalance.threshold, { exclude: suspected, maxHeartbeatAgeMs: 2.5 * this.config.heartbeatIntervalMs, now });
    if (!advice) return;
    const involved = [...new Set(advice.moves.flatMap((m) => [m.from, m.to]))].filter((id) => id !== this.id);
    return Promise.all(involved.map((id) => this.probe(id))).then((alive) => {
      if (!alive.every(Boolean) || !this.isCoordinator() || this._phase !== 'running') return;
      this.metrics.rebalanceAdvice.inc();
      this.emit('rebalance', advice);
      for (const m of advice.moves) void this.control('rebalance', { connections: m.connections, to: m.to }, m.from).catch(() => undefined);
    });
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
    const excluded = new Set(ctx.exclude ?? []);
    const healthy = this.healthyNodes().filter((n) => !excluded.has(n.id));
    if (healthy.length === 0) {
      if (this._self.state === 'starting' || this._self.state === 'ready') return this.placed(this._self, 'local', null, end);
      throw new SwitchyardError('NO_HEALTHY_NODE', 'no healthy node can take the connection');
    }
    const narrowed = this.affinity.candidates?.(healthy, ctx) ?? healthy;
    const candidates = narrowed.length > 0 ? narrowed : healthy;
    if (ctx.sessionId) {
      const session = ctx.session !== undefined ? ctx.session : await this.sessions.get(ctx.sessionId);
      // only the session's own user may steer placement with it
      const owned = session && session.id === ctx.sessionId && (session.userId ?? undefined) === ctx.userId;
      const node = owned ? candidates.find((n) => n.id === session.nodeId) : undefined;
      if (node) return this.placed(node, 'session', null, end);
    }
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

  acquire(topic: string): Promise<void> {
    return this.router.acquire(topic);
  }

  release(topic: string): Promise<void> {
    return this.router.release(topic);
  }

  /** Topics this node currently receives. */
  topics(): string[] {
    return this.router.topics();
  }

  publish(address: Address, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    if (this.tracing) return this.tracing.publish(address, options, (traced) => this.router.publish(address, data, traced));
    return this.router.publish(address, data, options);
  }

  control(action: ControlEnvelope['action'], args: Record<string, unknown> = {}, node?: string): Promise<void> {
    return this.router.control(action, args, node);
  }

  onQuery(name: string, handler: QueryHandler): () => void {
    return this.queries.handle(name, handler);
  }

  query<T = unknown>(name: string, args: unknown = null, options: QueryOptions = {}): Promise<QueryResult<T>> {
    const expected = options.nodes ?? this.nodes().filter((n) => n.state === 'ready' || n.state === 'draining').map((n) => n.id);
    return this.queries.ask(name, args, expected, options.timeoutMs ?? 1000) as Promise<QueryResult<T>>;
  }

  // ---------------------------------------------------------------- rooms with history, fencing

  /**
   * Receive `room` (a room with history) in offset order on this node, reference counted: the
   * first call subscribes and reads where the room's history stands. Resolves with the position
   * from which this node delivers the room in order (null when history could not be read); a
   * socket that joins without asking for a replay starts there.
   */
  async followRoom(room: string): Promise<HistoryPosition | null> {
    if (!this.ordered) throw new SwitchyardError('UNSUPPORTED', 'history was requested but no HistoryStore is configured');
    await this.acquire(Topics.room(room));
    return this.ordered.open(room);
  }

  /** Undo one `followRoom`. */
  async unfollowRoom(room: string): Promise<void> {
    this.ordered?.close(room);
    await this.release(Topics.room(room));
  }

  private onRoomGap(gap: RoomGap): void {
    this.metrics.roomGaps.inc({ reason: gap.reason });
    this.logger.warn(gap, 'room messages lost: history no longer has them');
    this.emit('room:gap', gap);
  }

  private onFence(reason: 'registry' | 'bus' | 'declared_dead'): void {
    this.metrics.fenced.set(1);
    this.metrics.fences.inc({ reason });
    this.logger.error({ reason }, 'fenced: this node cannot prove it is alive to the cluster; its clients must move to other nodes');
    if (this.lease) this.setLease(null);
    this.emit('fence', true, reason);
  }

  private onUnfence(): void {
    this.metrics.fenced.set(0);
    this.logger.warn('fence lifted: the registry and the bus answer again; accepting clients');
    this.ordered?.catchUp();
    this.emit('fence', false, null);
  }

  /** Hand a message to this node's listeners (inside a delivery span when tracing). */
  private deliverLocal(envelope: DeliverEnvelope): void {
    if (this.tracing) this.tracing.deliver(envelope, this.emitDeliver);
    else this.emit('deliver', envelope);
  }

  private readonly emitDeliver = (envelope: DeliverEnvelope): void => {
    this.emit('deliver', envelope);
  };

  private onEnvelope(envelope: Envelope): void {
    switch (envelope.type) {
      case 'deliver':
        if (!this.ordered?.accept(envelope)) this.deliverLocal(envelope);
        return;
      case 'failover':
        if (envelope.token < this.highestToken && envelope.from !== this.id) {
          this.metrics.envelopesDropped.inc({ reason: 'stale' });
          this.logger.warn({ token: envelope.token, highest: this.highestToken }, 'failover from a stale coordinator ignored');
          return;
        }
        this.highestToken = Math.max(this.highestToken, envelope.token);
        if (envelope.node === this.id) {
          // declared dead while alive (a pause, a partition): its sessions belong to others now
          if (envelope.reason === 'dead' && this._phase === 'running') this.liveness.declaredDead();
          this.emit('failover', envelope);
          return;
        }
        if (this.members.get(envelope.node)?.state !== 'ready') this.planner.markHandled(envelope.node, envelope.reason);
        this.emit('failover', envelope);
        return;
      case 'query':
        void this.queries.onQuery(envelope);
        return;
      case 'reply':
        this.queries.onReply(envelope);
        return;
      case 'control':
        if (envelope.node && envelope.node !== this.id) return;
        if (envelope.action === 'drain') void this.drain().catch((err: unknown) => this.logger.warn({ err }, 'drain failed'));
        this.emit('control', envelope);
        return;
    }
  }
}
