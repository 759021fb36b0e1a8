import type { IncomingMessage } from 'node:http';
import { randomId } from '@switchyard/core/adapter';
import type { SessionRecord } from '@switchyard/core';
import { roomName, type HelloFrame } from '../protocol/client-frames.js';
import { CloseCode, fitReason } from '../protocol/close-codes.js';
import { encodeError, encodeRedirect, encodeWelcome, type RoomState } from '../protocol/server-frames.js';
import { WIRE_VERSION } from '../protocol/version.js';
import type { Connection } from './connection.js';
import { joinRoom, type Joined } from './membership.js';
import type { SwitchyardNode } from './node.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Send the client to another node: a `redirect` frame, then close 4300 with the URL as reason. */
export function redirect(node: SwitchyardNode, conn: Connection, url: string, reason: 'affinity' | 'balancer' | 'rebalance' | 'draining', code: number = CloseCode.Redirect): void {
  node.metrics.redirects.inc({ reason });
  conn.control(encodeRedirect(url, reason));
  conn.close(code, fitReason(url));
}

/**
 * The hello: version check, authentication (unless done at the upgrade), placement (redirect
 * when the client belongs elsewhere), session create/resume, room re-joins with replay, then
 * `welcome` followed by the replayed messages.
 */
export async function handleHello(node: SwitchyardNode, conn: Connection, hello: HelloFrame): Promise<void> {
  const { cluster, options } = node;
  if (hello.v !== WIRE_VERSION) {
    conn.control(encodeError('unsupported_version', `protocol version ${hello.v} is not supported; this node speaks ${WIRE_VERSION}`));
    conn.close(CloseCode.UnsupportedVersion, 'unsupported_version');
    return;
  }
  conn.state = 'open';
  if (hello.params) conn.params = hello.params;
  if (!conn.authenticated && options.authenticate) {
    let result;
    try {
      result = await options.authenticate({ request: conn.request as IncomingMessage, token: hello.token, ip: conn.ip, params: hello.params });
    } catch (err) {
      node.logger.warn({ err }, 'authenticate hook threw');
      result = null;
    }
    if (!result) {
      node.metrics.authFailures.inc({ stage: 'hello' });
      conn.close(CloseCode.Unauthorized, 'unauthorized');
      return;
    }
    conn.userId = result.userId;
    conn.data = { ...conn.data, ...(result.data ?? {}) };
  }
  if (conn.state !== 'open') return;

  // The stored session is read at once; a client whose node just died does not wait for it
  // (it needs no session to be placed), so its room joins overlap the read.
  const storedP: Promise<SessionRecord | null> = hello.session
    ? cluster.sessions.get(hello.session).then(
        (s) => (s && (s.userId ?? undefined) === conn.userId ? s : null), // only a session of this user counts
        () => null,
      )
    : Promise.resolve(null);
  const lost = hello.lost && hello.lost !== node.id ? hello.lost : undefined;
  let ours: SessionRecord | null | undefined = lost ? undefined : await storedP;

  if (!hello.noRedirect && !node.draining) {
    try {
      // core's place() sends a returning session to its node (reason `session`), then applies affinity, then the balancer.
      // A node the client just lost may still look healthy here until the failure detector
      // notices: never place on it, and ask it whether it is alive (one probe per node at a
      // time); a silent node is skipped for everyone until it heartbeats again.
      if (lost) void cluster.probe(lost).catch(() => undefined);
      const p = await cluster.place({
        userId: conn.userId,
        sessionId: ours?.id,
        session: ours ?? null,
        ip: conn.ip,
        region: str(conn.params.region),
        key: str(conn.params.key),
        exclude: lost ? [lost] : undefined,
      });
      // A client displaced by a crash has already landed on a healthy node: a redirect would cost
      // it a second handshake while every other client of the dead node queues for the same
      // survivors, and the SDK already spread the displaced clients at random. An affinity key
      // (pinned, or just pinned by the balancer) still moves it on, so the key's other
      // connections meet it there.
      const displaced = lost !== undefined && (p.reason === 'session' || (p.reason === 'balancer' && p.key === null));
      if (!p.local && p.node.url && !displaced) return redirect(node, conn, p.node.url, p.reason === 'balancer' ? 'balancer' : 'affinity');
    } catch (err) {
      node.logger.debug({ err }, 'placement failed; accepting locally');
    }
  }
  if (conn.state !== 'open') return;

  if (!hello.rooms) ours ??= await storedP; // the rooms to resume are the stored ones
  const wanted: Array<[string, { offset?: number | undefined; epoch?: string | undefined }]> = hello.rooms
    ? Object.entries(hello.rooms)
    : Object.entries(ours?.rooms ?? {}).map(([r, c]) => [r, { offset: c.epoch ? c.offset : undefined, epoch: c.epoch ?? undefined }]);

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

  ours ??= await storedP;
  const now = Date.now();
  const sessionId = ours?.id ?? randomId(12);
  conn.sessionId = sessionId;
  // One write, not awaited: the welcome does not wait for the store (a later write for this
  // session is chained after it). The rooms and offsets go with it.
  const cursors: SessionRecord['rooms'] = {};
  for (const [room, c] of conn.cursorEntries()) if (c.history && c.offset >= 0) cursors[room] = { offset: c.offset, epoch: c.epoch };
  const record: SessionRecord = { id: sessionId, nodeId: node.id, userId: conn.userId, rooms: cursors, createdAt: ours?.createdAt ?? now, updatedAt: now, ...(ours?.data ? { data: ours.data } : {}) };
  conn.sessionWrite = cluster.sessions.put(record, node.sessionTtlMs).catch((err: unknown) => node.logger.warn({ err }, 'session store put failed'));
  if (conn.state !== 'open') return;
  conn.release(
    encodeWelcome({ session: sessionId, conn: conn.id, node: node.id, user: conn.userId, resumed: ours !== null, heartbeatMs: options.heartbeatMs, maxPayload: options.maxPayload, rooms }),
  );
  for (const j of joins) j.replay();
  node.emitConnection(conn);
  conn.releaseRequest();
}

