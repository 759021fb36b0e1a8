import 'reflect-metadata';

export * from './errors.js';
export * from './model/node.js';
export * from './model/session.js';
export * from './model/address.js';
export * from './model/envelope.js';
export type * from './ports/index.js';
export * from './memory/index.js';
export { EnvelopeCodec, type DecodeResult, type DropReason, type EnvelopeCodecOptions } from './cluster/envelope-codec.js';
export { TypedEmitter } from './util/emitter.js';
export { randomId } from './util/id.js';
export { noopObserver } from './ports/observer.js';
export { noopLogger, childLogger, type Logger } from './logger.js';
