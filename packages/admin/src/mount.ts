/**
 * `mountAdmin(node, options)`: the dashboard on a node's own HTTP server, under `path`.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { childLogger, noopLogger } from '@switchyard/core';
import type { HttpHandler, SwitchyardNode } from '@switchyard/transport-ws';
import { AdminActions } from './actions.js';
import { NodeAgent, serveAgent } from './agent.js';
import { ALLOW_ALL_INSECURE } from './authorize.js';
import { adminError } from './errors.js';
import { EventLog, type AdminEvent } from './events.js';
import { LiveFeed } from './feed.js';
import { createAdminHandler } from './http.js';
import { parseAdminOptions, type AdminOptionsInput } from './options.js';
import { buildSnapshot, type ClusterSnapshot } from './snapshot.js';

/** A mounted dashboard. */
export interface AdminHandle {
  /** Where it is served, e.g. `/admin` (the page is at `/admin/`). */
  readonly path: string;
  /** `(req, res, next?)`: serves `path` and below, calls `next()` otherwise (mount it yourself with `attach: false`). */
  readonly handler: HttpHandler;
  /** The cluster as the dashboard shows it right now. */
  snapshot(): Promise<ClusterSnapshot>;
  /** The recent events the dashboard lists. */
  events(): readonly AdminEvent[];
  /** Stop serving: the server's own listeners come back, open streams end, the node stops answering the admin queries. Idempotent. */
  close(): Promise<void>;
}

const mounted = new WeakMap<SwitchyardNode, Set<string>>();

/**
 * Serve the admin dashboard on `node`'s HTTP server under `options.path` (default `/admin`).
 * `authorize` is required (`'allow-all-insecure'` to open it on purpose). With a server the node
 * created itself, call it after `await node.start()` (the server exists from then on); with
 * `createNode({ server })` any time. The node also answers the dashboard's questions of other
 * nodes, so mounting it on every node gives a complete view from each.
 */
export function mountAdmin(node: SwitchyardNode, options: AdminOptionsInput): AdminHandle {
  if (typeof node !== 'object' || node === null || typeof (node as Partial<SwitchyardNode>).roomMembers !== 'function') throw adminError('CONFIG_INVALID', 'mountAdmin needs a transport-ws node (createNode(...)) as its first argument');
  const o = parseAdminOptions(options, { queryTimeoutMs: node.options.timeouts.queryTimeoutMs });
  if (o.path === node.options.path) throw adminError('CONFIG_INVALID', `path ${o.path} is the node's WebSocket path: choose another, e.g. /admin`);
  const server = node.httpServer ?? node.options.server;
  if (o.attach && !server) {
    throw adminError('CONFIG_INVALID', 'the node has no HTTP server yet: call mountAdmin after await node.start() (the node creates its server in start()), or pass attach: false and mount admin.handler yourself');
  }
  const paths = mounted.get(node) ?? new Set<string>();
  if (paths.has(o.path)) throw adminError('CONFLICT', `the admin dashboard is already mounted at ${o.path} on ${node.id}`);
  const logger = childLogger(o.logger ?? node.logger ?? noopLogger, { component: 'admin' });
  if (o.authorize === ALLOW_ALL_INSECURE) logger.warn({ path: o.path }, `admin dashboard mounted with '${ALLOW_ALL_INSECURE}': anyone who reaches ${o.path} can drain nodes and disconnect clients`);

  const agent = new NodeAgent(node);
  const detachAgent = serveAgent(node, agent, o.maxConnections);
  const log = new EventLog(o.maxEvents);
  log.watch(node.cluster);
  const snapshot = () => buildSnapshot(node, agent, o.queryTimeoutMs);
  const feed = new LiveFeed(log, snapshot, o.refreshMs, logger);
  const actions = new AdminActions(node, agent, log, o);
  const handler = createAdminHandler({ node, options: o, log, feed, actions, snapshot, logger });
  const detachServer = o.attach && server ? interpose(server, handler) : () => undefined;
  paths.add(o.path);
  mounted.set(node, paths);

  let closed = false;
  return {
    path: o.path,
    handler,
    snapshot,
    events: () => log.recent(),
    close: async () => {
      if (closed) return;
      closed = true;
      detachServer();
      feed.close();
      log.close();
      detachAgent();
      paths.delete(o.path);
    },
  };
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Put `handler` in front of the server's `request` listeners: requests under the admin path are
 * answered by it, every other request goes to the listeners that were there (the node's own
 * endpoints, your app) exactly as before. Returns the function that puts them back.
 */
function interpose(server: Server, handler: HttpHandler): () => void {
  const previous = server.listeners('request') as RequestListener[];
  const front: RequestListener = (req, res) => handler(req, res, () => {
    if (previous.length === 0) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'not_found' }));
      return;
    }
    for (const l of previous) l.call(server, req, res);
  });
  for (const l of previous) server.off('request', l);
  server.on('request', front);
  return () => {
    server.off('request', front);
    for (const l of previous) if (!server.listeners('request').includes(l)) server.on('request', l);
  };
}
