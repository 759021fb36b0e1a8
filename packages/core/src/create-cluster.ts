import 'reflect-metadata';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { Registry } from 'prom-client';
import { clusterConfigSchema, parseConfig, type ClusterConfigInput } from './config/schema.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { consoleLogger, type Logger, type LogLevel } from './logger.js';
import { MemoryBus } from './memory/bus.js';
import { MemoryHistory } from './memory/history.js';
import { getDefaultHub, type MemoryHub } from './memory/hub.js';
import { MemoryRegistry } from './memory/registry.js';
import { MemorySessionStore } from './memory/sessions.js';
import { ClusterMetrics } from './metrics/cluster-metrics.js';
import type { ClusterAdapter } from './ports/adapter.js';
import type { MessageBus } from './ports/bus.js';
import type { HistoryStore } from './ports/history.js';
import type { NodeRegistry } from './ports/registry.js';
import type { SessionStore } from './ports/sessions.js';
import { StrategyRegistry } from './strategy/registry.js';
import { Tokens } from './tokens.js';
import { randomId } from './util/id.js';

/**
 * Ports given together without a lifecycle of their own: each is connected, instrumented
 * and closed one by one. An adapter factory returns a `ClusterAdapter` instead.
 */
export interface PortSet {
  bus?: MessageBus;
  registry?: NodeRegistry;
  sessions?: SessionStore;
  history?: HistoryStore;
}

export interface CreateClusterOptions extends ClusterConfigInput {
  /**
   * Every port from one backend, whole: `adapter: createRedisAdapter({ url })` (any
   * `ClusterAdapter`). A port the backend lacks is in memory on `hub` unless given on its own.
   * When the node uses every port the adapter has, it starts and stops them through the
   * adapter's `instrument()`, `connect()` and `close()`; a port given on its own (`bus`,
   * `registry`, `sessions`, `history`) wins over the adapter's, and `history: false` turns the
   * adapter's history off, and then each port the node uses is connected and closed on its own.
   * A plain `PortSet` (ports without a lifecycle) is accepted too.
   */
  adapter?: ClusterAdapter | PortSet;
  /** The bus; in-memory on `hub` when absent. */
  bus?: MessageBus;
  /** The node registry; in-memory on `hub` when absent. */
  registry?: NodeRegistry;
  /** The session store; in-memory on `hub` when absent. */
  sessions?: SessionStore;
  /** History for rooms: a store, `true` for in-memory on `hub`, or false/absent for none. */
  history?: HistoryStore | boolean;
  /** The shared in-memory backend for ports not given (default: one per process). */
  hub?: MemoryHub;
  /** Strategies to resolve names from; the built-ins when absent. Register custom ones here. */
  strategies?: StrategyRegistry;
  /** A pino-compatible logger; default: warnings and errors on standard error (see `logLevel`). */
  logger?: Logger;
  /** Level of the default logger: `debug`, `info`, `warn` (default, or `SWITCHYARD_LOG_LEVEL`), `error`, `silent`. Ignored with `logger`. */
  logLevel?: LogLevel;
  /** Put the metrics in this prom-client registry instead of a new one. */
  metricsRegistry?: Registry;
  /** Also collect process metrics (default false). */
  defaultMetrics?: boolean;
  /** Close the ports on stop (default true). */
  closePorts?: boolean;
  /** Last word on the node's child container: override any token (e.g. `Tokens.Balancer`). */
  configure?: (container: DependencyContainer) => void;
}

/** Options of `createCluster` that are not cluster configuration (named when an unknown key is near one). */
const OWN_KEYS = ['adapter', 'bus', 'registry', 'sessions', 'history', 'hub', 'strategies', 'logger', 'logLevel', 'metricsRegistry', 'defaultMetrics', 'closePorts', 'configure'];

/**
 * The composition root of one cluster node: validates the configuration, builds a child
 * container (never the global one), registers the ports (in-memory by default) and resolves
 * the strategies by name through their tokens. Does no I/O: call `start()` on the result.
 */
