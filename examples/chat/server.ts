/**
 * One chat node. Start as many as you like, each its own process, on the same Redis; clients
 * may connect to any of them (or to a load balancer in front): the node they reach places them
 * (least connections) and redirects them if they belong elsewhere.
 *
 *   PORT=4001 node --conditions=@switchyard/source --import tsx examples/chat/server.ts
 */
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { createNode } from '@switchyard/transport-ws';

// Every port on Redis (bus, registry, sessions, room history); a node id and the URL it listens on by default.
const adapter = createRedisAdapter({ url: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX });
const node = createNode({ adapter, port: Number(process.env.PORT ?? 4001), rooms: { history: true } });
node.closeOnSignals({ exit: true }); // Ctrl-C or SIGTERM: clients are told to move, the node leaves, the process exits
await node.start();
console.log(`${node.id} listening on ${node.url}`);
