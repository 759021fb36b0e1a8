/**
 * The node program of the deployment kit (the compose file runs three of these): Redis for
 * the bus, registry and room history; PostgreSQL for sessions that outlive every node.
 *
 * Environment: PORT (8080), HOST (0.0.0.0), NODE_ID (host name), PUBLIC_URL (how clients reach
 * THIS node, e.g. through the load balancer's per-node route), REDIS_URL, DATABASE_URL,
 * KEY_PREFIX (sy:), PG_SCHEMA (switchyard).
 */
import { hostname } from 'node:os';
import { createCluster } from '@switchyard/core';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { createPostgresAdapter } from '@switchyard/store-postgres';
import { createNode } from '@switchyard/transport-ws';

const env = (name: string, dflt: string) => process.env[name] || dflt;
const port = Number(env('PORT', '8080'));
const host = env('HOST', '0.0.0.0');
const nodeId = env('NODE_ID', hostname());
const publicUrl = env('PUBLIC_URL', `ws://127.0.0.1:${port}/ws`);

const redis = createRedisAdapter({ url: env('REDIS_URL', 'redis://127.0.0.1:6379'), keyPrefix: env('KEY_PREFIX', 'sy:') });
const pg = createPostgresAdapter({ connectionString: env('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/postgres'), schema: env('PG_SCHEMA', 'switchyard') });

const cluster = createCluster({
  nodeId,
  url: publicUrl,
  bus: redis.bus,
  registry: redis.registry,
  history: redis.history,
  sessions: pg.sessions,
  balancer: 'least-connections',
  affinity: 'user',
  failover: 'graceful',
  defaultMetrics: true,
});
const node = createNode({
  cluster,
  port,
  host,
  publicUrl,
  trustProxy: true, // client IPs from X-Forwarded-For (the load balancer sets it)
  rooms: { history: true },
  drain: { graceMs: 20_000 },
  authenticate: ({ params }) => ({ userId: typeof params?.name === 'string' ? params.name : undefined }),
});
await node.start();
console.log(`${nodeId} listening on ${host}:${port}, public ${publicUrl}`);

// SIGTERM (docker stop, Kubernetes): /ready turns 503 at once, clients move, then exit.
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    if (stopping) return;
    stopping = true;
    void node.close().then(
      async () => {
        await pg.sessions.close(); // idempotent; the cluster closed it already
        console.log(`${nodeId} stopped`);
      },
      (err: unknown) => {
        console.error(err);
        process.exitCode = 1;
      },
    );
  });
}
