/**
 * `@switchyard/nestjs`: run NestJS `@WebSocketGateway()` classes on a Switchyard cluster.
 * `app.useWebSocketAdapter(new SwitchyardAdapter(app, { cluster }))`; see README.md.
 */
export { SwitchyardAdapter, type GatewayOptions } from './adapter.js';
export type { SwitchyardAdapterOptions } from './options.js';
export { EXCEPTION_EVENT, type EmittingConnection } from './exceptions.js';
