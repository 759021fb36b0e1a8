/** NATS bus, registry, session store and history for Switchyard, on one shared connection. */
export { createNatsAdapter, type NatsAdapter } from './adapter.js';
export { NatsBus, type NatsBusStats } from './bus.js';
export { NatsHistory, PREV_HEADER } from './history.js';
export { NatsRegistry } from './registry.js';
export { NatsSessionStore } from './sessions.js';
export { NatsConnector } from './connection.js';
export { SOURCE, mapNatsError } from './errors.js';
export { natsOptionsSchema, parseNatsOptions, SUBJECT_PREFIX_PATTERN, NAME_PATTERN, type NatsAdapterConfig, type NatsAdapterOptions } from './options.js';
export { encodeToken, decodeToken, topicSubject, historySubject } from './names.js';
