import type { Registry } from 'prom-client';
import type { ClusterConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Address } from '../model/address.js';
import type { DeliverEnvelope, FailoverEnvelope, ControlEnvelope } from '../model/envelope.js';
import type { NodeInfo, NodeLoad, NodeState } from '../model/node.js';
import type { MessageBus } from '../ports/bus.js';
import type { HistoryPosition, HistoryStore } from '../ports/history.js';
import type { RoomGap } from '../delivery/ordered-rooms.js';
import type { FenceReason } from './liveness.js';
import type { LeftReason, NodeRegistry } from '../ports/registry.js';
import type { SessionStore } from '../ports/sessions.js';
import type { AffinityStrategy, BalancerStrategy, FailoverStrategy, PlacementContext } from '../strategy/types.js';
import type { DropReason } from './envelope-codec.js';

export type ClusterPhase = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** A node's own links, for readiness: a node is ready only with both up and no fence. */
export interface ClusterHealth {
  /** The last registry call succeeded (a failure or a call past its deadline makes it false at once). */
  registry: boolean;
  bus: MessageBus['status'];
  /** Why the node fenced itself, or null while it serves. */
  fenced: FenceReason | null;
}

/** Where a client should be, and why. */
export interface Placement {
  node: NodeInfo;
  /**
   * `session`: the returning session's node (from the session store); `affinity`: the store
   * pinned the key to this node; `balancer`: freshly picked; `local`: no other healthy node.
   */
  reason: 'session' | 'affinity' | 'balancer' | 'local';
  /** The affinity key used, if any. */
  key: string | null;
  /** True when `node` is this node. */
  local: boolean;
}

export interface PublishOptions {
  /** Connection ids that must not receive the message. */
  except?: string[];
  /** Append to the room's history first and carry the offset (room addresses only). */
  history?: boolean;
  headers?: Record<string, string>;
}

export interface PublishResult {
  /** Present when the message went to history. */
  offset?: number;
  epoch?: string;
}

/** What a cluster-wide query brought back: partial when some nodes were slow, dead or older. */
export interface QueryResult<T = unknown> {
  /** Answers, by node. */
  results: Array<{ node: string; result: T }>;
  /** Nodes that answered with an error (e.g. no handler for the query). */
  errors: Array<{ node: string; error: { code: string; message: string } }>;
  /** Nodes asked that did not answer within the timeout. */
  missing: string[];
  /** True when every node asked answered without error. */
  complete: boolean;
}

export interface QueryOptions {
  /** How long to wait for answers, ms (default 1000). */
  timeoutMs?: number;
  /** Ask only these nodes (default: every ready or draining node, this one included). */
  nodes?: string[];
}

export interface ScaleAdvice {
  direction: 'up' | 'down';
  reason: string;
  currentNodes: number;
  desiredNodes: number;
  utilization: number;
}

export interface RebalanceAdvice {
  /** Connections that should move from each overloaded node to each underloaded node. */
  moves: Array<{ from: string; to: string; connections: number }>;
  imbalance: number;
}

/** Events of a cluster node, all typed. */
export interface ClusterEvents {
  'node:joined': (node: NodeInfo) => void;
  'node:updated': (node: NodeInfo, previous: NodeInfo) => void;
  'node:left': (nodeId: string, reason: LeftReason) => void;
  /** Declared dead by this node's failure detector (no heartbeat within the node timeout). */
  'node:dead': (node: NodeInfo) => void;
  'state': (state: NodeState) => void;
  /** This node became (true) or stopped being (false) the coordinator. */
  'coordinator': (isCoordinator: boolean) => void;
  /** A failover was planned and executed (received on every node, from the coordinator). */
  'failover': (envelope: FailoverEnvelope) => void;
  'control': (envelope: ControlEnvelope) => void;
  /** An application message for local sockets. */
  'deliver': (envelope: DeliverEnvelope) => void;
  'envelope:dropped': (reason: DropReason, detail?: string) => void;
  /** At least one envelope of `from` on `topic` never arrived (its sequence jumped): at-most-once traffic was lost. */
  'envelope:lost': (topic: string, from: string) => void;
  /** Messages of a room with history will not be delivered (history no longer has them); tell the room's clients. */
  'room:gap': (gap: RoomGap) => void;
  /**
   * The node fenced itself (true, with the reason: cut off from the registry, from the bus, or
   * declared dead by the coordinator) and must close every client at once; or the fence was
   * lifted (false, null) and it may serve again.
   */
  'fence': (fenced: boolean, reason: FenceReason | null) => void;
  'rebalance': (advice: RebalanceAdvice) => void;
  'scale': (advice: ScaleAdvice) => void;
  'bus:status': (status: MessageBus['status']) => void;
  'error': (error: Error) => void;
}

