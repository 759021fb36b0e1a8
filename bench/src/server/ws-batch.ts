import type { IncomingMessage } from 'node:http';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { LISTEN_BACKLOG, type BenchServer, type ServerStartArgs, type WireCounts } from './types.js';

/** A room's batch is written when it is this old (ms) or holds this many messages, whichever comes first. */
export const BATCH_MS = 5;
export const BATCH_MAX = 64;

/** Rooms a client asks for in its URL: `ws://host:port/?rooms=a,b`. */
function roomsOf(req: IncomingMessage): string[] {
  const q = new URL(req.url ?? '/', 'ws://x').searchParams.get('rooms');
  return q ? q.split(',').filter(Boolean) : [];
}

interface Batch {
  items: unknown[];
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The batched ceiling: a bare `ws` server with per-room batching. Messages to a room are gathered
 * and written as one JSON array per 5 ms or per 64 messages (whichever comes first), serialised
 * once into one Buffer, and that same Buffer is written to every socket of the room. Membership
 * comes from the connection URL (no join round trip). With several nodes (one process each),
 * the nodes are joined by the barest bus there is: a full mesh of loopback TCP links, each
 * message written to every peer as one JSON line (`mesh()`), so the ceiling has the same shape
 * as the cluster it is compared with.
 */
export async function startBatchedWs(args: ServerStartArgs): Promise<BenchServer> {
  const all = new Set<WebSocket>();
  const rooms = new Map<string, Set<WebSocket>>();
  const batches = new Map<string, Batch>();
  const wire: WireCounts = { frames: 0, messages: 0 };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: LISTEN_BACKLOG, perMessageDeflate: false, clientTracking: false });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws, req) => {
    const mine = roomsOf(req);
    all.add(ws);
    for (const r of mine) {
      let set = rooms.get(r);
      if (!set) rooms.set(r, (set = new Set()));
      set.add(ws);
    }
    const leave = () => {
      all.delete(ws);
      for (const r of mine) {
        const set = rooms.get(r);
        set?.delete(ws);
        if (set?.size === 0) rooms.delete(r);
      }
    };
    ws.on('close', leave);
    ws.on('error', leave);
  });

  /** Write a room's batch: one serialisation, one Buffer, the same bytes to every member. */
  const flush = (room: string, b: Batch) => {
    if (b.timer) clearTimeout(b.timer);
    b.timer = undefined;
    const n = b.items.length;
    if (!n) return;
    const buf = Buffer.from(JSON.stringify(b.items));
    b.items = [];
    const members = room === '*' ? all : rooms.get(room);
    if (!members) return;
    for (const ws of members) ws.send(buf, { binary: false });
    wire.frames += members.size;
    wire.messages += members.size * n;
  };
  const enqueue = (room: string, data: unknown) => {
    let b = batches.get(room);
    if (!b) batches.set(room, (b = { items: [], timer: undefined }));
    b.items.push(data);
    if (b.items.length >= BATCH_MAX) flush(room, b);
    else if (!b.timer) {
      const batch = b;
      b.timer = setTimeout(() => flush(room, batch), BATCH_MS);
    }
  };

  // the mesh: every message published here is also written to each peer as `[room, data]\n`
  const peers: Socket[] = [];
  const inbound = new Set<Socket>();
  const meshServer = createServer((sock) => {
    inbound.add(sock);
    sock.setNoDelay(true);
    let rest = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const [room, data] = JSON.parse(line) as [string, unknown];
        enqueue(room, data);
      }
    });
    sock.on('close', () => inbound.delete(sock));
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => meshServer.listen(0, '127.0.0.1', resolve));
  const publish = (room: string, data: unknown) => {
    if (peers.length) {
      const line = `${JSON.stringify([room, data])}\n`;
      for (const p of peers) p.write(line);
    }
    enqueue(room, data);
  };

  const id = `ws-batch-${args.index}`;
  return {
    nodes: [{ id, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, publish, broadcast: (data) => publish('*', data), connections: () => all.size }],
    wire: () => Promise.resolve({ ...wire }),
    onDead: () => undefined,
    meshPort: (meshServer.address() as AddressInfo).port,
    mesh: async (ports: number[]) => {
      await Promise.all(
        ports.map(
          (port) =>
            new Promise<void>((resolve, reject) => {
              const sock = createConnection({ host: '127.0.0.1', port }, () => {
                sock.setNoDelay(true);
                peers.push(sock);
                resolve();
              });
              sock.once('error', reject);
            }),
        ),
      );
    },
    close: async () => {
      for (const b of batches.values()) if (b.timer) clearTimeout(b.timer);
      for (const ws of all) ws.terminate();
      for (const p of [...peers, ...inbound]) p.destroy();
      await new Promise<void>((resolve) => meshServer.close(() => resolve()));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
