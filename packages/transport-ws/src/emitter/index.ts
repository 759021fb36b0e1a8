/**
 * `@switchyard/transport-ws/emitter`: publish to a Switchyard cluster's sockets from a process
 * that is not a node (workers, serverless functions). Does not load `ws`.
 */
export { createEmitter, Emitter } from './emitter.js';
export { Sender, type SendOptions } from '../server/sender.js';
export { emitterOptionsSchema, type EmitterOptions, type EmitterOptionsInput } from '../options.js';
