import type { FastifyInstance, FastifyReply, LogLevel, RouteShorthandOptions } from 'fastify';
import type { SwitchyardNode } from '@switchyard/transport-ws';
import * as endpoints from './endpoints.js';

const send = (reply: FastifyReply, a: endpoints.Answer) => reply.code(a.status).header('cache-control', 'no-store').send(a.body);

/** The node's endpoints as Fastify routes under `prefix`: GET (and HEAD) /health, /ready, /metrics, /cluster, /route. */
export function addRoutes(app: FastifyInstance, node: SwitchyardNode, prefix: string, logLevel: LogLevel | undefined): void {
  const opts: RouteShorthandOptions = logLevel ? { logLevel } : {};
  app.get(`${prefix}/health`, opts, async (_req, reply) => send(reply, endpoints.health()));
  app.get(`${prefix}/ready`, opts, async (_req, reply) => send(reply, endpoints.ready(node)));
  app.get(`${prefix}/metrics`, opts, async (_req, reply) => {
    const m = await endpoints.metrics(node);
    return reply.code(200).header('cache-control', 'no-store').type(m.contentType).send(m.text);
  });
  app.get(`${prefix}/cluster`, opts, async (_req, reply) => send(reply, endpoints.cluster(node)));
  app.get<{ Querystring: endpoints.RouteQuery }>(`${prefix}/route`, opts, async (req, reply) => send(reply, await endpoints.route(node, req.query)));
}
