/**
 * An Express 5 app and a Switchyard node on one http.Server: the node takes the WebSocket
 * upgrades on /ws (other upgrades are left alone), `node.httpHandler` serves /health, /ready,
 * /metrics, /cluster and /route, and an Express route sends to a room on every node. Start as
 * many as you like on the same Redis; without REDIS_URL it runs alone, in memory.
 *
 *   PORT=4201 REDIS_URL=redis://127.0.0.1:6379 node --conditions=@switchyard/source --import tsx examples/express/server.ts
 */
import http from 'node:http';
import express from 'express';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { createNode } from '@switchyard/transport-ws';

const app = express();
const server = http.createServer(app);
// Every port on Redis when REDIS_URL is set (a node id and the URL it listens on by default), else in memory.
const adapter = process.env.REDIS_URL ? createRedisAdapter({ url: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX }) : undefined;
const node = createNode({ adapter, server, path: '/ws', rooms: { history: true } });

app.use(node.httpHandler); // GET /health, /ready, /metrics, /cluster, /route; anything else goes on to next()
app.use(express.json());
// POST /rooms/lobby/messages {"text":"hi"}: every member of the room, on every node, gets it
app.post('/rooms/:room/messages', async (req, res) => {
  const text: unknown = req.body?.text;
  if (typeof text !== 'string' || text.length > 2000) return void res.status(400).json({ error: 'text must be a string of at most 2000 characters' });
  res.json(await node.to(req.params.room).send('chat', { text }));
});

node.on('connection', (conn) => {
  conn.on('message', (_data, event) => (event === 'whoami' ? { node: node.id } : undefined)); // the ack
});

// Ctrl-C or SIGTERM: clients are told to move, the node leaves the cluster, the server closes, the process exits
node.closeOnSignals({ graceMs: 10_000, exit: true, onClose: () => new Promise<void>((resolve) => server.close(() => resolve())) });

await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 4201), '127.0.0.1', resolve));
await node.start(); // after listen: the URL it publishes is the listening address
console.log(`${node.id} listening on ${node.url}`);
