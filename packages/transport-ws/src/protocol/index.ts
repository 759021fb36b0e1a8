/**
 * `@switchyard/transport-ws/protocol`: the wire protocol v1 as code, for tools that speak to a
 * node without the SDK (docs/protocol.md says it in words, docs/asyncapi.yaml as a schema). The
 * node and the SDK both import these files; every file here is re-exported whole.
 */
/** PROTOCOL_VERSION (WIRE_VERSION), SUBPROTOCOL, DEFAULT_PATH. */
export * from './version.js';
/** CloseCode, what a client does after each (FATAL_ / QUICK_RETRY_CLOSE_CODES), closeCodeName, fitReason. */
export * from './close-codes.js';
export { EARLY_SUBPROTOCOL, EARLY_HELLO_PREFIX, EARLY_HELLO_MAX_LENGTH, earlyHelloCarrier, offeredSubprotocols } from './early-hello.js';
/** The frames a node sends: types, the node's encoders, the SDK's parseServerFrame. No dependencies. */
export * from './server-frames.js';
/** The frames a client sends: zod schemas and the node's parseClientFrame (the node side only). */
export * from './client-frames.js';
