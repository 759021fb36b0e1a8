/** Protocol v1's names and numbers, shared by the node and the SDK (see docs/protocol.md). */

/** The protocol version: a client sends it in `hello.v`, a node answers it in `welcome.v`. */
export const PROTOCOL_VERSION = 1;
/** The same number as {@link PROTOCOL_VERSION}, under the name the node's entry point exports. */
export const WIRE_VERSION = PROTOCOL_VERSION;
/** The WebSocket subprotocol (`Sec-WebSocket-Protocol`) a client offers and a node accepts. */
export const SUBPROTOCOL = 'switchyard.v1';
/** The path a node takes WebSocket upgrades on unless its `path` option says otherwise. */
export const DEFAULT_PATH = '/ws';
