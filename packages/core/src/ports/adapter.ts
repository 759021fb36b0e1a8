import type { MessageBus } from './bus.js';
import type { HistoryStore } from './history.js';
import type { AdapterObserver } from './observer.js';
import type { NodeRegistry } from './registry.js';
import type { SessionStore } from './sessions.js';

/**
 * Which ports a backend provides. A port it lacks is `undefined` on the adapter and `false`
 * here; `createCluster` fills it with the in-memory one (or the one you pass beside the
 * adapter, e.g. a Redis registry and session store next to a Kafka bus and history).
 */
export interface AdapterCapabilities {
  /** `bus` is set: the backend carries messages between nodes. */
  readonly bus: boolean;
  /** `registry` is set: the backend holds node records, heartbeats and the coordinator lease. */
  readonly registry: boolean;
  /** `sessions` is set: the backend holds sessions and affinity. */
  readonly sessions: boolean;
  /** `history` is set: the backend keeps room history for replay. */
  readonly history: boolean;
}

/**
 * What every backend factory returns (`createRedisAdapter`, `createNatsAdapter`,
 * `createKafkaAdapter`, `createPostgresAdapter`, `createMemoryAdapter`): the same keys
 * whatever the backend, so `createCluster({ adapter })` takes any of them whole.
 *
 * Creating one does no I/O. `connect()` opens every port it has, `close()` releases them
 * (the bus last, so departures still go out) and is idempotent; neither closes a client
 * the caller passed in. `instrument()` hands one observer to every port that reports
 * events; call it before `connect()`.
 */
export interface ClusterAdapter<
  Bus extends MessageBus | undefined = MessageBus | undefined,
  Registry extends NodeRegistry | undefined = NodeRegistry | undefined,
  Sessions extends SessionStore | undefined = SessionStore | undefined,
  History extends HistoryStore | undefined = HistoryStore | undefined,
> {
  /** The message bus, or `undefined` when the backend has none (`capabilities.bus` false). */
  readonly bus: Bus;
  /** The node registry, or `undefined` when the backend has none (`capabilities.registry` false). */
  readonly registry: Registry;
  /** The session store, or `undefined` when the backend has none (`capabilities.sessions` false). */
  readonly sessions: Sessions;
  /** Room history, or `undefined` when the backend has none (`capabilities.history` false). */
  readonly history: History;
  /** Which of the four ports the backend provides. */
  readonly capabilities: AdapterCapabilities;
  /** Connect every port this adapter has. */
  connect(): Promise<void>;
  /** Close every port this adapter has (the bus last). Safe to call many times. */
  close(): Promise<void>;
  /** Report every port's events (reconnects, buffered publishes, ...) to one observer. Before `connect()`. */
  instrument(observer: AdapterObserver): void;
}
