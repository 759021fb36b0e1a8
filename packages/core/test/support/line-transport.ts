/**
 * A TEST TRANSPORT, not a product: newline-delimited JSON over plain TCP, built only on what
 * `@switchyard/core` and `@switchyard/core/adapter` export. It exists to show that core's
 * SessionService (open and resume, placement and redirect, session cursors, drain targets) and
 * RoomJoins (membership, the hold on live messages, the replay and its order) are enough for a
 * transport other than transport-ws: this file binds sockets and lines, core decides everything else.
 *
 * Client lines: `{"t":"hello","session"?,"rooms"?:{room:{offset?,epoch?}},"lost"?}` (first),
 * `{"t":"join","room","offset"?,"epoch"?}`.
 * Server lines: `{"t":"redirect","url"}` (then the socket ends), `{"t":"welcome","session",
 * "resumed","node","rooms":{room:{offset,epoch}}}`, `{"t":"joined","room","offset","epoch"}`,
 * `{"t":"msg","room","o","data"}`, `{"t":"gap","room","from","to"?,"reason"}`.
 *
 * Every room keeps history. Left out on purpose: authentication, leaving a room, back-pressure,
 * heartbeats, `except` lists, rooms without history, users and `all` addresses.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ClusterNodeApi, DeliverEnvelope, RoomGap } from '../../src/index.js';
import { noopLogger } from '../../src/index.js';
import { decodeHistoryRecord, inBatches, RoomJoins, SessionService, type JoinCursor, type JoinPeer, type PeerCursor, type ResumeFrom, type RoomJoined } from '../../src/adapter.js';

type Line = Record<string, unknown>;
/** A message line, as a replay writes it. */
type MsgLine = { t: 'msg'; room: string; o: number; data: unknown };

/** One TCP client, as the session service and the room joins see it (`JoinPeer`). */
class LinePeer implements JoinPeer {
  readonly userId = undefined; // no authentication here: every client is anonymous
  readonly params: Record<string, unknown> = {};
  readonly cursors = new Map<string, JoinCursor>();
  /** Rooms whose join (and replay) is not written yet: their live messages wait here. */
  readonly held = new Map<string, DeliverEnvelope[]>();
  welcomed = false;
  open = true;
  /** Lines are handled one after another. */
  queue: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly ip: string,
    readonly socket: Socket,
  ) {}

  cursorEntries(): Iterable<[string, PeerCursor]> {
    return this.cursors.entries();
  }

  send(line: Line): void {
    if (this.open) this.socket.write(`${JSON.stringify(line)}\n`);
  }

  hold(room: string): void {
    this.held.set(room, []);
  }

  holding(room: string): boolean {
    return this.held.has(room);
  }

  releaseHeld(room: string): void {
    for (const env of this.held.get(room) ?? []) this.deliver(env, room);
    this.held.delete(room);
  }

  dropHeld(room: string): void {
    this.held.delete(room);
  }

  /** A live (or held) room message: written once, in offset order, never at or below what the client has. */
  deliver(env: DeliverEnvelope, room: string): void {
    const c = this.cursors.get(room);
    if (!c || env.offset === undefined || (c.epoch === env.epoch && env.offset <= c.offset)) return;
    Object.assign(c, { offset: env.offset, sent: env.offset, epoch: env.epoch ?? c.epoch });
    this.send({ t: 'msg', room, o: env.offset, data: env.data });
  }
}

export class LineTransport {
  readonly service: SessionService;
  private readonly joins: RoomJoins<LinePeer, MsgLine>;
  private readonly server: Server = createServer((socket) => this.accept(socket));
  private readonly peers = new Set<LinePeer>();
  private readonly members = new Map<string, Set<LinePeer>>();
  private readonly closing = new Set<Promise<void>>();
  private readonly unsubscribe: Array<() => void>;
  private draining = false;
  private seq = 0;

  constructor(
    private readonly cluster: ClusterNodeApi,
    private readonly maxReplay = 1000,
  ) {
    this.service = new SessionService(cluster, { ttlMs: () => cluster.config.sessionTtlMs, logger: noopLogger });
    this.joins = new RoomJoins<LinePeer, MsgLine>(
      {
        // the node follows the room: its messages now reach this peer (held until the replay is written)
        enter: (peer, room) => {
          let members = this.members.get(room);
          if (!members) this.members.set(room, (members = new Set()));
          members.add(peer);
          return this.cluster.followRoom(room);
        },
        frame: (room, _epoch, e) => {
          const rec = decodeHistoryRecord(e.payload);
          return rec ? { t: 'msg', room, o: e.offset, data: rec.data } : undefined;
        },
        writeReplay: (peer, room, plan) => {
          const cursor = peer.cursors.get(room) as JoinCursor;
          for (const item of plan.items) {
            if ('gap' in item) peer.send({ t: 'gap', room, ...item.gap });
            else {
              Object.assign(cursor, { offset: item.frame.o, sent: item.frame.o });
              peer.send(item.frame);
            }
          }
          if (plan.endGap) peer.send({ t: 'gap', room, ...plan.endGap });
        },
      },
      { history: cluster.history, historyFor: () => true, maxReplay: () => maxReplay, roomJoined: (peer, room, cursor) => this.service.roomJoined(peer, room, cursor), logger: noopLogger },
    );
    // the cluster node delivers each room with history in offset order; write it to the room's members
    this.unsubscribe = [
      cluster.on('deliver', (env) => {
        if (env.to.kind !== 'room') return;
        const room = env.to.room;
        for (const p of this.members.get(room) ?? []) {
          const held = p.held.get(room);
          if (held) held.push(env);
          else p.deliver(env, room);
        }
      }),
      cluster.on('room:gap', (gap: RoomGap) => {
        for (const p of this.members.get(gap.room) ?? []) p.send({ t: 'gap', ...gap });
      }),
    ];
  }

