export { NatsBus, type NatsBusStats } from './bus.js';
export { NatsConnector } from './connection.js';
export { SOURCE, mapNatsError } from './errors.js';
export { natsOptionsSchema, parseNatsOptions, type NatsAdapterConfig, type NatsAdapterOptions } from './options.js';
export { encodeToken, decodeToken, topicSubject, historySubject } from './subjects.js';
export { NatsHistory, PREV_HEADER } from './history.js';
export { NatsRegistry } from './registry.js';
export { NatsSessionStore } from './sessions.js';
