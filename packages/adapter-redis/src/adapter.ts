import type { ClusterAdapter } from '@switchyard/core';
import { composeAdapter } from '@switchyard/core/adapter';
import { RedisBus } from './bus.js';
import { RedisHistory } from './history.js';
import { parseRedisOptions, type RedisAdapterOptions } from './options.js';
import { RedisRegistry } from './registry.js';
import { RedisSessionStore } from './sessions.js';

/** Every port Redis provides, built from one set of options: a `ClusterAdapter` that lacks nothing. */
export interface RedisAdapter extends ClusterAdapter<RedisBus, RedisRegistry, RedisSessionStore, RedisHistory> {
  readonly capabilities: { readonly bus: true; readonly registry: true; readonly sessions: true; readonly history: true };
}

/**
 * Build the Redis bus, registry, session store and history from one set of options. Validates
 * the options (CONFIG_INVALID names the field) and does no I/O: call `connect()` or connect each
 * port yourself.
 */
export function createRedisAdapter(options: RedisAdapterOptions = {}): RedisAdapter {
  const cfg = parseRedisOptions(options);
  const bus = new RedisBus(cfg);
  const registry = new RedisRegistry(cfg);
  const sessions = new RedisSessionStore(cfg);
  const history = new RedisHistory(cfg);
  return composeAdapter({ bus, registry, sessions, history });
}