  /** Listen on 127.0.0.1 (a free port) and give the cluster node this URL (call before it starts). */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    const url = `tcp://127.0.0.1:${port}`;
    this.cluster.setUrl(url);
    return url;
  }

  private accept(socket: Socket): void {
    const peer = new LinePeer(`${this.cluster.id}~${++this.seq}`, socket.remoteAddress ?? '', socket);
    this.peers.add(peer);
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const lines = (buffered + chunk).split('\n');
      buffered = lines.pop() ?? '';
      // a line that is not JSON (or a step that throws) ends the connection
      for (const text of lines) peer.queue = peer.queue.then(() => this.handle(peer, JSON.parse(text) as Line)).catch(() => void socket.destroy());
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const done = this.closed(peer).catch(() => undefined);
      this.closing.add(done);
      void done.finally(() => this.closing.delete(done));
    });
  }

  private async handle(peer: LinePeer, line: Line): Promise<void> {
    if (line.t === 'hello' && !peer.welcomed) return this.hello(peer, line);
    if (peer.welcomed && line.t === 'join' && typeof line.room === 'string') {
      const from = { offset: typeof line.offset === 'number' ? line.offset : undefined, epoch: typeof line.epoch === 'string' ? line.epoch : undefined };
      const { state, replay } = await this.joins.join(peer, line.room, from);
      peer.send({ t: 'joined', room: line.room, offset: state.offset, epoch: state.epoch });
      replay();
    }
  }

  /** The hello, in the service's order: place (redirect or stay), join the rooms to resume, commit, welcome, replay. */
  private async hello(peer: LinePeer, hello: Line): Promise<void> {
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const rooms = typeof hello.rooms === 'object' && hello.rooms !== null ? (hello.rooms as Record<string, ResumeFrom>) : undefined;
    const opening = this.service.open(peer, { session: str(hello.session), lost: str(hello.lost), rooms, place: !this.draining });
    const to = await opening.place();
    if (to) {
      peer.send({ t: 'redirect', url: to.url });
      peer.socket.end();
      return;
    }
    const joins: Array<[string, RoomJoined]> = [];
    for (const [room, from] of await opening.roomsToJoin()) joins.push([room, await this.joins.join(peer, room, from)]);
    const { sessionId, resumed } = await opening.commit();
    if (!peer.open) return;
    peer.welcomed = true;
    const states = Object.fromEntries(joins.map(([room, j]) => [room, { offset: j.state.offset, epoch: j.state.epoch }]));
    peer.send({ t: 'welcome', session: sessionId, resumed, node: this.cluster.id, rooms: states });
    for (const [, j] of joins) j.replay();
  }

  /** The socket closed: the service stores the client's last offsets, then the node stops following its rooms. */
  private async closed(peer: LinePeer): Promise<void> {
    peer.open = false;
    this.peers.delete(peer);
    await this.service.close(peer);
    for (const room of peer.cursors.keys()) {
      this.members.get(room)?.delete(peer);
      await this.cluster.unfollowRoom(room).catch(() => undefined);
    }
  }

  /**
   * Drain: the cluster node enters `draining`, then the service picks each client's target (and
   * reassigns its session there); the client is told where to go and its socket ends.
   */
  async drain(): Promise<void> {
    this.draining = true;
    await this.cluster.drain();
    await inBatches([...this.peers], { batchSize: 100, batchIntervalMs: 0 }, async (batch) => {
      const targets = await this.service.planMoves(batch, (p) => p.open && p.welcomed);
      batch.forEach((p, i) => {
        const t = targets[i];
        if (t) p.send({ t: 'redirect', url: t.url });
        p.socket.end();
      });
    });
  }

  /** Close the server and every socket; wait for their session writes. The cluster node is the caller's. */
  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const p of this.peers) p.socket.destroy();
    await stopped;
    await Promise.all(this.closing);
    this.service.flushWrites();
  }
}
