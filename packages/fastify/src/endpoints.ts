import type { NodeInfo } from '@switchyard/core';
import type { SwitchyardNode } from '@switchyard/transport-ws';

/** One endpoint's answer: an HTTP status and a JSON body. */
export interface Answer {
  status: number;
  body: unknown;
}

/*
 * The answers of the node's own endpoints (transport-ws `server/http.ts`), made from the node's
 * public API so that they can be Fastify routes: the same statuses and bodies. transport-ws keeps
 * them inside its handler; once it exports them (`endpoints(node)`), this file goes.
 */

/** `/health`: the process is up. */
export const health = (): Answer => ({ status: 200, body: { status: 'ok' } });

/** `/ready`: 200 `{ status: 'ready' }`, else 503 with why (`starting`, `draining`, `fenced`, `registry_down`, `bus_down`). */
export function ready(node: SwitchyardNode): Answer {
  const status = node.readiness;
  return { status: status === 'ready' ? 200 : 503, body: { status } };
}

/** `/metrics`: every Switchyard metric of this node in Prometheus text. */
export async function metrics(node: SwitchyardNode): Promise<{ contentType: string; text: string }> {
  const registry = node.cluster.metricsRegistry;
  return { contentType: registry.contentType, text: await registry.metrics() };
}

/** `/cluster`: the nodes this node knows and their heartbeat loads (no cluster-wide query). */
export function cluster(node: SwitchyardNode): Answer {
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
}

/** The query of `/route`: who is connecting (each optional). */
export interface RouteQuery {
  session?: string;
  user?: string;
  key?: string;
  region?: string;
}

/** `/route`: where placement puts a client (`{ url, node, reason }`), 503 when no node is healthy. */
export async function route(node: SwitchyardNode, q: RouteQuery): Promise<Answer> {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  try {
    const p = await node.cluster.place({ userId: str(q.user), sessionId: str(q.session), key: str(q.key), region: str(q.region) });
    return { status: 200, body: { url: p.node.url, node: p.node.id, reason: p.reason } };
  } catch {
    return { status: 503, body: { error: 'no_healthy_node' } };
  }
}
