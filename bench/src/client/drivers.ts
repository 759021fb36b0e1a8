import { createClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { gapped, lost, reconnected, type ClientTrace, type Payload } from './recorder.js';

/** What one client is told: where to connect, from which source address, which rooms to join. */
export interface ClientSpec {
  url: string;
  /** Every node URL, own first: where to go after losing the node. */
  urls: string[];
  /** Node id behind each URL (for clients that cannot learn it from the server). */
  ids: Record<string, string>;
  rooms: string[];
  localAddress: string;
}

export interface DriverOptions {
  failover: boolean;
  handshakeTimeoutMs: number;
}

/** A connected, joined client. */
export interface Handle {
  close(): void;
}

export type OnMessage = (p: Payload, node: string) => void;

/**
 * `ws` bound to one source address, one class per address (not per client: a class made for
 * every client gives every socket its own object shapes, and the `ws` code that handles them all
 * slows down; the raw ws driver does not pay that either).
 */
const bound = new Map<string, WebSocketConstructor>();
function boundWebSocket(local: string): WebSocketConstructor {
  let c = bound.get(local);
  if (!c) {
    class BoundWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { localAddress: local, perMessageDeflate: false });
      }
    }
    bound.set(local, (c = BoundWebSocket as unknown as WebSocketConstructor));
  }
  return c;
}

/** Switchyard's SDK over `ws`, bound to the spec's source address. */
export function connectSwitchyard(spec: ClientSpec, trace: ClientTrace, onMessage: OnMessage, o: DriverOptions): Promise<Handle> {
  const client = createClient({
    urls: spec.urls,
    WebSocket: boundWebSocket(spec.localAddress),
    handshakeTimeoutMs: o.handshakeTimeoutMs,
    reconnect: { baseMs: 100, maxMs: 2000, firstRetryMaxMs: 100 },
    maxRedirects: 2,
    // BENCH_EARLY_HELLO=0: the hello as a frame after the upgrade (to compare with the early hello)
    earlyHello: process.env.BENCH_EARLY_HELLO !== '0',
  });
  let node = '';
  let connected = false;
  client.on('connected', (info) => {
    node = info.node;
    if (connected) reconnected(trace);
    connected = true;
  });
  client.on('disconnected', (e) => lost(trace, `${e.code} ${e.reason}`.trim()));
  client.on('error', () => undefined);
  // messages to everyone / a user / a connection (room messages come through their room below)
  client.on('message', (m) => {
    if (m.room === undefined) onMessage(m.data as Payload, node);
  });
  const welcomed = new Promise<void>((resolve) => void client.once('connected', () => resolve()));
  const joins = spec.rooms.map(
    (name) =>
      new Promise<void>((resolve, reject) => {
        const room = client.room(name);
        room.on('message', (m) => onMessage(m.data as Payload, node));
        room.on('error', () => undefined);
        room.on('gap', (g) => gapped(trace, g));
        room.on('subscribed', () => resolve());
        room.on('unsubscribed', (e) => e.error && reject(new Error(e.error.message)));
      }),
  );
  return withTimeout(Promise.all([welcomed, ...joins]), o.handshakeTimeoutMs, () => client.close()).then(() => ({ close: () => client.close() }));
}

/** Socket.IO 4 client, WebSocket transport only. On loss it dials the next node after Socket.IO's default first delay (1 s +-50%). */
export function connectSocketIo(spec: ClientSpec, trace: ClientTrace, onMessage: OnMessage, o: DriverOptions): Promise<Handle> {
  let socket: Socket | undefined;
  let closed = false;
  let urlIx = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const dial = (url: string, first: boolean): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const node = spec.ids[url] ?? url;
      const s = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, localAddress: spec.localAddress, perMessageDeflate: false, timeout: o.handshakeTimeoutMs } as never);
      socket = s;
      s.on('m', (p: Payload) => onMessage(p, node));
      s.on('connect', () => {
        s.emit('join', spec.rooms, () => {
          if (!first) reconnected(trace);
          resolve();
        });
      });
      s.on('connect_error', (err) => {
        s.close();
        reject(err);
        if (!first) schedule();
      });
      s.on('disconnect', (reason) => {
        lost(trace, String(reason));
        if (o.failover && !closed) schedule();
      });
    });
  const schedule = () => {
    if (closed || timer) return;
    const delay = 1000 * (1 + (Math.random() * 2 - 1) * 0.5);
    timer = setTimeout(() => {
      timer = undefined;
      urlIx = (urlIx + 1) % spec.urls.length;
      dial(spec.urls[urlIx] as string, false).catch(() => undefined);
    }, delay);
  };
  const close = () => {
    closed = true;
    if (timer) clearTimeout(timer);
    socket?.close();
  };
  return withTimeout(dial(spec.url, true), o.handshakeTimeoutMs, close).then(() => ({ close }));
}

/**
 * A bare `ws` client for the ceiling runs. Its rooms go in the URL (`?rooms=a,b`: the batched
 * ceiling reads them, plain raw ws ignores them); a frame holds one message or, from the
 * batched ceiling, a JSON array of them.
 */
export function connectRawWs(spec: ClientSpec, _trace: ClientTrace, onMessage: OnMessage, o: DriverOptions): Promise<Handle> {
  const node = spec.ids[spec.url] ?? spec.url;
  const url = spec.rooms.length ? `${spec.url}/?rooms=${spec.rooms.map(encodeURIComponent).join(',')}` : spec.url;
  const ws = new WebSocket(url, { localAddress: spec.localAddress, perMessageDeflate: false });
  ws.on('message', (d) => {
    const v = JSON.parse(d.toString()) as Payload | Payload[];
    if (Array.isArray(v)) for (const p of v) onMessage(p, node);
    else onMessage(v, node);
  });
  ws.on('error', () => undefined);
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('close', () => reject(new Error('closed before open')));
    }),
    o.handshakeTimeoutMs,
    () => ws.terminate(),
  ).then(() => ({ close: () => ws.terminate() }));
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new Error(`no connection within ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
