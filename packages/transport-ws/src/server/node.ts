import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  childLogger,
  createCluster,
  noopLogger,
  type ClusterNodeApi,
  type ControlEnvelope,
  type DeliverEnvelope,
  type FenceReason,
  type Logger,
  type RoomGap,
} from '@switchyard/core';
import { randomId, SessionService, TypedEmitter } from '@switchyard/core/adapter';
import { WebSocketServer } from 'ws';
import { parseNodeOptions, type NodeOptions, type NodeOptionsInput } from '../options.js';
import { encodeGap, encodeMsg, type Priority, type WireMessage } from '../protocol/server-frames.js';
import { backlogCap, backlogWarning, DEFAULT_LISTEN_BACKLOG } from './backlog.js';
import { selectSubprotocol } from './early-hello.js';
import type { AnyEvents, EventData, EventMap, EventName } from '../client/events.js';
import { PlainFrame, RoomFrame } from './room-frame.js';
import { EVERYONE, GapItem, RoomBatcher } from './room-batcher.js';
import { ReplayCache } from './replay-cache.js';
import { wsError } from '../errors.js';
import { Batcher } from './batcher.js';
import { ServerConnection, type Connection } from './connection.js';
import { moveConnections } from './drain.js';
import { Heartbeat } from './heartbeat.js';
import { createHttpHandler, type HttpHandler } from './http.js';
import { TransportMetrics } from './metrics.js';
import { IpLimiter } from './rate-limit.js';
import { LocalIndex } from './rooms.js';
import { addresses, nodeOfConnection, Sender } from './sender.js';
import { CloseCode, fitReason } from '../protocol/close-codes.js';
import { handleUpgrade } from './upgrade.js';
import { createRoomJoins, joinRoom, leaveRoom } from './membership.js';
import { registerInternals, type NodeInternals } from './host.js';
import { closeOnSignals, type SignalHandle, type SignalOptions } from './signals.js';
import { presenceHandlers, PresenceQueries, toConnectionCount, toRoomMembers, type ConnectionCount, type PresenceOptions, type RoomMembers } from './presence.js';

export interface SwitchyardNodeEvents<S extends EventMap = AnyEvents, C extends EventMap = AnyEvents> {
  /** A client completed the hello (welcome sent). */
  connection: (conn: Connection<S, C>) => void;
  /** A welcomed connection closed. */
  disconnect: (conn: Connection<S, C>, code: number, reason: string) => void;
  error: (err: Error) => void;
}

export interface CloseOptions {
  /** How long to wait for clients to move and sends to finish (default `drain.graceMs`). */
  graceMs?: number;
}

/**
 * A Switchyard WebSocket node: serves clients on `path` of an http.Server (its own or yours),
 * speaks the wire protocol of docs/protocol.md, and routes every send through the core cluster.
 * Create with `createNode(options)`, then `await node.start()`.
 */
/**
 * `S`: the events this node sends to clients (`to(room).send(...)`, `conn.send(...)`); `C`: the
 * events clients send to it (`conn.on('message', ...)`). Both optional: without them any event
 * name and any data are accepted.
 */
