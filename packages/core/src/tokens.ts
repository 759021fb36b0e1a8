import type { InjectionToken } from 'tsyringe';
import type { ClusterConfig } from './config/schema.js';
import type { Logger } from './logger.js';
import type { ClusterMetrics } from './metrics/cluster-metrics.js';
import type { MessageBus } from './ports/bus.js';
import type { HistoryStore } from './ports/history.js';
import type { NodeRegistry } from './ports/registry.js';
import type { SessionStore } from './ports/sessions.js';
import type { StrategyRegistry } from './strategy/registry.js';
import type { AffinityStrategy, BalancerStrategy, FailoverStrategy } from './strategy/types.js';

/** One injection token per port and strategy kind, for the composition root. */
export const Tokens = {
  Config: Symbol('switchyard.Config') as InjectionToken<ClusterConfig>,
  Logger: Symbol('switchyard.Logger') as InjectionToken<Logger>,
  Metrics: Symbol('switchyard.Metrics') as InjectionToken<ClusterMetrics>,
  MessageBus: Symbol('switchyard.MessageBus') as InjectionToken<MessageBus>,
  HistoryStore: Symbol('switchyard.HistoryStore') as InjectionToken<HistoryStore | null>,
  NodeRegistry: Symbol('switchyard.NodeRegistry') as InjectionToken<NodeRegistry>,
  SessionStore: Symbol('switchyard.SessionStore') as InjectionToken<SessionStore>,
  Strategies: Symbol('switchyard.Strategies') as InjectionToken<StrategyRegistry>,
  Balancer: Symbol('switchyard.Balancer') as InjectionToken<BalancerStrategy>,
  Affinity: Symbol('switchyard.Affinity') as InjectionToken<AffinityStrategy>,
  Failover: Symbol('switchyard.Failover') as InjectionToken<FailoverStrategy>,
} as const;
