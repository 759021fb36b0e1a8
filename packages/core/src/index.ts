import 'reflect-metadata';

/**
 * `@switchyard/core`: the application API. One factory (`createCluster`), its options and the
 * node it returns, the error class, the model types and address helpers, the strategies, the
 * in-memory backend and the loggers. What a backend or transport author needs besides is in
 * `@switchyard/core/adapter`; the contract suites are in `@switchyard/core/testing`.
 */
export * from './errors.js';
export type { NodeState, NodeLoad, NodeInfo } from './model/node.js';
export type * from './model/session.js';
export { toAll, toRoom, toUser, toConnection, toNode, type Address } from './model/address.js';
export type { Envelope, EnvelopeType, EnvelopeInput, DeliverEnvelope, FailoverEnvelope, ControlEnvelope, QueryEnvelope, ReplyEnvelope } from './model/envelope.js';
export type { RoomGap, RoomGapReason } from './delivery/ordered-rooms.js';
export type { FenceReason } from './cluster/liveness.js';
export type * from './ports/lifecycle.js';
export type * from './ports/bus.js';
export type * from './ports/history.js';
export type * from './ports/registry.js';
export type * from './ports/sessions.js';
export type { AdapterEvent, AdapterObserver, Instrumentable } from './ports/observer.js';
export type { ClusterAdapter, AdapterCapabilities } from './ports/adapter.js';
export { noopLogger, childLogger, consoleLogger, type Logger, type LogLevel, type ConsoleLoggerOptions } from './logger.js';
export { MemoryHub } from './memory/hub.js';
export { createMemoryAdapter, type MemoryAdapter, type MemoryAdapterOptions } from './memory/adapter.js';
export type { ClusterNode } from './cluster/cluster-node.js';
export type * from './cluster/types.js';
export type { ClusterMetrics } from './metrics/cluster-metrics.js';
export { createCluster, type CreateClusterOptions, type PortSet } from './create-cluster.js';
export type { ClusterConfig, ClusterConfigInput } from './config/schema.js';
export { Tokens } from './tokens.js';
export type * from './strategy/types.js';
export { StrategyRegistry } from './strategy/registry.js';
export { RoundRobinBalancer } from './balancer/round-robin.js';
export { LeastConnectionsBalancer, type LeastConnectionsOptions } from './balancer/least-connections.js';
export { WeightedBalancer } from './balancer/weighted.js';
export { ConsistentHashBalancer, type ConsistentHashOptions } from './balancer/consistent-hash.js';
export { RandomBalancer, type RandomOptions } from './balancer/random.js';
export { AdaptiveBalancer, type AdaptiveOptions } from './balancer/adaptive.js';
export { NoAffinity } from './affinity/none.js';
export { UserAffinity } from './affinity/user.js';
export { ConnectionAffinity } from './affinity/connection.js';
export { HashAffinity, type HashAffinityOptions } from './affinity/hash.js';
export { RegionAffinity, type RegionAffinityOptions } from './affinity/region.js';
export { ImmediateFailover } from './failover/immediate.js';
export { GracefulFailover, type GracefulFailoverOptions } from './failover/graceful.js';
export { DelayedFailover, type DelayedFailoverOptions } from './failover/delayed.js';
