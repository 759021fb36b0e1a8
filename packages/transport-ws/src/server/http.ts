import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterNodeApi, Logger, NodeInfo } from '@switchyard/core';

/** What the endpoints read of a node (a `SwitchyardNode` is one). */
export interface EndpointsNode {
  readonly id: string;
  readonly cluster: ClusterNodeApi;
  readonly logger: Logger;
  readonly options: { readonly httpPrefix: string };
  /** Why the node is (not) ready, for /ready. */
  readonly readiness: string;
  readonly connections: ReadonlyMap<string, unknown>;
}

/** Node-style handler; calls `next()` (when given) for paths it does not serve, so it mounts in Express/Connect. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/** One endpoint's answer: an HTTP status and a JSON body. */
export interface EndpointAnswer {
  status: number;
  body: unknown;
}

/** The query of `/route`: who is connecting (each optional). */
export interface RouteQuery {
  session?: string | undefined;
  user?: string | undefined;
  key?: string | undefined;
  region?: string | undefined;
}

/**
 * The answers of the node's endpoints, for bindings that serve them as routes of their own
 * framework (Fastify, NestJS) instead of mounting `httpHandler`.
 */
export interface Endpoints {
  /** `/health`: 200 `{ status: 'ok' }`. */
  health(): EndpointAnswer;
  /** `/ready`: 200 `{ status: 'ready' }`, else 503 with why. */
  ready(): EndpointAnswer;
  /** `/metrics`: Prometheus text and its content type. */
  metrics(): Promise<{ contentType: string; text: string }>;
  /** `/cluster`: the nodes this node knows, with totals. */
  cluster(): EndpointAnswer;
  /** `/route`: where placement puts such a client; 503 when no node is healthy. */
  route(q: RouteQuery): Promise<EndpointAnswer>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A non-empty string, else `undefined` (a framework's query parser may give arrays for repeated keys). */
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** The node's endpoint answers (what `httpHandler` serves). */
export function endpoints(node: EndpointsNode): Endpoints {
  return {
    health: () => ({ status: 200, body: { status: 'ok' } }),
    ready: () => {
      const status = node.readiness;
      return { status: status === 'ready' ? 200 : 503, body: { status } };
    },
    metrics: async () => ({ contentType: node.cluster.metricsRegistry.contentType, text: await node.cluster.metricsRegistry.metrics() }),
    cluster: () => {
      const nodes: NodeInfo[] = node.cluster.nodes();
      const alive = nodes.filter((n) => n.state !== 'dead');
      return {
        status: 200,
        body: {
          node: node.id,
          nodes,
          totals: {
            nodes: alive.length,
            healthy: nodes.filter((n) => n.state === 'ready').length,
            connections: alive.reduce((s, n) => s + (n.id === node.id ? node.connections.size : n.load.connections), 0),
            capacity: alive.reduce((s, n) => s + n.capacity, 0),
          },
        },
      };
    },
    route: async (q) => {
      try {
        const p = await node.cluster.place({ userId: str(q.user), sessionId: str(q.session), key: str(q.key), region: str(q.region) });
        return { status: 200, body: { url: p.node.url, node: p.node.id, reason: p.reason } };
      } catch {
        return { status: 503, body: { error: 'no_healthy_node' } };
      }
    },
  };
}

/** The node's HTTP endpoints: /health, /ready, /metrics, /cluster, /route (under `httpPrefix`). */
export function createHttpHandler(node: EndpointsNode): HttpHandler {
  const answers = endpoints(node);
  return (req, res, next) => {
    const prefix = node.options.httpPrefix;
    const u = new URL(req.url ?? '/', 'http://localhost');
    const path = u.pathname.startsWith(prefix) ? u.pathname.slice(prefix.length) : '';
    const known = path === '/health' || path === '/ready' || path === '/metrics' || path === '/cluster' || path === '/route';
    if (!known) {
      if (next) return next();
      return json(res, 404, { error: 'not_found' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method_not_allowed' });
    const fail = (err: unknown) => {
      node.logger.warn({ err, path }, 'http endpoint failed');
      if (!res.headersSent) json(res, 500, { error: 'internal' });
    };
    const send = (a: EndpointAnswer) => json(res, a.status, a.body);
    switch (path) {
      case '/health':
        return send(answers.health());
      case '/ready':
        return send(answers.ready());
      case '/metrics':
        answers
          .metrics()
          .then((m) => {
            res.writeHead(200, { 'content-type': m.contentType, 'cache-control': 'no-store' });
            res.end(m.text);
          })
          .catch(fail);
        return;
      case '/cluster':
        return send(answers.cluster());
      case '/route': {
        const q = u.searchParams;
        answers
          .route({ session: str(q.get('session')), user: str(q.get('user')), key: str(q.get('key')), region: str(q.get('region')) })
          .then(send)
          .catch(fail);
        return;
      }
    }
  };
}
