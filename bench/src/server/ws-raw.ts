import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BenchServer, ServerStartArgs } from './types.js';

/** The ceiling: a bare `ws` server that writes one pre-encoded string to every socket. */
export async function startRawWs(args: ServerStartArgs): Promise<BenchServer> {
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: false });
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
  };
  return {
    nodes: [{ id, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, publish: (_room, data) => send(data), broadcast: send, connections: () => sockets.size }],
    onDead: () => undefined,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
