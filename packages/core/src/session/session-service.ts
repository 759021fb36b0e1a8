import type { ClusterNodeApi, Placement } from '../cluster/types.js';
import type { Logger } from '../logger.js';
import type { SessionRecord } from '../model/session.js';
import { randomId } from '../util/id.js';
import { Gather } from './gather.js';
import { SessionWrites } from './session-writes.js';

/** Where a connection is in one room, as the transport tracks it (offset -1: not known yet). */
export interface PeerCursor {
  readonly offset: number;
  readonly epoch: string | null;
  readonly history: boolean;
}

/**
 * One client connection as the session service sees it. A transport implements it for each
 * of its connections (the WebSocket node's `Connection` does); no socket or frame in sight.
 */
export interface SessionPeer {
  /** Unique connection id. */
  readonly id: string;
  /** The authenticated user, if any. */
  readonly userId: string | undefined;
  /** The client's IP address. */
  readonly ip: string;
  /** Parameters the client sent when it opened (`region` and `key` steer placement). */
  readonly params: Readonly<Record<string, unknown>>;
  /** The rooms the connection is in, with its cursor in each. */
  cursorEntries(): Iterable<[string, PeerCursor]>;
}

/** A resume position a client gives for a room. */
export interface ResumeFrom {
  offset?: number | undefined;
  epoch?: string | undefined;
}

/** What a client asks for when it opens a session. */
export interface OpenRequest {
  /** The session it had (resumed only when it belongs to the same user). */
  session?: string | undefined;
  /** The node it just lost (a crash): never placed there, probed, and a displaced client is kept here. */
  lost?: string | undefined;
  /** The rooms to join with their resume positions; absent: the stored session's rooms. */
  rooms?: Readonly<Record<string, ResumeFrom>> | undefined;
  /** Decide placement (false: the client asked not to be redirected, or this node drains). */
  place: boolean;
}

/** Send the client to another node. */
export interface Redirect {
  nodeId: string;
  url: string;
  /** `balancer`: freshly picked; `affinity`: its session or affinity key lives there. */
  reason: 'balancer' | 'affinity';
}

/** A node a moving client is sent to. */
export interface MoveTarget {
  id: string;
  url: string;
}

/** What the service needs from the cluster node. */
export type SessionCluster = Pick<ClusterNodeApi, 'id' | 'sessions' | 'place' | 'probe' | 'healthyNodes'>;

export interface SessionServiceOptions {
  /** Session TTL in the store, ms (read at each write). */
  ttlMs: () => number;
  logger: Logger;
  /** Session writes of clients opening together are gathered for up to this long, ms (default 5; idle: sent at the end of the turn). */
  writeLingerMs?: number;
}

interface PeerSession {
  id: string;
  /** The last store write for this session: later ones are chained after it, so they land in order. */
  write: Promise<unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Sessions as any transport needs them: open and resume (the stored session of the same user),
 * placement and redirect (with the rule for a client displaced by a crash), the rooms to resume,
 * the session record and its room cursors, and where connections go when this node drains or
 * rebalances. The transport parses its frames, asks here, and writes its answer.
 */
export class SessionService {
  private readonly sessions = new WeakMap<SessionPeer, PeerSession>();
  /** New and resumed sessions, written in batches (one store call for the clients opening together). */
  private readonly writes: SessionWrites;
  /** Stored sessions of resuming clients, read in batches (one store call for the clients of one turn). */
  private readonly reads: Gather<string, SessionRecord | null>;

  constructor(
    private readonly cluster: SessionCluster,
    private readonly options: SessionServiceOptions,
  ) {
    this.writes = new SessionWrites(cluster.sessions, { ttlMs: options.ttlMs, ...(options.writeLingerMs !== undefined ? { lingerMs: options.writeLingerMs } : {}) });
    // A hello waits for its read: gather only what arrives in one turn (no linger).
    const store = cluster.sessions;
    this.reads = new Gather((id) => store.get(id), store.getMany?.bind(store), { lingerMs: 0, maxBatch: 64 });
  }

  /** Send the session writes still gathering (before the node closes its stores). */
  flushWrites(): void {
    this.writes.flush();
  }

  /** Start opening a session for `peer`: the stored session is read at the end of this turn, in one store call with those of the other clients opening meanwhile. */
  open(peer: SessionPeer, request: OpenRequest): SessionOpening {
    return new SessionOpening(this.cluster, peer, request, { logger: this.options.logger, read: (id) => this.reads.call(id), opened: (record) => this.opened(peer, record) });
  }