export function createCluster(options: CreateClusterOptions = {}): ClusterNode {
  const { adapter, bus: givenBus, registry: givenRegistry, sessions: givenSessions, history: givenHistory, hub: givenHub, strategies, logger, logLevel, metricsRegistry, defaultMetrics, closePorts, configure, ...rest } = options;
  const bus = givenBus ?? adapter?.bus;
  const registry = givenRegistry ?? adapter?.registry;
  const sessions = givenSessions ?? adapter?.sessions;
  const history = givenHistory ?? adapter?.history;
  const parsed = parseConfig(clusterConfigSchema, rest, 'core', OWN_KEYS);
  const config = { ...parsed, nodeId: parsed.nodeId ?? `node-${randomId(6)}` };
  const hub = givenHub ?? getDefaultHub();

  const c = rootContainer.createChildContainer();
  c.register(Tokens.Config, { useValue: config });
  c.register(Tokens.Logger, { useValue: logger ?? consoleLogger(logLevel ? { level: logLevel } : {}) });
  c.register(Tokens.Strategies, { useValue: strategies ?? StrategyRegistry.withDefaults() });
  c.register(Tokens.MessageBus, { useValue: bus ?? new MemoryBus({ hub }) });
  c.register(Tokens.NodeRegistry, { useValue: registry ?? new MemoryRegistry({ hub }) });
  c.register(Tokens.SessionStore, { useValue: sessions ?? new MemorySessionStore({ hub }) });
  const historyStore = history === true ? new MemoryHistory({ hub }) : history || null;
  c.register(Tokens.HistoryStore, { useFactory: () => historyStore }); // useValue refuses null
  c.register(Tokens.Metrics, {
    useFactory: instanceCachingFactory(() => new ClusterMetrics({ registry: metricsRegistry, nodeId: config.nodeId, defaultMetrics: defaultMetrics ?? false })),
  });
  c.register(Tokens.Balancer, { useFactory: instanceCachingFactory((x) => x.resolve(Tokens.Strategies).resolve('balancer', config.balancer)) });
  c.register(Tokens.Affinity, { useFactory: instanceCachingFactory((x) => x.resolve(Tokens.Strategies).resolve('affinity', config.affinity)) });
  c.register(Tokens.Failover, { useFactory: instanceCachingFactory((x) => x.resolve(Tokens.Strategies).resolve('failover', config.failover)) });
  configure?.(c);

  const ports = {
    bus: c.resolve(Tokens.MessageBus),
    registry: c.resolve(Tokens.NodeRegistry),
    sessions: c.resolve(Tokens.SessionStore),
    history: c.resolve(Tokens.HistoryStore),
  };
  return new ClusterNode({
    config: c.resolve(Tokens.Config) as typeof config,
    logger: c.resolve(Tokens.Logger),
    ...ports,
    metrics: c.resolve(Tokens.Metrics),
    balancer: c.resolve(Tokens.Balancer),
    affinity: c.resolve(Tokens.Affinity),
    failover: c.resolve(Tokens.Failover),
    closePorts: closePorts ?? true,
    adapter: isClusterAdapter(adapter) && usesEveryPort(adapter, ports) ? adapter : undefined,
  });
}

/** An adapter with a lifecycle (what every factory returns), as opposed to a plain `PortSet`. */
function isClusterAdapter(adapter: ClusterAdapter | PortSet | undefined): adapter is ClusterAdapter {
  if (!adapter) return false;
  const a = adapter as Partial<ClusterAdapter>;
  return typeof a.connect === 'function' && typeof a.close === 'function' && typeof a.instrument === 'function';
}

/** Whether the node takes every port the adapter has (none replaced, history not turned off). */
function usesEveryPort(adapter: ClusterAdapter, used: { bus: MessageBus; registry: NodeRegistry; sessions: SessionStore; history: HistoryStore | null }): boolean {
  return (['bus', 'registry', 'sessions', 'history'] as const).every((k) => adapter[k] === undefined || adapter[k] === used[k]);
}
