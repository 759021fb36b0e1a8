import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { EARLY_HELLO_MAX_LENGTH, EARLY_HELLO_PREFIX, EARLY_SUBPROTOCOL } from '../protocol/early-hello.js';
import { parseClientFrame, type HelloFrame } from '../protocol/client-frames.js';
import { SUBPROTOCOL } from '../protocol/version.js';
import type { NodeInternals } from './host.js';

/** Hellos taken from upgrade requests, until the connection for the request exists. */
const early = new WeakMap<IncomingMessage, HelloFrame>();

/**
 * `handleProtocols` of the node's WebSocket server: `switchyard.v1.early` when the client
 * offered it with a hello that parses (kept for {@link takeEarlyHello}), else `switchyard.v1`
 * when offered (the client then sends its hello as a frame), else refuse. A carried hello that
 * does not parse is counted (`bad_frames_total{reason="early_hello"}`) and costs the client only
 * the round trip it hoped to save.
 */
export function selectSubprotocol(node: NodeInternals, protocols: Set<string>, req: IncomingMessage): string | false {
  if (protocols.has(EARLY_SUBPROTOCOL)) {
    for (const p of protocols) {
      if (!p.startsWith(EARLY_HELLO_PREFIX)) continue;
      const hello = p.length <= EARLY_HELLO_MAX_LENGTH ? parseCarrier(node, p) : undefined;
      if (hello) {
        early.set(req, hello);
        return EARLY_SUBPROTOCOL;
      }
      node.metrics.badFrames.inc({ reason: 'early_hello' });
      break;
    }
  }
  return protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false;
}

function parseCarrier(node: NodeInternals, value: string): HelloFrame | undefined {
  const text = Buffer.from(value.slice(EARLY_HELLO_PREFIX.length), 'base64url').toString('utf8');
  const parsed = parseClientFrame(text, node.options.limits.maxFrameDepth);
  return parsed.ok && parsed.frame.t === 'hello' ? parsed.frame : undefined;
}

/** The hello the upgrade request carried, once: the connection handles it as its first frame. */
export function takeEarlyHello(req: IncomingMessage): HelloFrame | undefined {
  const hello = early.get(req);
  if (hello) early.delete(req);
  return hello;
}

/**
 * Hold the socket's writes from the `101 Switching Protocols` until the end of this turn, when
 * the upgrade carries an early hello: the node usually has the welcome written by then (a new
 * session needs no store read), so the answer and the welcome leave in one write. A hello that
 * waits on the store (a resume) or on an `authenticate` hook just sends the 101 first.
 */
export function coalesceUpgradeWrites(req: IncomingMessage, socket: Duplex): void {
  const offered = req.headers['sec-websocket-protocol'];
  if (typeof offered !== 'string' || !offered.includes(EARLY_SUBPROTOCOL)) return;
  socket.cork();
  setImmediate(() => socket.uncork());
}
