/**
 * `@switchyard/transport-ws`: the Switchyard WebSocket node. The client SDK is at
 * `@switchyard/transport-ws/client`; the wire protocol is docs/protocol.md, and as code
 * `@switchyard/transport-ws/protocol`.
 */
export { createNode, SwitchyardNode, type SwitchyardNodeEvents, type CloseOptions } from './server/node.js';
export type { SignalHandle, SignalOptions } from './server/signals.js';
export type { Connection, Ack, MessageListener, CloseListener } from './server/connection.js';
export { Sender, type SendOptions, type Publisher, nodeOfConnection } from './server/sender.js';
export { createEmitter, Emitter } from './emitter/emitter.js';
export { PresenceQueries, type RoomMember, type RoomMembers, type ConnectionCount, type PresenceOptions } from './server/presence.js';
export { jwtAuth, tokenFromRequest, type AuthContext, type AuthResult } from './server/auth.js';
export { CloseCode, closeCodeName } from './protocol/close-codes.js';
export { MessageRefused, isMessageRefused, MAX_REFUSAL_LENGTH } from './refused.js';
export { endpoints, type Endpoints, type EndpointAnswer, type RouteQuery, type HttpHandler } from './server/http.js';
export { nodeOptionsSchema, retiredNodeOptions, jwtOptionsSchema, emitterOptionsSchema, type EmitterOptions, type EmitterOptionsInput, parseNodeOptions, type NodeOptions, type NodeOptionsInput, type JwtOptionsInput, type RoomHook, type AuthenticateHook } from './options.js';
export { WIRE_VERSION, SUBPROTOCOL } from './protocol/version.js';
export { clientFrame, parseClientFrame, type ClientFrame } from './protocol/client-frames.js';
export type { ErrorCode, Priority, RoomState } from './protocol/server-frames.js';
export type { EventMap, AnyEvents, EventName, EventData, EventOf, EventArgs } from './client/events.js';
