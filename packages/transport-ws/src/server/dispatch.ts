import type { RawData } from 'ws';
import { toRoom } from '@switchyard/core';
import { toWireError } from '../errors.js';
import { isMessageRefused, refusalText } from '../refused.js';
import { parseClientFrame, type ClientFrame, type ClientMsgFrame, type PubFrame } from '../protocol/client-frames.js';
import { CloseCode } from '../protocol/close-codes.js';
import { encodeAck, encodeError, encodeNack, PONG, type ErrorCode } from '../protocol/server-frames.js';
import type { ServerConnection } from './connection.js';
import { allowedToJoin, handleHello } from './handshake.js';
import { joinRoom, leaveRoom } from './membership.js';
import type { NodeInternals } from './host.js';

const chains = new WeakMap<ServerConnection, Promise<void>>();

/** Count a bad frame, answer it, and close with 4000 past `limits.maxBadFrames`. */
function badFrame(node: NodeInternals, conn: ServerConnection, reason: string, code: ErrorCode, message: string, id?: number): void {
  node.metrics.badFrames.inc({ reason });
  conn.control(encodeError(code, message, id));
  if (conn.countBadFrame() > node.options.limits.maxBadFrames) conn.close(CloseCode.BadFrame, 'bad_frame');
}

/** Reply to a request: an ack when it had an id, else an error frame for failures only. */
function reply(conn: ServerConnection, id: number | undefined, ok: boolean, resultOrCode?: unknown, message = ''): void {
  if (id !== undefined) conn.control(ok ? encodeAck(id, resultOrCode) : encodeNack(id, resultOrCode as ErrorCode, message));
  else if (!ok) conn.control(encodeError(resultOrCode as ErrorCode, message));
}

/** Handle one WebSocket message from a client. Never throws. */
export function onClientMessage(node: NodeInternals, conn: ServerConnection, raw: RawData, isBinary: boolean): void {
  if (conn.state === 'closing' || conn.state === 'closed') return;
  conn.heard();
  node.metrics.received.inc();
  if (conn.bucket && !conn.bucket.take()) {
    node.metrics.rateLimited.inc();
    const limits = node.options.limits.rateLimit;
    if (limits && conn.bucket.strikes > limits.maxStrikes) {
      conn.close(CloseCode.RateLimited, 'rate_limited');
      return;
    }
    conn.control(encodeError('rate_limited', 'too many frames; slow down'));
    return;
  }
  if (isBinary) return badFrame(node, conn, 'binary', 'bad_frame', 'binary frames are not part of the protocol');
  const text = Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.from(raw).toString('utf8');
  const parsed = parseClientFrame(text, node.options.limits.maxFrameDepth);
  if (!parsed.ok) return badFrame(node, conn, parsed.reason, parsed.code, parsed.message, parsed.id);
  receiveFrame(node, conn, parsed.frame);
}

/**
 * A parsed client frame: pings answered at once, the rest handled one after another in the
 * order they came (a hello first). The early hello (carried in the upgrade) comes in here too.
 */
export function receiveFrame(node: NodeInternals, conn: ServerConnection, frame: ClientFrame): void {
  if (frame.t === 'ping') return conn.control(PONG);
  if (frame.t === 'pong') return;
  // The hello is the first frame queued, so a connection has a chain exactly when its hello came.
  if (frame.t === 'hello') {
    if (chains.has(conn)) return badFrame(node, conn, 'bad_fields', 'bad_frame', 'hello was already received');
  } else if (!chains.has(conn)) {
    return badFrame(node, conn, 'bad_fields', 'bad_frame', 'hello expected first', 'id' in frame ? frame.id : undefined);
  }
  const previous = chains.get(conn) ?? Promise.resolve();
  const next = previous.then(() => handle(node, conn, frame)).catch((err: unknown) => {
    node.logger.warn({ err, frame: frame.t }, 'frame handling failed');
    if (conn.state === 'open') reply(conn, 'id' in frame ? frame.id : undefined, false, 'internal', 'internal error');
  });
  chains.set(conn, next);
  // once idle, the connection keeps a shared settled promise, not its last one
  void next.then(() => {
    if (chains.get(conn) === next) chains.set(conn, IDLE);
  });
}

const IDLE: Promise<void> = Promise.resolve();

async function handle(node: NodeInternals, conn: ServerConnection, frame: ClientFrame): Promise<void> {
  if (conn.state === 'closing' || conn.state === 'closed') return;
  switch (frame.t) {
    case 'hello':
      return handleHello(node, conn, frame);
    case 'join': {
      if (!(await allowedToJoin(node, conn, frame.room))) return reply(conn, frame.id, false, 'forbidden', `join refused for room ${frame.room}`);
      const joined = await joinRoom(node, conn, frame.room, { offset: frame.offset, epoch: frame.epoch });
      reply(conn, frame.id, true, joined.state);
      joined.replay();
      return;
    }
    case 'leave':
      await leaveRoom(node, conn, frame.room);
      return reply(conn, frame.id, true, { room: frame.room });
    case 'pub':
      return publish(node, conn, frame);
    case 'msg':
      // not awaited: a handler that acks later must not hold back the connection's other frames
      void message(conn, frame);
      return;
    default:
      return;
  }
}

async function publish(node: NodeInternals, conn: ServerConnection, frame: PubFrame): Promise<void> {
  const hook = node.options.authorizePublish;
  if (hook) {
    let ok = false;
    try {
      ok = (await hook(conn, frame.room)) === true;
    } catch {
      ok = false;
    }
    if (!ok) return reply(conn, frame.id, false, 'forbidden', `publish refused for room ${frame.room}`);
  } else if (!conn.cursors.has(frame.room)) {
    return reply(conn, frame.id, false, 'not_in_room', `join room ${frame.room} before publishing to it`);
  }
  try {
    const history = node.historyFor(frame.room);
    const r = await node.cluster.publish(toRoom(frame.room), { ...(frame.event !== undefined ? { event: frame.event } : {}), data: frame.data ?? null, from: conn.id }, history ? { history: true } : {});
    reply(conn, frame.id, true, r.offset !== undefined ? { offset: r.offset, epoch: r.epoch } : undefined);
  } catch (err) {
    const e = toWireError(err);
    if (e.code === 'too_large') node.metrics.badFrames.inc({ reason: 'too_large' });
    reply(conn, frame.id, false, e.code, e.message);
  }
}

async function message(conn: ServerConnection, frame: ClientMsgFrame): Promise<void> {
  try {
    const { result } = await conn.dispatchMessage(frame.data ?? null, frame.event, frame.id !== undefined);
    if (frame.id !== undefined) reply(conn, frame.id, true, result);
  } catch (err) {
    // a refusal's own words go to the client; any other error's words never do
    if (isMessageRefused(err)) reply(conn, frame.id, false, 'refused', refusalText(err));
    else reply(conn, frame.id, false, 'internal', 'the message handler failed');
  }
}
