import { SwitchyardError } from '../errors.js';
import { AdaptiveBalancer, type AdaptiveOptions } from '../balancer/adaptive.js';
import { ConsistentHashBalancer, type ConsistentHashOptions } from '../balancer/consistent-hash.js';
import { LeastConnectionsBalancer, type LeastConnectionsOptions } from '../balancer/least-connections.js';
import { RandomBalancer, type RandomOptions } from '../balancer/random.js';
import { RoundRobinBalancer } from '../balancer/round-robin.js';
import { WeightedBalancer } from '../balancer/weighted.js';
import { ConnectionAffinity } from '../affinity/connection.js';
import { HashAffinity, type HashAffinityOptions } from '../affinity/hash.js';
import { NoAffinity } from '../affinity/none.js';
import { RegionAffinity, type RegionAffinityOptions } from '../affinity/region.js';
import { UserAffinity } from '../affinity/user.js';
import { DelayedFailover, type DelayedFailoverOptions } from '../failover/delayed.js';
import { GracefulFailover, type GracefulFailoverOptions } from '../failover/graceful.js';
import { ImmediateFailover } from '../failover/immediate.js';
import type { StrategyFactory, StrategyKind, StrategyRef, StrategyTypes } from './types.js';

/** The method every strategy object of a kind must have. */
const REQUIRED_METHOD: Record<StrategyKind, string> = { balancer: 'pick', affinity: 'key', failover: 'timing' };

/**
 * Strategies by kind and name. Custom strategies are plugins: register a factory under a
 * name and refer to it from configuration, or pass the object itself.
 */
export class StrategyRegistry {
  private readonly factories: { [K in StrategyKind]: Map<string, StrategyFactory<K>> } = {
    balancer: new Map(),
    affinity: new Map(),
    failover: new Map(),
  };

  /** A registry holding every built-in strategy. */
  static withDefaults(): StrategyRegistry {
    const r = new StrategyRegistry();
    r.register('balancer', 'round-robin', () => new RoundRobinBalancer());
    r.register('balancer', 'least-connections', (o) => new LeastConnectionsBalancer(o as LeastConnectionsOptions));
    r.register('balancer', 'weighted', () => new WeightedBalancer());
    r.register('balancer', 'consistent-hash', (o) => new ConsistentHashBalancer(o as ConsistentHashOptions));
    r.register('balancer', 'random', (o) => new RandomBalancer(o as RandomOptions));
    r.register('balancer', 'power-of-two', (o) => new RandomBalancer({ ...(o as RandomOptions), twoChoices: true }));
    r.register('balancer', 'adaptive', (o) => new AdaptiveBalancer(o as AdaptiveOptions));
    r.register('affinity', 'none', () => new NoAffinity());
    r.register('affinity', 'user', () => new UserAffinity());
    r.register('affinity', 'connection', () => new ConnectionAffinity());
    r.register('affinity', 'hash', (o) => new HashAffinity(o as HashAffinityOptions));
    r.register('affinity', 'region', (o) => new RegionAffinity(o as RegionAffinityOptions));
    r.register('failover', 'immediate', () => new ImmediateFailover());
    r.register('failover', 'graceful', (o) => new GracefulFailover(o as GracefulFailoverOptions));
    r.register('failover', 'delayed', (o) => new DelayedFailover(o as DelayedFailoverOptions));
    return r;
  }

  /** Register a factory (or a ready instance) under `name`; replaces an earlier one of that name. */
  register<K extends StrategyKind>(kind: K, name: string, factory: StrategyFactory<K> | StrategyTypes[K]): this {
    if (!name) throw new SwitchyardError('CONFIG_INVALID', `a ${kind} strategy needs a name`);
    const f = typeof factory === 'function' ? factory : () => factory;
    this.factories[kind].set(name, f as StrategyFactory<K>);
    return this;
  }

  has(kind: StrategyKind, name: string): boolean {
    return this.factories[kind].has(name);
  }

  names(kind: StrategyKind): string[] {
    return [...this.factories[kind].keys()].sort();
  }

  /** A strategy from a name, a `{ name, options }`, or an object that already is one. */
  resolve<K extends StrategyKind>(kind: K, ref: StrategyRef<K>): StrategyTypes[K] {
    if (typeof ref === 'object' && ref !== null && typeof (ref as unknown as Record<string, unknown>)[REQUIRED_METHOD[kind]] === 'function') {
      return ref as StrategyTypes[K];
    }
    const { name, options } = typeof ref === 'string' ? { name: ref, options: {} } : (ref as { name?: unknown; options?: Record<string, unknown> });
    if (typeof name !== 'string') {
      throw new SwitchyardError('CONFIG_INVALID', `${kind}: expected a strategy name, { name, options } or an object with a ${REQUIRED_METHOD[kind]}() method`);
    }
    const factory = this.factories[kind].get(name);
    if (!factory) {
      throw new SwitchyardError('UNKNOWN_STRATEGY', `unknown ${kind} strategy "${name}"; known: ${this.names(kind).join(', ')}`, {
        details: { kind, name, known: this.names(kind) },
      });
    }
    const strategy = factory(options ?? {});
    if (typeof (strategy as unknown as Record<string, unknown>)[REQUIRED_METHOD[kind]] !== 'function') {
      throw new SwitchyardError('CONFIG_INVALID', `${kind} strategy "${name}" has no ${REQUIRED_METHOD[kind]}() method`);
    }
    return strategy;
  }
}
