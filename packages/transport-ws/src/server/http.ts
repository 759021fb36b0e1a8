import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeInfo } from '@switchyard/core';
import type { SwitchyardNode } from './node.js';

/** Node-style handler; calls `next()` (when given) for paths it does not serve, so it mounts in Express/Connect. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const str = (v: string | null): string | undefined => (v ? v : undefined);

async function route(node: SwitchyardNode, q: URLSearchParams): Promise<{ status: number; body: unknown }> {
  const { cluster } = node;
  const session = str(q.get('session'));
  const user = str(q.get('user'));
  try {
    const p = await cluster.place({ userId: user, sessionId: session, key: str(q.get('key')), region: str(q.get('region')) });
    return { status: 200, body: { url: p.node.url, node: p.node.id, reason: p.reason } };
  } catch {
    return { status: 503, body: { error: 'no_healthy_node' } };
  }
}

function clusterView(node: SwitchyardNode) {
  const nodes: NodeInfo[] = node.cluster.nodes();
  const alive = nodes.filter((n) => n.state !== 'dead');
  return {
    node: node.id,
    nodes,
    totals: {
      nodes: alive.length,
      healthy: nodes.filter((n) => n.state === 'ready').length,
      connections: alive.reduce((s, n) => s + (n.id === node.id ? node.connections.size : n.load.connections), 0),
      capacity: alive.reduce((s, n) => s + n.capacity, 0),
    },
  };
}

/** The node's HTTP endpoints: /health, /ready, /metrics, /cluster, /route (under `httpPrefix`). */
export function createHttpHandler(node: SwitchyardNode): HttpHandler {
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
    switch (path) {
      case '/health':
        return json(res, 200, { status: 'ok' });
      case '/ready': {
        const status = node.readiness;
        return json(res, status === 'ready' ? 200 : 503, { status });
      }
      case '/metrics':
        node.cluster.metricsRegistry
          .metrics()
          .then((text) => {
            res.writeHead(200, { 'content-type': node.cluster.metricsRegistry.contentType, 'cache-control': 'no-store' });
            res.end(text);
          })
          .catch(fail);
        return;
      case '/cluster':
        return json(res, 200, clusterView(node));
      case '/route':
        route(node, u.searchParams)
          .then((r) => json(res, r.status, r.body))
          .catch(fail);
        return;
    }
  };
}