/** What a transport (transport-ws, or any other) needs from a cluster node. */
export interface ClusterNodeApi {
  readonly id: string;
  readonly logger: Logger;
  /** prom-client registry holding every Switchyard metric of this node. */
  readonly metricsRegistry: Registry;
  readonly bus: MessageBus;
  readonly registry: NodeRegistry;
  readonly sessions: SessionStore;
  /** Present when history is configured. */
  readonly history: HistoryStore | undefined;
  readonly balancer: BalancerStrategy;
  readonly affinity: AffinityStrategy;
  readonly failover: FailoverStrategy;
  /** The validated configuration (defaults filled in). */
  readonly config: Readonly<ClusterConfig & { nodeId: string }>;
  /** Where the node is in its life: `new`, `starting`, `running`, `stopping`, `stopped`. */
  readonly phase: ClusterPhase;

  /** This node's current record. */
  readonly self: NodeInfo;
  readonly state: NodeState;
  /** Every known node (self included), dead ones kept for a while as tombstones. */
  nodes(): NodeInfo[];
  /** Nodes in state `ready`. */
  healthyNodes(): NodeInfo[];
  isCoordinator(): boolean;
  /** True while the node has fenced itself (see the `fence` event). */
  readonly fenced: boolean;
  /** The node's own links: registry, bus, fence. */
  health(): ClusterHealth;
  /** Skip a node that seems gone (e.g. a client lost it abnormally) until it heartbeats again. */
  suspect(nodeId: string, ttlMs?: number): void;
  /** Ask a node whether it is alive (one question per node at a time); suspect it if it does not answer in time. */
  probe(nodeId: string, timeoutMs?: number): Promise<boolean>;

  /** Set this node's public URL (known after listen) before or after start. */
  setUrl(url: string): void;
  /** The transport reports its open connections (and anything else it measures); core adds CPU, memory and lag. */
  setLoadSource(source: () => Partial<NodeLoad>): void;

  /** Choose the node for a connecting client (affinity, then session store, then balancer). */
  place(ctx: PlacementContext): Promise<Placement>;

  /** Publish a message for `address` on the bus. With `history` and a room, append first and carry the offset. */
  publish(address: Address, data: unknown, options?: PublishOptions): Promise<PublishResult>;
  /** Start receiving `topic` (reference counted: the bus subscribes on the first acquire, unsubscribes on the last release). */
  acquire(topic: string): Promise<void>;
  release(topic: string): Promise<void>;
  /**
   * Receive a room with history in offset order (reference counted; subscribes on the first call).
   * Resolves with the position this node delivers the room from (null when history was unreadable).
   */
  followRoom(room: string): Promise<HistoryPosition | null>;
  /** Undo one `followRoom`. */
  unfollowRoom(room: string): Promise<void>;
  /** Topics this node currently receives from the bus. */
  topics(): string[];
  /** Answer a named cluster-wide query on this node. Returns a function that removes the handler. */
  onQuery(name: string, handler: (args: unknown, from: string) => unknown | Promise<unknown>): () => void;
  /** Ask every node (or some) and collect the answers; never waits longer than the timeout. */
  query<T = unknown>(name: string, args?: unknown, options?: QueryOptions): Promise<QueryResult<T>>;
  /** Send a control notice (e.g. `drain` to one node). */
  control(action: ControlEnvelope['action'], args?: Record<string, unknown>, node?: string): Promise<void>;

  start(): Promise<void>;
  /** Resolves once a start in progress has finished; rejects if the node stops first or is not starting. */
  whenRunning(): Promise<void>;
  /** Enter `draining`: heartbeats carry it, the coordinator moves the sessions per the failover strategy. */
  drain(): Promise<void>;
  /** Ordered shutdown: stop timers, unsubscribe, deregister, close the ports this node created. Idempotent. */
  stop(): Promise<void>;
  /** Stop as a crashed process would (no deregistration, no lease release): for tests and demos. */
  halt(): Promise<void>;

  on<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): () => void;
  off<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): void;
}
