import type { AdapterObserver } from '@switchyard/core';
import { NatsBus } from './bus.js';
import { NatsConnector } from './connection.js';
import { NatsHistory } from './history.js';
import { parseNatsOptions, type NatsAdapterConfig, type NatsAdapterOptions } from './options.js';
import { NatsRegistry } from './registry.js';
import { NatsSessionStore } from './sessions.js';

export { NatsBus, type NatsBusStats } from './bus.js';
export { NatsHistory, PREV_HEADER } from './history.js';
export { NatsRegistry } from './registry.js';
export { NatsSessionStore } from './sessions.js';
export { NatsConnector } from './connection.js';
export { SOURCE, mapNatsError } from './errors.js';
export { natsOptionsSchema, parseNatsOptions, SUBJECT_PREFIX_PATTERN, NAME_PATTERN, type NatsAdapterConfig, type NatsAdapterOptions } from './options.js';
export { encodeToken, decodeToken, topicSubject, historySubject } from './subjects.js';

/** Every port of the NATS adapter, sharing one connection. */
export interface NatsAdapter {
  readonly config: NatsAdapterConfig;
  readonly bus: NatsBus;
  readonly history: NatsHistory;
  readonly registry: NatsRegistry;
  readonly sessions: NatsSessionStore;
  /** Report to one observer from every port. */
  instrument(observer: AdapterObserver): void;
  /** Connect every port (each port can also be connected on its own). */
  connect(): Promise<void>;
  /** Close every port; the shared connection closes with the last one (never one you passed in). Idempotent. */
  close(): Promise<void>;
}

/**
 * Build the NATS bus, history, registry and session store on one shared connection. Validates
 * the options (CONFIG_INVALID naming the field) and does no I/O: nothing connects until
 * `connect()`. Ports you do not connect open nothing.
 */
export function createNatsAdapter(options: NatsAdapterOptions): NatsAdapter {
  const config = parseNatsOptions(options);
  const connector = new NatsConnector(config);
  const bus = new NatsBus(config, connector);
  const history = new NatsHistory(config, connector);
  const registry = new NatsRegistry(config, connector);
  const sessions = new NatsSessionStore(config, connector);
  const ports = [bus, history, registry, sessions];
  return {
    config,
    bus,
    history,
    registry,
    sessions,
    instrument: (observer) => ports.forEach((p) => p.instrument(observer)),
    connect: async () => {
      for (const p of ports) await p.connect();
    },
    close: async () => {
      for (const p of [...ports].reverse()) await p.close();
    },
  };
}
