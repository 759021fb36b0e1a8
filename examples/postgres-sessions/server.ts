/**
 * A node that keeps everything in PostgreSQL: sessions, the node registry, room history and
 * the bus (LISTEN/NOTIFY). Restart every node and the sessions are still there: a client that
 * comes back with its session id resumes it and replays what it missed.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres PORT=4101 NODE_ID=pg-1 \
 *     node --conditions=@switchyard/source --import tsx examples/postgres-sessions/server.ts
 */
import { createCluster } from '@switchyard/core';
import { createPostgresAdapter } from '@switchyard/store-postgres';
import { createNode } from '@switchyard/transport-ws';

const port = Number(process.env.PORT ?? 4101);
const nodeId = process.env.NODE_ID ?? `pg-${port}`;
const url = `ws://127.0.0.1:${port}/ws`;

// One pool for the four ports; the schema and its tables are created on first connect.
const pg = createPostgresAdapter({
  connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  schema: process.env.PG_SCHEMA ?? 'switchyard_example',
});
const cluster = createCluster({
  nodeId,
  url,
  bus: pg.bus,
  registry: pg.registry,
  sessions: pg.sessions,
  history: pg.history,
  affinity: 'user',
  failover: 'graceful',
  sessionTtlMs: 7 * 24 * 3600 * 1000, // sessions outlive any restart for a week
});
const node = createNode({
  cluster,
  port,
  publicUrl: url,
  rooms: { history: true },
  // Demo only: the client names itself. Use jwtAuth({ secret }) in a real application.
  authenticate: ({ params }) => ({ userId: typeof params?.name === 'string' ? params.name : 'anonymous' }),
});
await node.start();
console.log(`${nodeId} listening on ${node.url}`);

const stop = async () => {
  await node.close({ graceMs: 2000 });
  console.log(`${nodeId} stopped`);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
