import type { IncomingMessage } from 'node:http';
import type { ResumeFrom } from '@switchyard/core/adapter';
import { isRoomName, roomName, type HelloFrame } from '../protocol/client-frames.js';
import { CloseCode, fitReason } from '../protocol/close-codes.js';
import { encodeError, encodeRedirect, encodeWelcome, type RoomState } from '../protocol/server-frames.js';
import { WIRE_VERSION } from '../protocol/version.js';
import { helloDone } from './admission.js';
import type { ServerConnection } from './connection.js';
import { joinRoom, type Joined } from './membership.js';
import type { NodeInternals } from './host.js';

/** Send the client to another node: a `redirect` frame, then close 4300 with the URL as reason. */
export function redirect(node: NodeInternals, conn: ServerConnection, url: string, reason: 'affinity' | 'balancer' | 'rebalance' | 'draining', code: number = CloseCode.Redirect): void {
  node.metrics.redirects.inc({ reason });
  conn.control(encodeRedirect(url, reason));
  conn.close(code, fitReason(url));
}

/**
 * The hello: version check, authentication (unless done at the upgrade), then the session
 * service decides (placement: a redirect when the client belongs elsewhere; the rooms to
 * resume; the session to create or resume); the rooms are joined with replay, then `welcome`
 * followed by the replayed messages.
 */
export async function handleHello(node: NodeInternals, conn: ServerConnection, hello: HelloFrame): Promise<void> {
  if (hello.v !== WIRE_VERSION) {
    conn.control(encodeError('unsupported_version', `protocol version ${hello.v} is not supported; this node speaks ${WIRE_VERSION}`));
    conn.close(CloseCode.UnsupportedVersion, 'unsupported_version');
    return;
  }
  conn.opened(hello.params, hello.caps);
  if (!conn.authenticated && node.options.authenticate) {
    let result;
    try {
      result = await node.options.authenticate({ request: conn.request as IncomingMessage, token: hello.token, ip: conn.ip, params: hello.params });
    } catch (err) {
      node.logger.warn({ err }, 'authenticate hook threw');
      result = null;
    }
    if (!result) {
      node.metrics.authFailures.inc({ stage: 'hello' });
      conn.close(CloseCode.Unauthorized, 'unauthorized');
      return;
    }
    conn.authenticate(result.userId, result.data, false);
  }
  if (conn.state !== 'open') return;

  const opening = node.sessions.open(conn, { session: hello.session, lost: hello.lost, rooms: hello.rooms, place: !hello.noRedirect && !node.draining });
  const to = await opening.place();
  if (to) return redirect(node, conn, to.url, to.reason);
  if (conn.state !== 'open') return;

  const wanted = await opening.roomsToJoin();
  await node.index.addConnection(conn);
  node.metrics.connections.inc();
  node.metrics.accepted.inc();
  // null prototype: a room named like an Object.prototype member is an entry like any other
  const rooms = Object.create(null) as Record<string, RoomState>;
  // rooms are joined side by side; their replays are written in the order of the hello
  const joined = await Promise.all(wanted.map(([room, from]) => joinFromHello(node, conn, room, from)));
  const joins: Joined[] = [];
  wanted.forEach(([room], i) => {
    const r = joined[i] as JoinOutcome;
    if ('error' in r) rooms[room] = r.error;
    else {
      const { room: _omit, ...state } = r.joined.state;
      rooms[room] = state;
      joins.push(r.joined);
    }
  });
  if (conn.state !== 'open') return;

  // one session write, not awaited: the welcome does not wait for the store
  const { sessionId, resumed } = await opening.commit();
  conn.setSession(sessionId);
  if (conn.state !== 'open') return;
  const { options } = node;
  conn.release(encodeWelcome({ session: sessionId, conn: conn.id, node: node.id, user: conn.userId, resumed, heartbeatMs: options.timeouts.heartbeatMs, maxPayload: options.limits.maxPayload, rooms }));
  for (const j of joins) j.replay();
  node.emitConnection(conn);
  helloDone(conn);
  conn.releaseRequest();
}

type JoinOutcome = { joined: Joined } | { error: RoomState };

/** One room of the hello: name check, join hook, then the join (with its replay prepared). */
async function joinFromHello(node: NodeInternals, conn: ServerConnection, room: string, from: ResumeFrom): Promise<JoinOutcome> {
  if (!isRoomName(room)) {
    node.metrics.badFrames.inc({ reason: 'bad_fields' });
    const why = roomName.safeParse(room).error?.issues[0]?.message ?? 'bad room name';
    return { error: { offset: 0, history: false, recovered: false, gap: false, error: { code: 'bad_frame', message: why } } };
  }
  if (!(await allowedToJoin(node, conn, room))) return { error: { offset: 0, history: false, recovered: false, gap: false, error: { code: 'forbidden', message: `join refused for room ${room}` } } };
  return { joined: await joinRoom(node, conn, room, from) };
}

/** The join hook, if any; a throwing hook refuses. */
export async function allowedToJoin(node: NodeInternals, conn: ServerConnection, room: string): Promise<boolean> {
  const hook = node.options.authorizeJoin;
  if (!hook) return true;
  try {
    return (await hook(conn, room)) === true;
  } catch (err) {
    node.logger.warn({ err, room }, 'authorizeJoin hook threw');
    return false;
  }
}