export class SwitchyardNode<S extends EventMap = AnyEvents, C extends EventMap = AnyEvents> extends TypedEmitter<SwitchyardNodeEvents<S, C>> {
  readonly options: NodeOptions;
  readonly cluster: ClusterNodeApi;
  readonly logger: Logger;
  /** `(req, res, next?)`: serves /health /ready /metrics /cluster /route; mount it yourself when attaching to your own server. */
  readonly httpHandler: HttpHandler;
  /** What the server helpers share (upgrade, hello, rooms, drain, heartbeat): see server/host.ts. */
  private readonly internals: NodeInternals;
  private readonly metrics: TransportMetrics;
  private readonly batcher: Batcher;
  /** Room-level batching: a room's messages of one turn, encoded once for every member. */
  private readonly roomBatcher: RoomBatcher;
  /** Open (welcomed) connections and their rooms and users. */
  private readonly index: LocalIndex;
  private readonly _sockets = new Set<ServerConnection>();
  private wss: WebSocketServer | undefined;
  private server: Server | undefined;
  /** True when the node created its http.Server. */
  private ownServer = false;
  private _url = '';
  private phase: 'new' | 'starting' | 'running' | 'closing' | 'closed' = 'new';
  private _draining = false;
  private closing: Promise<void> | undefined;
  private readonly heartbeat: Heartbeat;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly onUpgrade = (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => void handleUpgrade(this.internals, req, socket, head);

  constructor(input: NodeOptionsInput) {
    super();
    this.options = parseNodeOptions(input);
    this.cluster = this.options.cluster ?? createCluster({ ...(this.options.adapter ? { adapter: this.options.adapter } : {}), ...(this.options.logger ? { logger: this.options.logger } : {}) });
    this.logger = childLogger(this.options.logger ?? this.cluster.logger ?? noopLogger, { component: 'transport-ws' });
    this.metrics = new TransportMetrics(this.cluster.metricsRegistry);
    this.batcher = new Batcher(this.options.batch.maxDelayMs);
    this.roomBatcher = new RoomBatcher({
      maxMessages: this.options.batch.maxMessages,
      maxDelayMs: this.options.batch.maxDelayMs,
      targets: (key) => (key === EVERYONE ? this.index.connections.values() : this.index.inRoom(key)),
    });
    this.index = new LocalIndex(this.cluster);
    this.internals = this.makeInternals(new IpLimiter(this.options.limits.maxConnectionsPerIp));
    registerInternals(this, this.internals);
    this.heartbeat = new Heartbeat(this.internals);
    this.httpHandler = createHttpHandler(this);
  }

  /** The host object the server helpers and connections see; the event maps are the application's business. */
  private makeInternals(ipLimiter: IpLimiter): NodeInternals {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const sessions = new SessionService(this.cluster, { ttlMs: () => this.sessionTtlMs, logger: this.logger });
    const base: Omit<NodeInternals, 'joins'> = {
      id: this.id,
      options: this.options,
      cluster: this.cluster,
      logger: this.logger,
      metrics: this.metrics,
      batcher: this.batcher,
      sessions,
      replays: new ReplayCache(),
      index: this.index,
      sockets: this._sockets,
      ipLimiter,
      get wss() {
        return node.wss;
      },
      get ownServer() {
        return node.ownServer;
      },
      get accepting() {
        return node.accepting;
      },
      get draining() {
        return node.draining;
      },
      historyFor: (room) => this.historyFor(room),
      newConnection: (ws, req, ip) => {
        const conn = new ServerConnection(`${this.id}~${randomId(9)}`, ws, req, ip, internals);
        this._sockets.add(conn);
        return conn;
      },
      emitConnection: (conn) => this.emit('connection', conn as unknown as Connection<S, C>),
      joinRoom: (conn, room) =>
        joinRoom(internals, conn, room).then((j) => {
          j.replay();
          return j.state;
        }),
      leaveRoom: (conn, room) => leaveRoom(internals, conn, room),
      onClosed: (conn, code, reason) => this.onClosed(conn, code, reason),
    };
    // (getters kept: the object is extended in place, not copied)
    const internals = Object.assign(base, { joins: createRoomJoins(base) }) as NodeInternals;
    return internals;
  }

  /** This node's id (the cluster node's). */
  get id(): string {
    return this.cluster.id;
  }

  /** Session TTL in the session store, ms: the cluster's `sessionTtlMs` (createCluster), its one place. */
  get sessionTtlMs(): number {
    return this.cluster.config.sessionTtlMs;
  }

  /** The URL clients use to reach this node (known after `start()`). */
  get url(): string {
    return this._url;
  }

  /** The http.Server the node serves on (after `start()`). */
  get httpServer(): Server | undefined {
    return this.server;
  }

  /** True from the moment draining starts (close() or a drain control). */
  get draining(): boolean {
    return this._draining;
  }

  /** True while new upgrades are accepted (running, not draining, not fenced). */
  get accepting(): boolean {
    return this.phase === 'running' && !this._draining && !this.cluster.fenced;
  }

  /** True when the node started, is not draining or fenced, and its registry and bus links work. */
  get ready(): boolean {
    if (!this.accepting) return false;
    const h = this.cluster.health();
    return h.registry && h.bus === 'connected';
  }

  /**
   * Why the node is not ready, for /ready: `starting`, `draining`, `fenced` (cut off from the
   * cluster: it serves no client), `registry_down`, `bus_down`; `ready` when it is.
   */
  get readiness(): 'ready' | 'starting' | 'draining' | 'fenced' | 'registry_down' | 'bus_down' {
    if (this._draining || this.phase === 'closing' || this.phase === 'closed') return 'draining';
    if (this.phase !== 'running') return 'starting';
    const h = this.cluster.health();
    if (h.fenced) return 'fenced';
    if (!h.registry) return 'registry_down';
    return h.bus === 'connected' ? 'ready' : 'bus_down';
  }

  /** Open (welcomed) connections on this node. */
  get connections(): ReadonlyMap<string, Connection> {
    return this.index.connections;
  }

  /** Every socket on this node, welcomed or not (a socket leaves the set once closed). */
  get sockets(): ReadonlySet<Connection> {
    return this._sockets;
  }

  /**
   * Listen (or attach), publish this node's URL and load to the cluster, start the cluster
   * if it was not started yet, and begin serving. Call once.
   */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw wsError('CONFLICT', 'node already started');
    const clusterPhase = this.cluster.phase;
    if (clusterPhase === 'starting') await this.cluster.whenRunning();
    if (clusterPhase === 'stopping' || clusterPhase === 'stopped') throw wsError('CLOSED', 'the cluster was stopped');
    this.phase = 'starting';
    const o = this.options;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: o.limits.maxPayload,
      perMessageDeflate: o.perMessageDeflate ? { threshold: o.perMessageDeflate.threshold } : false,
      handleProtocols: (protocols, req) => selectSubprotocol(this.internals, protocols, req),
    });
    if (o.server) {
      this.server = o.server;
    } else {
      this.ownServer = true;
      const handler = this.httpHandler;
      // Slow requests (a slowloris upgrade) are cut after timeouts.headersTimeoutMs, checked every second.
      const limits = { headersTimeout: o.timeouts.headersTimeoutMs, requestTimeout: Math.max(o.timeouts.headersTimeoutMs, 30_000), connectionsCheckingInterval: Math.min(1000, o.timeouts.headersTimeoutMs) };
      this.server = o.http ? createServer(limits, (req: IncomingMessage, res: ServerResponse) => handler(req, res)) : createServer(limits);
      // Room for a failover's crowd while the node is busy (Node's default is 511), and a word when the kernel allows less.
      const backlog = o.limits.listenBacklog ?? DEFAULT_LISTEN_BACKLOG;
      const capped = backlogWarning(backlog, await backlogCap());
      if (capped) this.logger.warn({ backlog }, capped);
      await new Promise<void>((resolve, reject) => {
        const s = this.server as Server;
        s.once('error', reject);
        s.listen({ port: o.port ?? 0, host: o.host, backlog }, () => {
          s.off('error', reject);
          resolve();
        });
      }).catch(async (err: unknown) => {
        // Nothing was started: leave the node closed, the cluster as it was, and say what to do.
        await this.shutdownServer();
        this.phase = 'closed';
        const where = `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port ?? 0}`;
        const code = (err as { code?: unknown }).code;
        if (code === 'EADDRINUSE') {
          throw wsError('CONFLICT', `cannot listen on ${where}: the port is already in use (EADDRINUSE). Another process holds it (an earlier run of this server?): stop that process, or choose another port (port: 0 picks a free one)`, err);
        }
        const why = code === 'EACCES' ? ' (ports below 1024 need privileges)' : code === 'EADDRNOTAVAIL' ? ` (${o.host} is not an address of this machine)` : '';
        throw wsError(why ? 'CONFIG_INVALID' : 'BACKEND_ERROR', `cannot listen on ${where}: ${(err as Error).message}${why}`, err);
      });
    }
    this.server.on('upgrade', this.onUpgrade);
    // The URL clients are sent to: publicUrl, else the cluster's url, else the address we listen
    // on (an attached server that is not listening yet is waited for).
    if (!o.publicUrl && !this.cluster.config.url && this.server.listening === false) {
      const s = this.server;
      await new Promise<void>((resolve) => s.once('listening', () => resolve()));
    }
    this._url = o.publicUrl || this.cluster.config.url || this.deriveUrl();
    this.cluster.setUrl(this._url);
    this.cluster.setLoadSource(() => ({ connections: this.index.size }));
    this.unsubscribe.push(
      this.cluster.on('deliver', this.onDeliver),
      this.cluster.on('control', this.onControl),
      this.cluster.on('room:gap', this.onRoomGap),
      this.cluster.on('envelope:lost', this.onLost),
      this.cluster.on('fence', this.onFence),
      ...Object.entries(presenceHandlers(this.index)).map(([name, handler]) => this.cluster.onQuery(name, handler)),
    );
    if (this.cluster.phase === 'new') {
      try {
        await this.cluster.start();
      } catch (err) {
        await this.shutdownServer();
        this.phase = 'closed';
        throw err;
      }
    }
    this.heartbeat.start();
    this.phase = 'running';
    this.logger.info({ url: this._url }, 'switchyard node listening');
  }

  private deriveUrl(): string {
    const addr = this.server?.address() as AddressInfo | string | null;
    if (!addr || typeof addr === 'string') throw wsError('CONFIG_INVALID', 'publicUrl is required when the server is not listening on TCP yet');
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
    return `ws://${host}:${addr.port}${this.options.path}`;
  }

  // ---------------------------------------------------------------- sending

  /** Send to every connection of the cluster. */
  broadcast<E extends EventName<S>>(event: E, data: EventData<S, E>, options: { priority?: Priority } = {}): Promise<unknown> {
    return this.sender(addresses.all()).send(event, data, options);
  }

  /** Send to a room, on every node: `node.to('lobby').except(id).send('chat', data)`. */
  to(room: string): Sender<S> {
    return new Sender(this.cluster, addresses.room(room), this.historyFor(room));
  }

  /** Send to every connection of a user, on every node. */
  toUser(userId: string): Sender<S> {
    return this.sender(addresses.user(userId));
  }

  /** Send to one connection, wherever it is. */
  toConnection(connectionId: string): Sender<S> {
    return this.sender(addresses.connection(connectionId));
  }

  /** Send to every connection of one node. */
  toNode(nodeId: string): Sender<S> {
    return this.sender(addresses.node(nodeId));
  }

  private sender(address: ReturnType<typeof addresses.all>): Sender<S> {
    return new Sender(this.cluster, address, false);
  }

  /** True when `room` keeps history here (option `rooms.history` and a history store). */
  historyFor(room: string): boolean {
    if (!this.cluster.history) return false;
    const h = this.options.rooms.history;
    return typeof h === 'function' ? h(room) : h;
  }

  // ---------------------------------------------------------------- presence

  /**
   * Who is in `room` across the cluster: every node is asked (a cluster-wide query) and the
   * call never waits longer than `timeoutMs`. Nodes that are slow, dead, older or failing are
   * listed in `missing` and their members left out; `complete` is true when every node answered.
   */
  async roomMembers(room: string, options: PresenceOptions = {}): Promise<RoomMembers> {
    if (typeof room !== 'string' || room.length === 0) throw wsError('CONFIG_INVALID', 'room must be a non-empty string');
    const r = await this.cluster.query(PresenceQueries.roomMembers, { room }, { timeoutMs: options.timeoutMs ?? this.options.timeouts.queryTimeoutMs });
    return toRoomMembers(r);
  }

  /** Open connections across the cluster, per node, asked of every node like `roomMembers` (partial when some did not answer). */
  async connectionCount(options: PresenceOptions = {}): Promise<ConnectionCount> {
    const r = await this.cluster.query(PresenceQueries.stats, null, { timeoutMs: options.timeoutMs ?? this.options.timeouts.queryTimeoutMs });
    return toConnectionCount(r);
  }

  // ---------------------------------------------------------------- delivery

  /** Fan-out: encode once per envelope, write the same string to every local target. */
  private readonly onDeliver = (env: DeliverEnvelope): void => {
    const m = env.data as WireMessage | null;
    if (typeof m !== 'object' || m === null) return;
    const priority: Priority = m.p === 'high' || m.p === 'low' ? m.p : 'normal';
    const except = env.except?.length ? new Set(env.except) : undefined;
    const to = env.to;
    // Rooms and everyone: gathered per turn, encoded once per batch, the same bytes to every member.
    if (to.kind === 'room') {
      if (!this.index.hasRoom(to.room)) return;
      const item =
        env.offset !== undefined && env.epoch !== undefined
          ? // a room with history, in offset order from core: each socket chains it on what it was sent
            new RoomFrame(m, to.room, env.offset, env.epoch, env.prev ?? env.offset - 1, priority, env.except)
          : new PlainFrame(m, to.room, priority, env.except);
      this.roomBatcher.add(to.room, item);
      return;
    }
    if (to.kind === 'all') {
      if (this.index.size > 0) this.roomBatcher.add(EVERYONE, new PlainFrame(m, undefined, priority, env.except));
      return;
    }
    let targets: Iterable<ServerConnection>;
    switch (to.kind) {
      case 'node':
        if (to.nodeId !== this.id) return;
        targets = this.index.connections.values();
        break;
      case 'user':
        targets = this.index.ofUser(to.userId);
        break;
      case 'connection': {
        const c = this.index.connections.get(to.connectionId);
        if (!c) return;
        targets = [c];
        break;
      }
    }
    let frame: string | undefined;
    for (const c of targets) {
      if (except?.has(c.id)) continue;
      frame ??= encodeMsg(m);
      c.deliver(frame, priority);
    }
  };

  /** Core could not get some messages of a room with history: tell its sockets. */
  private readonly onRoomGap = (gap: RoomGap): void => {
    // in its place among the room's messages of this turn
    this.roomBatcher.add(gap.room, new GapItem(gap.room, { epoch: gap.epoch, from: gap.from, to: gap.to, reason: gap.reason }));
  };

  /** An envelope of a room without history never arrived: its sockets hear that something was lost. */
  private readonly onLost = (topic: string): void => {
    if (!topic.startsWith('room.')) return;
    const room = topic.slice('room.'.length);
    let frame: string | undefined;
    for (const c of this.index.inRoom(room)) {
      if (c.cursors.get(room)?.history) continue; // rooms with history recover from history
      frame ??= encodeGap(room, 'lost');
      this.metrics.gaps.inc({ reason: 'lost' });
      c.deliver(frame, 'normal');
    }
  };

  /**
   * The cluster node fenced itself: it cannot prove to the others that it is alive, so they may
   * soon hand its sessions elsewhere. Every socket is closed at once with 4011 (`fenced`): clients
   * reconnect to other nodes and resume from their offsets. Upgrades are refused until the fence lifts.
   */
  private readonly onFence = (fenced: boolean, reason: FenceReason | null): void => {
    if (!fenced) {
      this.logger.info('fence lifted: accepting clients again');
      return;
    }
    this.logger.error({ reason, sockets: this._sockets.size }, 'node fenced: closing every client (4011) so they move to healthy nodes');
    for (const c of [...this._sockets]) {
      if (c.state === 'closing' || c.state === 'closed') continue;
      this.metrics.fencedClosed.inc();
      c.close(CloseCode.Fenced, 'fenced');
    }
  };

  private readonly onControl = (env: ControlEnvelope): void => {
    if (env.node !== undefined && env.node !== this.id) return;
    if (env.action === 'drain') {
      this._draining = true;
      void moveConnections(this.internals, [...this.index.connections.values()], 'draining').catch((err: unknown) => this.logger.warn({ err }, 'moving clients failed'));
    } else if (env.action === 'rebalance') {
      const n = typeof env.args.connections === 'number' ? Math.floor(env.args.connections) : 0;
      const target = this.internals.sessions.nodeTarget(env.args.to);
      const open = [...this.index.connections.values()].filter((c) => c.state === 'open');
      if (n > 0 && !this._draining) void moveConnections(this.internals, open.slice(0, n), 'rebalance', target).catch((err: unknown) => this.logger.warn({ err }, 'rebalance failed'));
    } else if (env.action === 'disconnect') {
      const id = env.args.connectionId;
      const code = typeof env.args.code === 'number' && (env.args.code === 1000 || (env.args.code >= 4000 && env.args.code <= 4999)) ? env.args.code : CloseCode.Normal;
      const reason = typeof env.args.reason === 'string' ? env.args.reason : 'disconnected';
      if (typeof id === 'string') this.index.connections.get(id)?.close(code, fitReason(reason));
    }
  };

  /**
   * Close one connection wherever it is in the cluster (a control notice to the node that
   * holds it). `code`: 1000 (default) or an application code 4000-4999; `reason` at most 123 bytes.
   */
  async disconnect(connectionId: string, options: { code?: number; reason?: string } = {}): Promise<void> {
    const args = { connectionId, ...(options.code !== undefined ? { code: options.code } : {}), ...(options.reason !== undefined ? { reason: options.reason } : {}) };
    await this.cluster.control('disconnect', args, nodeOfConnection(connectionId));
  }

  // ---------------------------------------------------------------- connections

  /** A socket closed: forget it, and store its session's room offsets when it was welcomed. */
  private onClosed(conn: ServerConnection, code: number, reason: string): void {
    this._sockets.delete(conn);
    this.internals.ipLimiter.release(conn.ip);
    this.metrics.closed.inc({ code: String(code) });
    if (this.index.connections.get(conn.id) !== conn) return;
    this.metrics.connections.dec();
    void this.index.removeConnection(conn);
    void this.internals.sessions.close(conn);
    this.emit('disconnect', conn as unknown as Connection<S, C>, code, reason);
  }

  override onListenerError(err: unknown, event: string): void {
    this.logger.error({ err, event }, 'node event listener threw');
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Graceful shutdown, idempotent: /ready answers 503, new upgrades are refused, the cluster
   * drains (its sessions move), clients are told to move (redirect hint + 1012) in jittered
   * batches, in-flight sends get up to `graceMs`, then the cluster stops (deregisters) and the
   * server we created closes. A server you passed in stays open.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.doClose(options.graceMs ?? this.options.drain.graceMs);
    return this.closing;
  }

  /**
   * Close gracefully on SIGTERM/SIGINT (Kubernetes, systemd, Ctrl-C): from the signal on,
   * `/ready` answers 503 and upgrades are refused; clients get a redirect hint and 1012 in
   * jittered batches; everything finishes within `graceMs`. Returns the installed handler
   * (call it directly in tests) and `remove()`.
   */
  closeOnSignals(options: SignalOptions = {}): SignalHandle {
    return closeOnSignals(this, options);
  }

  private async doClose(graceMs: number): Promise<void> {
    const wasRunning = this.phase === 'running';
    this._draining = true;
    this.phase = 'closing';
    const deadline = Date.now() + graceMs;
    if (wasRunning) {
      await untilDeadline(this.cluster.drain().catch((err: unknown) => this.logger.warn({ err }, 'cluster drain failed')), deadline);
      // placement and session hand-over talk to the stores: never past the deadline
      await untilDeadline(
        moveConnections(this.internals, [...this._sockets], 'draining', undefined, deadline).catch((err: unknown) => this.logger.warn({ err }, 'moving clients failed')),
        deadline,
      );
      await this.waitForSockets(deadline);
    }
    for (const c of this._sockets) c.terminate();
    // session writes still gathering go out before the stores close
    this.internals.sessions.flushWrites();
    this.heartbeat.stop();
    this.batcher.stop();
    this.roomBatcher.stop();
    for (const u of this.unsubscribe.splice(0)) u();
    // the bus may not answer unsubscribes: the cluster's stop bounds its own steps
    await untilDeadline(Promise.all([...this.index.connections.values()].map((c) => this.index.removeConnection(c))), Date.now() + 1000);
    await this.cluster.stop().catch((err: unknown) => this.logger.warn({ err }, 'cluster stop failed'));
    await this.shutdownServer();
    this.phase = 'closed';
    this.logger.info('switchyard node closed');
  }

  private async waitForSockets(deadline: number): Promise<void> {
    while (this._sockets.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(20, Math.max(1, deadline - Date.now()))));
    }
  }

  private async shutdownServer(): Promise<void> {
    this.server?.off('upgrade', this.onUpgrade);
    this.wss?.close();
    if (this.ownServer && this.server) {
      const s = this.server;
      s.closeAllConnections?.();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

/** Resolves when `p` settles or `deadline` passes, whichever comes first. */
async function untilDeadline(p: Promise<unknown>, deadline: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
  await Promise.race([p, late]);
  clearTimeout(timer);
}

/** Create a node (no I/O): `const node = createNode({ cluster, port: 3000 }); await node.start();` */
export function createNode<S extends EventMap = AnyEvents, C extends EventMap = AnyEvents>(options: NodeOptionsInput): SwitchyardNode<S, C> {
  return new SwitchyardNode<S, C>(options);
}
