import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { LISTEN_BACKLOG, type BenchServer, type ServerStartArgs, type WireCounts } from './types.js';

/**
 * The ceiling without batching: a bare `ws` server that encodes each message once and writes it
 * to every socket, one frame per message per socket. It has no rooms: every socket gets every
 * message (the scenarios it runs use one room).
 */
export async function startRawWs(args: ServerStartArgs): Promise<BenchServer> {
  const sockets = new Set<WebSocket>();
  const wire: WireCounts = { frames: 0, messages: 0 };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: LISTEN_BACKLOG, perMessageDeflate: false, clientTracking: false });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
  });
  const id = `ws-${args.index}`;
  const send = (data: unknown) => {
    const text = JSON.stringify(data);
    for (const ws of sockets) ws.send(text);
    wire.frames += sockets.size;
    wire.messages += sockets.size;
  };
  return {
    nodes: [{ id, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, publish: (_room, data) => send(data), broadcast: send, connections: () => sockets.size }],
    wire: () => Promise.resolve({ ...wire }),
    onDead: () => undefined,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