type JoinOutcome = { joined: Joined } | { error: RoomState };

/** One room of the hello: name check, join hook, then the join (with its replay prepared). */
async function joinFromHello(node: SwitchyardNode, conn: Connection, room: string, from: { offset?: number | undefined; epoch?: string | undefined }): Promise<JoinOutcome> {
  const name = roomName.safeParse(room);
  if (!name.success) {
    node.metrics.badFrames.inc({ reason: 'bad_fields' });
    return { error: { offset: 0, history: false, recovered: false, gap: false, error: { code: 'bad_frame', message: name.error.issues[0]?.message ?? 'bad room name' } } };
  }
  if (!(await allowedToJoin(node, conn, room))) return { error: { offset: 0, history: false, recovered: false, gap: false, error: { code: 'forbidden', message: `join refused for room ${room}` } } };
  return { joined: await joinRoom(node, conn, room, from) };
}

/** The join hook, if any; a throwing hook refuses. */
export async function allowedToJoin(node: SwitchyardNode, conn: Connection, room: string): Promise<boolean> {
  const hook = node.options.authorizeJoin;
  if (!hook) return true;
  try {
    return (await hook(conn, room)) === true;
  } catch (err) {
    node.logger.warn({ err, room }, 'authorizeJoin hook threw');
    return false;
  }
}

/** On close: store the last offsets of the history rooms, so a resume replays from there. */
export async function closeSession(node: SwitchyardNode, conn: Connection): Promise<void> {
  if (!conn.sessionId) return;
  await conn.sessionWrite;
  const writes: Promise<void>[] = [];
  for (const [room, c] of conn.cursorEntries()) if (c.history && c.offset >= 0) writes.push(node.cluster.sessions.setRoom(conn.sessionId, room, { offset: c.offset, epoch: c.epoch }));
  await Promise.all(writes).catch((err: unknown) => node.logger.debug({ err }, 'session offsets not stored'));
}
