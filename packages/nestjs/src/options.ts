import type { Server } from 'node:http';
import type { NodeOptionsInput } from '@switchyard/transport-ws';
import { nestError } from './errors.js';

/**
 * Options of `new SwitchyardAdapter(app, options)`: the node options of `createNode` (the
 * `cluster`, or an `adapter` to make one, `authenticate`, `rooms`, `drain`, ...) without `server`,
 * `port` and `host`: the node always serves on the Nest application's HTTP server.
 */
export type SwitchyardAdapterOptions = Omit<NodeOptionsInput, 'server' | 'port' | 'host' | 'http'>;

/** Node options the adapter decides itself, with what to do instead. */
const OWN = {
  server: 'the adapter attaches to the Nest application\'s HTTP server; pass the application (or its http.Server) as the first argument instead',
  port: 'the node serves on the port the application listens on (app.listen(port)); remove `port`',
  host: 'the node serves on the address the application listens on (app.listen(port, host)); remove `host`',
  http: 'the endpoints (/health, /ready, /metrics, /cluster, /route) are served by mounting adapter.httpHandler (app.use(adapter.httpHandler)); remove `http`',
} as const;

/** Refuse the options the adapter sets itself, in plain words. The rest is checked by `createNode`. */
export function checkAdapterOptions(options: unknown): SwitchyardAdapterOptions {
  if (typeof options !== 'object' || options === null) {
    throw nestError('CONFIG_INVALID', 'SwitchyardAdapter needs options: new SwitchyardAdapter(app, { cluster: createCluster({ adapter }) })');
  }
  for (const [key, why] of Object.entries(OWN)) {
    if ((options as Record<string, unknown>)[key] !== undefined) throw nestError('CONFIG_INVALID', `invalid option \`${key}\` of SwitchyardAdapter: ${why}`);
  }
  return options as SwitchyardAdapterOptions;
}

/** The application's http.Server: from a Nest application, or given as it is. */
export function httpServerOf(appOrServer: unknown): Server {
  const app = appOrServer as { getHttpServer?: () => unknown } | null | undefined;
  const server = typeof app?.getHttpServer === 'function' ? app.getHttpServer() : appOrServer;
  const s = server as Partial<Server> | null | undefined;
  if (typeof s !== 'object' || s === null || typeof s.on !== 'function' || typeof s.listen !== 'function') {
    throw nestError(
      'CONFIG_INVALID',
      'SwitchyardAdapter needs the Nest application (or its http.Server) to attach to: new SwitchyardAdapter(app, { cluster }); an application without an HTTP server (a standalone context or a microservice) cannot serve WebSocket clients',
    );
  }
  return server as Server;
}