  /** The session id of `peer` once opened ('' before). */
  sessionOf(peer: SessionPeer): string {
    return this.sessions.get(peer)?.id ?? '';
  }

  /** The session is created or resumed: write it, and chain later writes after this one. */
  private opened(peer: SessionPeer, record: SessionRecord): void {
    const write = this.writes.put(record).catch((err: unknown) => this.options.logger.warn({ err }, 'session store put failed'));
    this.sessions.set(peer, { id: record.id, write });
  }

  /** `peer` joined `room` (or its cursor there was set): record it in the session, after the writes before it. */
  roomJoined(peer: SessionPeer, room: string, cursor: { offset: number; epoch: string | null }): void {
    const s = this.sessions.get(peer);
    if (!s) return; // (during the open there is no session yet: it is written once, with its rooms)
    s.write = s.write.then(() => this.cluster.sessions.setRoom(s.id, room, { offset: Math.max(0, cursor.offset), epoch: cursor.epoch })).catch(() => undefined);
  }

  /** `peer` left `room`: forget it in the session; resolves when the store has it. */
  async roomLeft(peer: SessionPeer, room: string): Promise<void> {
    const s = this.sessions.get(peer);
    if (!s) return;
    s.write = s.write.then(() => this.cluster.sessions.removeRoom(s.id, room)).catch(() => undefined);
    await s.write;
  }

  /**
   * The connection closed: store the last offsets of its history rooms, so a resume replays from
   * there. It reads them from `peer.cursorEntries()`: call it before the transport forgets the
   * connection's rooms.
   */
  async close(peer: SessionPeer): Promise<void> {
    const s = this.sessions.get(peer);
    if (!s) return;
    await s.write;
    const writes: Promise<void>[] = [];
    for (const [room, c] of peer.cursorEntries()) if (c.history && c.offset >= 0) writes.push(this.cluster.sessions.setRoom(s.id, room, { offset: c.offset, epoch: c.epoch }));
    await Promise.all(writes).catch((err: unknown) => this.options.logger.debug({ err }, 'session offsets not stored'));
  }

  /** The cursors of `peer`'s history rooms, as a session record holds them. */
  static cursorsOf(peer: SessionPeer): SessionRecord['rooms'] {
    const cursors: SessionRecord['rooms'] = {};
    for (const [room, c] of peer.cursorEntries()) if (c.history && c.offset >= 0) cursors[room] = { offset: c.offset, epoch: c.epoch };
    return cursors;
  }

  /** Where a moving client should go: the cluster's placement for it, never this node (undefined: nowhere). */
  async targetFor(peer: SessionPeer): Promise<MoveTarget | undefined> {
    try {
      const sessionId = this.sessionOf(peer);
      const p = await this.cluster.place({ userId: peer.userId, sessionId: sessionId || undefined, ip: peer.ip, region: str(peer.params.region), key: str(peer.params.key) });
      return p.local || !p.node.url ? undefined : { id: p.node.id, url: p.node.url };
    } catch {
      return undefined;
    }
  }

  /** A rebalance target by id: a healthy node other than this one, with a URL. */
  nodeTarget(nodeId: unknown): MoveTarget | undefined {
    if (typeof nodeId !== 'string') return undefined;
    const n = this.cluster.healthyNodes().find((x) => x.id === nodeId && x.id !== this.cluster.id && x.url);
    return n ? { id: n.id, url: n.url } : undefined;
  }

  /**
   * Targets for connections that move away (drain, rebalance): `to` for every one when given,
   * else each one's placement; `undefined` for a peer that is not `movable` or has nowhere to go.
   * Before the transport tells them, their sessions are reassigned to the targets in the store,
   * so the target keeps each client instead of sending it back.
   */
  async planMoves<P extends SessionPeer>(peers: readonly P[], movable: (peer: P) => boolean, to?: MoveTarget): Promise<Array<MoveTarget | undefined>> {
    const targets = await Promise.all(peers.map((p) => (movable(p) ? (to ?? this.targetFor(p)) : undefined)));
    const assignments: Record<string, string> = {};
    peers.forEach((p, i) => {
      const t = targets[i];
      const sessionId = this.sessionOf(p);
      if (t && sessionId) assignments[sessionId] = t.id;
    });
    if (Object.keys(assignments).length > 0) {
      await this.cluster.sessions.reassign(this.cluster.id, assignments).catch((err: unknown) => this.options.logger.debug({ err }, 'sessions not reassigned before the move'));
    }
    return targets;
  }
}

/**
 * One session being opened, in the order a transport goes: `place()` (redirect or stay),
 * `roomsToJoin()`, the transport joins them, then `commit()` writes the session. The transport
 * checks between steps that its connection is still open.
 */
export class SessionOpening {
  private readonly stored: Promise<SessionRecord | null>;
  /** The stored session, once read (undefined: not waited for yet). */
  private ours: SessionRecord | null | undefined;
  private readonly lost: string | undefined;

