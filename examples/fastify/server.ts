/**
 * A Fastify app that is also a Switchyard node: WebSockets on /ws, the node's /health, /ready,
 * /metrics as Fastify routes, and an HTTP route that sends to a room on every node. Start as many
 * as you like on the same Redis; without REDIS_URL it runs alone, in memory.
 *
 *   PORT=4101 REDIS_URL=redis://127.0.0.1:6379 node --conditions=@switchyard/source --import tsx examples/fastify/server.ts
 */
import Fastify from 'fastify';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { switchyard } from '@switchyard/fastify';

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });
// Every port on Redis when REDIS_URL is set (a node id and the URL it listens on by default), else in memory.
const adapter = process.env.REDIS_URL ? createRedisAdapter({ url: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX }) : undefined;
await app.register(switchyard, { adapter, path: '/ws', rooms: { history: true }, logger: app.log, graceMs: 10_000 });

app.switchyard.on('connection', (conn) => {
  conn.on('message', (_data, event) => (event === 'whoami' ? { node: app.switchyard.id } : undefined)); // the ack
});

// POST /rooms/lobby/messages {"text":"hi"}: every member of the room, on every node, gets it
app.post<{ Params: { room: string }; Body: { text: string } }>(
  '/rooms/:room/messages',
  { schema: { body: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 2000 } } } } },
  async (req) => app.switchyard.to(req.params.room).send('chat', { text: req.body.text }),
);

// Ctrl-C or SIGTERM: app.close() drains the node (clients are told to move), then the server closes
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close().then(() => process.exit(0), () => process.exit(1)));

await app.listen({ port: Number(process.env.PORT ?? 4101), host: '127.0.0.1' });
await app.switchyardStarted; // the node starts once the app listens (its URL is the listening address)
console.log(`${app.switchyard.id} listening on ${app.switchyard.url}`);
