import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Logger, type INestApplication, type WebSocketAdapter, type WsMessageHandler } from '@nestjs/common';
import { CloseCode, closeCodeName, createNode, parseNodeOptions, type Connection, type HttpHandler, type SwitchyardNode } from '@switchyard/transport-ws';
import { nestError } from './errors.js';
import { giveEmit } from './exceptions.js';
import { checkAdapterOptions, httpServerOf, type SwitchyardAdapterOptions } from './options.js';
import { GatewayBinding, type Transform } from './replies.js';

/** What Nest passes to `create` from `@WebSocketGateway(port, options)`. */
export interface GatewayOptions {
  path?: string;
  namespace?: unknown;
  [option: string]: unknown;
}

/**
 * Runs a Nest application's `@WebSocketGateway()` classes on a Switchyard node attached to the
 * application's HTTP server (one port): `app.useWebSocketAdapter(new SwitchyardAdapter(app, { cluster }))`.
 *
 * - `@SubscribeMessage(event)` handlers get what SDK clients send with `client.send(event, data)`
 *   or `client.request(event, data)`; the client is the Switchyard `Connection`
 *   (`@ConnectedSocket()`), the data the message's `data` (`@MessageBody()`).
 * - A handler's return value (the first value of an observable, or what it passes to `@Ack()`)
 *   is the request's ack; `{ event, data }` (`WsResponse`) values go to the client as messages.
 * - An exception fails the ack (`refused` with a `WsException`'s words, `internal` for any other
 *   error), and the client also receives Nest's `exception` message (`{ status: 'error', message }`).
 * - `@WebSocketServer()` is the `SwitchyardNode`: `to(room)`, `toUser(id)`, `toConnection(id)`,
 *   `broadcast(...)` reach every node of the cluster.
 * - `app.close()` closes the node gracefully (clients are moved to other nodes) and stops the cluster.
 */