  /** Made by {@link SessionService.open}. */
  constructor(
    private readonly cluster: SessionCluster,
    private readonly peer: SessionPeer,
    private readonly request: OpenRequest,
    private readonly owner: { logger: Logger; read(sessionId: string): Promise<SessionRecord | null>; opened(record: SessionRecord): void },
  ) {
    // only a session of this user counts; a store that fails counts as none
    this.stored = request.session
      ? owner.read(request.session).then(
          (s) => (s && (s.userId ?? undefined) === peer.userId ? s : null),
          () => null,
        )
      : Promise.resolve(null);
    this.lost = request.lost && request.lost !== cluster.id ? request.lost : undefined;
  }

  /**
   * Where the client belongs: null to stay here, or a redirect. A client whose node just died
   * does not wait for its stored session (it needs none to be placed), so its room joins overlap
   * the read; a placement that fails keeps the client here.
   */
  async place(): Promise<Redirect | null> {
    const { cluster, peer, lost } = this;
    if (!lost) this.ours = await this.stored;
    if (!this.request.place) return null;
    try {
      // A node the client just lost may still look healthy until the failure detector notices:
      // never place on it, and ask it whether it is alive (one probe per node at a time); a
      // silent node is skipped for everyone until it heartbeats again.
      if (lost) void cluster.probe(lost).catch(() => undefined);
      const p = await cluster.place({
        userId: peer.userId,
        sessionId: this.ours?.id,
        session: this.ours ?? null,
        ip: peer.ip,
        region: str(peer.params.region),
        key: str(peer.params.key),
        exclude: lost ? [lost] : undefined,
      });
      if (p.local || !p.node.url || displaced(lost, p)) return null;
      return { nodeId: p.node.id, url: p.node.url, reason: p.reason === 'balancer' ? 'balancer' : 'affinity' };
    } catch (err) {
      this.owner.logger.debug({ err }, 'placement failed; accepting locally');
      return null;
    }
  }

  /** The rooms to join, in order: the ones the client asked for, else its stored session's. */
  async roomsToJoin(): Promise<Array<[string, ResumeFrom]>> {
    if (this.request.rooms) return Object.entries(this.request.rooms);
    this.ours ??= await this.stored;
    return Object.entries(this.ours?.rooms ?? {}).map(([r, c]) => [r, { offset: c.epoch ? c.offset : undefined, epoch: c.epoch ?? undefined }]);
  }

  /**
   * Create or resume the session and write it with the peer's rooms and cursors: one write, not
   * awaited (later writes for this session are chained after it).
   */
  async commit(): Promise<{ sessionId: string; resumed: boolean }> {
    this.ours ??= await this.stored;
    const ours = this.ours;
    const now = Date.now();
    const sessionId = ours?.id ?? randomId(12);
    const record: SessionRecord = {
      id: sessionId,
      nodeId: this.cluster.id,
      userId: this.peer.userId,
      rooms: SessionService.cursorsOf(this.peer),
      createdAt: ours?.createdAt ?? now,
      updatedAt: now,
      ...(ours?.data ? { data: ours.data } : {}),
    };
    this.owner.opened(record);
    return { sessionId, resumed: ours !== null };
  }
}

/**
 * A client displaced by a crash has already landed on a healthy node: a redirect would cost it a
 * second handshake while every other client of the dead node queues for the same survivors (and
 * clients spread the displaced at random). An affinity key (pinned, or just pinned by the
 * balancer) still moves it on, so the key's other connections meet it there.
 */
function displaced(lost: string | undefined, p: Placement): boolean {
  return lost !== undefined && (p.reason === 'session' || (p.reason === 'balancer' && p.key === null));
}
