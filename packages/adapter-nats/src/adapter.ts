import type { ClusterAdapter } from '@switchyard/core';
import { composeAdapter } from '@switchyard/core/adapter';
import { NatsBus } from './bus.js';
import { NatsConnector } from './connection.js';
import { NatsHistory } from './history.js';
import { parseNatsOptions, type NatsAdapterOptions } from './options.js';
import { NatsRegistry } from './registry.js';
import { NatsSessionStore } from './sessions.js';

/** Every port of the NATS adapter, sharing one connection: a `ClusterAdapter` that lacks nothing. */
export interface NatsAdapter extends ClusterAdapter<NatsBus, NatsRegistry, NatsSessionStore, NatsHistory> {
  readonly capabilities: { readonly bus: true; readonly registry: true; readonly sessions: true; readonly history: true };
}

/**
 * Build the NATS bus, history, registry and session store on one shared connection. Validates
 * the options (CONFIG_INVALID naming the field) and does no I/O: nothing connects until
 * `connect()`. Ports you do not connect open nothing. `close()` closes every port; the shared
 * connection closes with the last one (never one you passed in).
 */
export function createNatsAdapter(options: NatsAdapterOptions): NatsAdapter {
  const config = parseNatsOptions(options);
  const connector = new NatsConnector(config);
  const bus = new NatsBus(config, connector);
  const history = new NatsHistory(config, connector);
  const registry = new NatsRegistry(config, connector);
  const sessions = new NatsSessionStore(config, connector);
  // one connection for every port: opened by the first connect, so one after another
  return composeAdapter({ bus, registry, sessions, history }, { oneByOne: true });
}
