import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { LISTEN_BACKLOG, type BenchServer, type ServerStartArgs, type WireCounts } from './types.js';

/** The baseline: one Socket.IO 4 server with @socket.io/redis-adapter, WebSocket transport only. */
export async function startSocketIo(args: ServerStartArgs): Promise<BenchServer> {
  const pub = new Redis(args.backend.redisUrl, { lazyConnect: true });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const http = createServer();
  const io = new Server(http, {
    transports: ['websocket'],
    pingInterval: args.heartbeatMs,
    pingTimeout: 20_000,
    adapter: createAdapter(pub, sub, { key: `bench-sio-${args.backend.runId}` }),
    serveClient: false,
  });
  // Every engine.io `message` packet goes out as one WebSocket frame (the websocket transport writes
  // each packet by itself), and every Socket.IO emit to a socket is one such packet: count them.
  const wire: WireCounts = { frames: 0, messages: 0 };
  io.engine.on('connection', (raw: { on(event: 'packetCreate', l: (p: { type: string }) => void): void }) => {
    raw.on('packetCreate', (p) => {
      if (p.type === 'message') {
        wire.frames++;
        wire.messages++;
      }
    });
  });
  io.on('connection', (socket) => {
    socket.on('join', (rooms: string[], ack?: () => void) => {
      void Promise.resolve(socket.join(rooms)).then(() => ack?.());
    });
  });
  await new Promise<void>((resolve) => http.listen({ port: 0, host: '127.0.0.1', backlog: LISTEN_BACKLOG }, resolve));
  const port = (http.address() as AddressInfo).port;
  const id = `sio-${args.index}`;
  return {
    nodes: [
      {
        id,
        url: `ws://127.0.0.1:${port}`,
        publish: (room, data) => {
          io.to(room).emit('m', data);
        },
        broadcast: (data) => {
          io.emit('m', data);
        },
        connections: () => io.engine.clientsCount,
      },
    ],
    wire: () => Promise.resolve({ ...wire }),
    onDead: () => undefined,
    close: async () => {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      pub.disconnect();
      sub.disconnect();
    },
  };
}
