/**
 * A NestJS chat application on a Switchyard cluster. Start as many as you like, each its own
 * process, on the same Redis: a message sent on one reaches the lobby on every one.
 *
 *   PORT=3001 node --conditions=@switchyard/source --import tsx examples/nestjs/main.ts
 */
import { NestFactory } from '@nestjs/core';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { createCluster } from '@switchyard/core';
import { SwitchyardAdapter } from '@switchyard/nestjs';
import { ChatModule } from './chat.gateway.js';

const app = await NestFactory.create(ChatModule);
const cluster = createCluster({ adapter: createRedisAdapter({ url: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX }) });
const adapter = new SwitchyardAdapter(app, {
  cluster,
  authenticate: ({ token }) => (token ? { userId: token } : {}), // a demo: the token is the user name (use jwtAuth for real)
});
app.useWebSocketAdapter(adapter);
app.use(adapter.httpHandler); // /health, /ready, /metrics, /cluster, /route next to Nest's routes
app.enableShutdownHooks(); // SIGTERM: app.close() tells the clients to move to another node, then leaves
await app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1');
const node = await adapter.ready();
console.log(`${node.id} listening on ${node.url}`);
