import type { FastifyInstance, FastifyReply, LogLevel, RouteShorthandOptions } from 'fastify';
import { endpoints, type EndpointAnswer, type RouteQuery, type SwitchyardNode } from '@switchyard/transport-ws';

const send = (reply: FastifyReply, a: EndpointAnswer) => reply.code(a.status).header('cache-control', 'no-store').send(a.body);

/** The node's endpoints as Fastify routes under `prefix`: GET (and HEAD) /health, /ready, /metrics, /cluster, /route. */
export function addRoutes(app: FastifyInstance, node: SwitchyardNode, prefix: string, logLevel: LogLevel | undefined): void {
  const opts: RouteShorthandOptions = logLevel ? { logLevel } : {};
  const answers = endpoints(node);
  app.get(`${prefix}/health`, opts, async (_req, reply) => send(reply, answers.health()));
  app.get(`${prefix}/ready`, opts, async (_req, reply) => send(reply, answers.ready()));
  app.get(`${prefix}/metrics`, opts, async (_req, reply) => {
    const m = await answers.metrics();
    return reply.code(200).header('cache-control', 'no-store').type(m.contentType).send(m.text);
  });
  app.get(`${prefix}/cluster`, opts, async (_req, reply) => send(reply, answers.cluster()));
  app.get<{ Querystring: RouteQuery }>(`${prefix}/route`, opts, async (req, reply) => send(reply, await answers.route(req.query)));
}