export class SwitchyardAdapter implements WebSocketAdapter<SwitchyardNode, Connection, GatewayOptions> {
  private readonly logger = new Logger('SwitchyardAdapter');
  private readonly server: Server;
  private readonly options: SwitchyardAdapterOptions;
  private _node: SwitchyardNode | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Gateway options that mean nothing here (Socket.IO's) were named in a warning. */
  private warned = false;

  /**
   * No I/O: the node is made when Nest sets up the first gateway (`app.init()` / `app.listen()`)
   * and starts once the application's server listens. Bad options throw `CONFIG_INVALID` here.
   */
  constructor(app: INestApplication | Server, options: SwitchyardAdapterOptions) {
    this.server = httpServerOf(app);
    this.options = checkAdapterOptions(options);
    parseNodeOptions({ ...this.options, server: this.server }); // every other option, checked now rather than at app.init()
  }

  /** The node, once Nest has set up a gateway (`undefined` before `app.init()`). */
  get node(): SwitchyardNode | undefined {
    return this._node;
  }

  /**
   * Serves the node's `/health`, `/ready`, `/metrics`, `/cluster` and `/route` (under the
   * `httpPrefix` option): `app.use(adapter.httpHandler)`. Other requests go on to Nest.
   */
  readonly httpHandler: HttpHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => {
    if (this._node) return this._node.httpHandler(req, res, next);
    if (next) return next();
    res.statusCode = 404;
    res.end();
  };

  /**
   * Resolves with the node once it serves (after `app.listen()`: it starts when the server
   * listens); rejects with the reason it could not start (the cluster's backend unreachable...).
   */
  async ready(): Promise<SwitchyardNode> {
    const node = this._node;
    if (!node || !this.starting) {
      throw nestError('CONFLICT', 'no Switchyard node yet: call adapter.ready() after app.listen(); the node is made when Nest sets up the @WebSocketGateway() classes, and an application without one has no node');
    }
    await this.starting;
    return node;
  }

  /** Called by Nest for each gateway server (port and path); every gateway shares the one node. */
  create(port: number, options: GatewayOptions = {}): SwitchyardNode {
    if (this.closing) throw nestError('CLOSED', 'this SwitchyardAdapter was closed with its application; make a new one for a new application');
    if (port) {
      throw nestError(
        'UNSUPPORTED',
        `@WebSocketGateway(${port}) asks for a port of its own, which @switchyard/nestjs does not support: every gateway is served on the application's HTTP server (the port of app.listen()), so remove the port from @WebSocketGateway()`,
      );
    }
    if (options.namespace !== undefined) {
      throw nestError('UNSUPPORTED', `@WebSocketGateway({ namespace: ${JSON.stringify(String(options.namespace))} }): namespaces are a Socket.IO feature that Switchyard does not have; use rooms instead (the client joins with client.room(name), the server sends with server.to(name))`);
    }
    const path = this.pathFor(options.path);
    this.warnIgnored(options);
    if (this._node) {
      if (this._node.options.path !== path) {
        throw nestError('UNSUPPORTED', `two gateways ask for different paths (${this._node.options.path} and ${path}): one Switchyard node serves the application, on one path; give every @WebSocketGateway() the same path, or none`);
      }
      return this._node;
    }
    const node = createNode({ ...this.options, server: this.server, path });
    this._node = node;
    const starting = node.start().catch((err: unknown) => {
      this.logger.error(`the Switchyard node did not start: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    });
    starting.catch(() => undefined); // told by the log above and by ready()
    this.starting = starting;
    return node;
  }

  bindClientConnect(server: SwitchyardNode, callback: (client: Connection, request: IncomingMessage | undefined) => void): void {
    server.on('connection', (conn) => {
      giveEmit(conn);
      callback(conn, conn.request);
    });
  }

  /** `handleDisconnect(client, reason)`: the reason is the close code's name (`normal`, `going_away`, `service_restart`...). */
  bindClientDisconnect(client: Connection, callback: (reason: string) => void): void {
    client.on('close', (code) => callback(closeCodeName(code)));
  }

  bindMessageHandlers(client: Connection, handlers: WsMessageHandler[], transform: Transform): void {
    const binding = new GatewayBinding(client, handlers, transform);
    client.on('message', binding.listener);
    client.on('close', () => binding.close());
  }

  /** A client that came while the application was still starting: asked to come back (1012). */
  closeClient(client: Connection): void {
    client.close(CloseCode.ServiceRestart, '');
  }

  /** Called by `app.close()` for each gateway server: closes the node (once) gracefully. */
  close(_server: SwitchyardNode): Promise<void> {
    return this.shutdown();
  }

  /** Called by `app.close()` after `close`. */
  dispose(): Promise<void> {
    return this.shutdown();
  }

  /**
   * Closes the node gracefully, once: clients are told to move to other nodes, in-flight sends
   * get the grace period (`drain.graceMs`), the node leaves the cluster and the cluster stops
   * (its ports close). The application's HTTP server is Nest's to close.
   */
  private shutdown(): Promise<void> {
    this.closing ??= (async () => {
      const node = this._node;
      if (!node) return;
      // a start past the wait for the server is in the cluster's start: let it finish first
      if (this.starting && this.server.listening) await this.starting.catch(() => undefined);
      await node.close();
    })();
    return this.closing;
  }

  private pathFor(gatewayPath: string | undefined): string {
    const ours = this.options.path;
    if (gatewayPath !== undefined && ours !== undefined && gatewayPath !== ours) {
      throw nestError('UNSUPPORTED', `@WebSocketGateway({ path: '${gatewayPath}' }) differs from the path SwitchyardAdapter was given ('${ours}'): give the path in one place`);
    }
    return gatewayPath ?? ours ?? '/ws';
  }

  private warnIgnored(options: GatewayOptions): void {
    const ignored = Object.keys(options).filter((k) => k !== 'path' && k !== 'namespace' && options[k] !== undefined);
    if (ignored.length === 0 || this.warned) return;
    this.warned = true;
    this.logger.warn(`@WebSocketGateway() options ${ignored.join(', ')} do nothing on Switchyard (Socket.IO options); node options go to new SwitchyardAdapter(app, { ... })`);
  }
}
