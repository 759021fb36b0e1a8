import type { ConnectionStatus, Lifecycle, Unsubscribe } from './lifecycle.js';

/**
 * What a bus guarantees, stated by the adapter. Core reads only `maxPayloadBytes` (the bus
 * runtime refuses a larger publish with PAYLOAD_TOO_LARGE); the other flags inform the
 * application and the contract suites (`busContract` skips the order test when
 * `orderedPerTopic` is false, `restartContract` expects every outage publish delivered when
 * `durable`): core does not fall back on them.
 */
export interface BusCapabilities {
  /** Messages published on one topic by one publisher arrive in publish order. */
  orderedPerTopic: boolean;
  /** Topics are spread over shards (Redis Cluster sharded pub/sub, Kafka partitions). */
  sharded: boolean;
  /** Messages survive a subscriber being offline (Kafka, JetStream). Plain pub/sub is not. */
  durable: boolean;
  /** Largest payload the bus carries, in bytes; larger publishes are refused with PAYLOAD_TOO_LARGE. */
  maxPayloadBytes: number;
}

/** Called for each message on a subscribed topic. Must not throw; errors are the handler's to keep. */
export type BusHandler = (payload: Uint8Array, topic: string) => void;

export interface Subscription {
  readonly topic: string;
  /** Stop delivering to this handler. Idempotent. */
  unsubscribe(): Promise<void>;
}

/**
 * Moves bytes between nodes on named topics. Topics are Switchyard's own names
 * (`room.<name>`, `user.<id>`, `node.<id>`, `all`, `cluster.events`); each adapter maps them
 * to its channels, subjects or topic/key pairs and validates nothing else.
 *
 * Semantics every implementation keeps (checked by `busContract`):
 * - a publish reaches every handler subscribed to that topic on any instance, including the
 *   publishing instance's own handlers;
 * - per topic and publisher, order is kept when `capabilities.orderedPerTopic`;
 * - after `unsubscribe()` resolves, the handler gets nothing more;
 * - after `close()`, `publish` and `subscribe` reject with code `CLOSED` and no handler runs;
 * - after a lost connection comes back, every live subscription is restored without help,
 *   and publishes made while disconnected wait in a bounded buffer (`BUFFER_FULL` past it).
 */
export interface MessageBus extends Lifecycle {
  /** Short name for logs and metrics, e.g. `redis`, `nats`. */
  readonly name: string;
  readonly capabilities: BusCapabilities;
  /** Current connection state. */
  readonly status: ConnectionStatus;
  /** Publish `payload` on `topic`. Resolves once the bus accepted (or buffered) it. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /** Start receiving `topic`. Several handlers may subscribe to one topic. */
  subscribe(topic: string, handler: BusHandler): Promise<Subscription>;
  /** Be told when the connection state changes. */
  onStatus(listener: (status: ConnectionStatus) => void): Unsubscribe;
}
