/**
 * `@switchyard/transport-ws/client`: the Switchyard client SDK. No runtime dependencies;
 * runs in browsers and in Node (pass `WebSocket` from the `ws` package on Node 20).
 */
export { createClient, SwitchyardClient, type ConnectionState, type ConnectedInfo, type DisconnectedInfo, type ClientEvents } from './client.js';
export { Room, type RoomState, type RoomEvents, type ClientMessage, type SubscribedInfo, type PublishResult, type GapInfo } from './room.js';
export type { ClientOptions, WebSocketClass, WebSocketConstructor, WebSocketLike, ClientLogger, CloseInfo } from './options.js';
export { SwitchyardClientError, type ClientErrorCode } from './errors.js';
export { CloseCode, FATAL_CLOSE_CODES, QUICK_RETRY_CLOSE_CODES } from '../protocol/close-codes.js';
export { SUBPROTOCOL, PROTOCOL_VERSION } from '../protocol/version.js';
export { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
export { parseServerFrame, type ServerFrame, type MsgFrame, type GapFrame, type WelcomeFrame, type RoomPosition, type RoomResult } from '../protocol/server-frames.js';
export type { EventMap, AnyEvents, EventName, EventData, EventOf, EventArgs } from './events.js';
