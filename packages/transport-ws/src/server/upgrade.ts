import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { onClientMessage, receiveFrame } from './dispatch.js';
import { coalesceUpgradeWrites, takeEarlyHello } from './early-hello.js';
import { tokenFromRequest, type AuthResult } from './auth.js';
import type { NodeInternals } from './host.js';
import { Admission, trackHello } from './admission.js';
import type { RawData, WebSocket } from 'ws';
import type { ServerConnection } from './connection.js';

/** Answer an upgrade request with a plain HTTP status and close the socket. */
function refuse(socket: Duplex, status: number, body: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** The client's IP: the socket's peer, or the first X-Forwarded-For entry behind a trusted proxy. */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * An upgrade request on the node's server. Other paths are left alone (for other WebSocket
 * servers on the same http.Server) unless the node owns the server (then 404). Checks, in
 * order: accepting (503), origin (403), per-IP limit (429), a token given with the request
 * (401), then hands the socket to ws.
 */
export async function handleUpgrade(node: NodeInternals, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const o = node.options;
  const q = req.url?.indexOf('?') ?? -1;
  const pathname = q >= 0 ? (req.url as string).slice(0, q) : (req.url ?? '/');
  if (pathname !== o.path) {
    if (node.ownServer) refuse(socket, 404, 'not found');
    return;
  }
  socket.on('error', ignore);
  admissionOf(node).admit((done) => void acceptUpgrade(node, req, socket, head, done));
}

const admissions = new WeakMap<NodeInternals, Admission>();
const admissionOf = (node: NodeInternals): Admission => {
  let a = admissions.get(node);
  if (!a) admissions.set(node, (a = new Admission(node.options.limits.maxUpgradesPerTurn, node.options.limits.maxHellosInFlight)));
  return a;
};

/** An upgrade on the node's path, in its turn (see {@link Admission}); `done` once welcomed or gone. */
async function acceptUpgrade(node: NodeInternals, req: IncomingMessage, socket: Duplex, head: Buffer, done: () => void): Promise<void> {
  if (socket.destroyed) return done();
  // the slot is given back at the welcome (helloDone) or when the socket goes, whichever is first
  const gone = (): void => finish();
  const finish = (): void => {
    socket.off('close', gone);
    done();
  };
  socket.once('close', gone);
  const o = node.options;
  const m = node.metrics;
  if (!node.accepting || !node.wss) {
    m.upgradesRefused.inc({ reason: 'draining' });
    return refuse(socket, 503, 'node not accepting connections');
  }
  const origin = req.headers.origin;
  if (o.origins && origin !== undefined && !o.origins.includes(origin)) {
    m.upgradesRefused.inc({ reason: 'origin' });
    return refuse(socket, 403, 'origin not allowed');
  }
  const ip = clientIp(req, o.trustProxy);
  if (!node.ipLimiter.acquire(ip)) {
    m.upgradesRefused.inc({ reason: 'ip_limit' });
    return refuse(socket, 429, 'too many connections from this address');
  }
  const slot = holdIpSlot(socket, node, ip);
  const token = tokenFromRequest(req);
  let auth: AuthResult | undefined;
  if (token !== undefined && o.authenticate) {
    let result: AuthResult | null | false = null;
    try {
      result = await o.authenticate({ request: req, token, ip });
    } catch (err) {
      node.logger.warn({ err }, 'authenticate hook threw');
    }
    if (!result) {
      m.authFailures.inc({ stage: 'upgrade' });
      m.upgradesRefused.inc({ reason: 'auth' });
      return refuse(socket, 401, 'unauthorized');
    }
    auth = result;
  }
  if (socket.destroyed || !node.accepting || !node.wss) return void socket.destroy();
  coalesceUpgradeWrites(req, socket);
  node.wss.handleUpgrade(req, socket, head, (ws) => {
    slot.adopted = true;
    const conn = node.newConnection(ws, req, ip);
    if (auth) conn.authenticate(auth.userId, auth.data, true);
    // the same three listener functions for every socket (no closures per connection)
    (ws as SocketOf).switchyard = { node, conn };
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onError);
    const hello = takeEarlyHello(req);
    if (hello) {
      // the node works on this hello now: the slot is held until the welcome
      trackHello(conn, finish);
      node.metrics.earlyHellos.inc();
      receiveFrame(node, conn, hello);
    } else finish(); // waiting for a hello frame holds no slot (a silent client must not block others)
  });
}

const ignore = (): void => undefined;

/**
 * Give the IP slot back if the socket closes before a connection adopts it (the connection
 * gives it back itself). Its own scope: a closure made in `handleUpgrade` would keep the whole
 * upgrade request alive as long as the socket.
 */
function holdIpSlot(socket: Duplex, node: NodeInternals, ip: string): { adopted: boolean } {
  const slot = { adopted: false };
  socket.once('close', () => {
    if (!slot.adopted) node.ipLimiter.release(ip);
  });
  return slot;
}

/** A socket knows its connection and node. */
type SocketOf = WebSocket & { switchyard?: { node: NodeInternals; conn: ServerConnection } };

function onMessage(this: SocketOf, data: RawData, isBinary: boolean): void {
  const s = this.switchyard;
  if (s) onClientMessage(s.node, s.conn, data, isBinary);
}

function onClose(this: SocketOf, code: number, reason: Buffer): void {
  this.switchyard?.conn.closed(code, reason.toString());
}

function onError(this: SocketOf, err: Error & { code?: string }): void {
  const s = this.switchyard;
  if (!s) return;
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') s.node.metrics.badFrames.inc({ reason: 'too_large' });
  else s.node.logger.debug({ err, conn: s.conn.id }, 'socket error');
}
