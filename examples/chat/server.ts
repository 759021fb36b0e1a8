/**
 * One chat node. Start as many as you like (each its own process) on the same Redis; put any
 * load balancer in front, or none: clients may connect to any node and follow its redirect.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=4001 NODE_ID=chat-1 node --conditions=@switchyard/source --import tsx examples/chat/server.ts
 */
import { createCluster } from '@switchyard/core';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { createNode } from '@switchyard/transport-ws';

const env = (name: string, dflt: string) => process.env[name] ?? dflt;
const port = Number(env('PORT', '4001'));
const host = env('HOST', '127.0.0.1');
const nodeId = env('NODE_ID', `chat-${port}`);
const publicUrl = process.env.PUBLIC_URL ?? `ws://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/ws`;

// Every port on Redis: bus (pub/sub), registry (heartbeats), sessions, room history (Streams).
const redis = createRedisAdapter({ url: env('REDIS_URL', 'redis://127.0.0.1:6379'), keyPrefix: env('KEY_PREFIX', 'chat:') });
const cluster = createCluster({
  nodeId,
  url: publicUrl,
  bus: redis.bus,
  registry: redis.registry,
  sessions: redis.sessions,
  history: redis.history,
  balancer: 'least-connections',
  affinity: 'user',
  failover: 'immediate',
  heartbeatIntervalMs: 1000,
  nodeTimeoutMs: 4000,
});

const node = createNode({
  cluster,
  port,
  host,
  publicUrl,
  rooms: { history: true },
  // Demo only: the client names itself. Use jwtAuth({ secret }) or your own check in a real app.
  authenticate: ({ params }) => ({ userId: typeof params?.name === 'string' && params.name ? params.name.slice(0, 40) : 'anonymous' }),
});

node.on('connection', (conn) => {
  console.log(`${nodeId}: ${conn.userId} connected (${node.connections.size} here)`);
  // Server-side messages: `/who` answers with the users on this node.
  conn.on('message', (_data, event) => {
    if (event === 'who') return { node: nodeId, users: [...node.connections.values()].map((c) => c.userId) };
    return undefined;
  });
});
node.on('disconnect', (conn) => console.log(`${nodeId}: ${conn.userId} left`));

await node.start();
console.log(`${nodeId} listening on ${node.url} (health: http://${host}:${port}/ready)`);

let stopping = false;
const stop = async (sig: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${nodeId}: ${sig}, draining`);
  await node.close({ graceMs: 5000 }); // clients are told to move, the node deregisters, Redis closes
  console.log(`${nodeId}: stopped`);
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
