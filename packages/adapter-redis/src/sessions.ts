import type { ReassignResult, RoomCursor, SessionRecord, SessionStore } from '@switchyard/core';
import { RedisPort } from './base.js';
import { SOURCE } from './errors.js';
import { KeySpace } from './names.js';
import type { RedisAdapterConfig, RedisAdapterOptions, RedisClient } from './options.js';
import {
  SESSION_DELETE,
  SESSION_DEL_FIELD,
  SESSION_PUT,
  SESSION_REASSIGN,
  SESSION_SET_FIELD,
  SESSION_TOUCH,
} from './scripts.js';

/** Sessions moved per Lua call: each call is atomic, and short enough not to stall Redis. */
const REASSIGN_BATCH = 200;
const ROOM = 'r:';

const ttlOf = (ms: number) => Math.max(1, Math.round(ms));

/**
 * Session store on Redis. A session is a hash (`node`, `user`, `rec` JSON, `upd`, and one
 * `r:<room>` field per room cursor) with a PX TTL; a set per user and per node indexes them and
 * is pruned of expired members on read; affinity keys are plain keys with a TTL. `reassign` is
 * a Lua compare-and-set per session (still on `fromNode`?), so racing coordinators each move a
 * disjoint set and every session ends on exactly one node.
 */
export class RedisSessionStore extends RedisPort implements SessionStore {
  private readonly keys: KeySpace;
  private readonly nodeSetPrefix: string;
  private readonly userSetPrefix: string;

  constructor(options: RedisAdapterOptions | RedisAdapterConfig = {}) {
    super(options, 'redis session store');
    this.keys = new KeySpace(this.cfg.keyPrefix);
    this.nodeSetPrefix = this.keys.nodeSessions('');
    this.userSetPrefix = this.keys.userSessions('');
  }

  async put(session: SessionRecord, ttlMs: number): Promise<void> {
    const [keys, args] = this.putCall(session, ttlMs);
    await this.op('put', (c) => SESSION_PUT.run(c, keys, args));
  }

  /** Several sessions in one pipeline: one write and one round trip, each as `put` does it. */
  async putMany(sessions: readonly SessionRecord[], ttlMs: number): Promise<void> {
    if (sessions.length === 0) return;
    const calls = sessions.map((s) => this.putCall(s, ttlMs));
    await this.op('putMany', (c) => SESSION_PUT.runMany(c, calls));
  }

  private putCall(session: SessionRecord, ttlMs: number): [string[], Array<string | number>] {
    const rec = JSON.stringify({ id: session.id, userId: session.userId, createdAt: session.createdAt, data: session.data });
    const rooms = Object.entries(session.rooms ?? {}).flatMap(([room, cursor]) => [room, JSON.stringify(cursor)]);
    const user = session.userId ?? '';
    return [
      [this.keys.session(session.id), this.keys.nodeSessions(session.nodeId), this.keys.userSessions(user)],
      [ttlOf(ttlMs), session.id, session.nodeId, user, rec, session.updatedAt, ...rooms, this.nodeSetPrefix, this.userSetPrefix],
    ];
  }

  async get(sessionId: string): Promise<SessionRecord | null> {
    return this.op('get', (c) => this.load(c, sessionId));
  }

  async touch(sessionId: string, ttlMs: number): Promise<boolean> {
    const r = await this.op('touch', (c) =>
      SESSION_TOUCH.run(c, [this.keys.session(sessionId)], [ttlOf(ttlMs), this.nodeSetPrefix, this.userSetPrefix]),
    );
    return r === 1;
  }

  async delete(sessionId: string): Promise<void> {
    await this.op('delete', (c) =>
      SESSION_DELETE.run(c, [this.keys.session(sessionId)], [sessionId, this.nodeSetPrefix, this.userSetPrefix]),
    );
  }

  async byUser(userId: string): Promise<SessionRecord[]> {
    return this.op('byUser', (c) => this.members(c, this.keys.userSessions(userId), (s) => s.userId === userId));
  }

  async byNode(nodeId: string): Promise<SessionRecord[]> {
    return this.op('byNode', (c) => this.members(c, this.keys.nodeSessions(nodeId), (s) => s.nodeId === nodeId));
  }

  async setRoom(sessionId: string, room: string, cursor: RoomCursor): Promise<void> {
    await this.op('setRoom', (c) =>
      SESSION_SET_FIELD.run(c, [this.keys.session(sessionId)], [ROOM + room, JSON.stringify({ offset: cursor.offset, epoch: cursor.epoch }), Date.now()]),
    );
  }

  async removeRoom(sessionId: string, room: string): Promise<void> {
    await this.op('removeRoom', (c) => SESSION_DEL_FIELD.run(c, [this.keys.session(sessionId)], [ROOM + room, Date.now()]));
  }

  async reassign(fromNodeId: string, assignments: Record<string, string>): Promise<ReassignResult> {
    const result: ReassignResult = { moved: {}, skipped: [] };
    const entries = Object.entries(assignments);
    for (let i = 0; i < entries.length; i += REASSIGN_BATCH) {
      const batch = entries.slice(i, i + REASSIGN_BATCH);
      const keys = [this.keys.nodeSessions(fromNodeId)];
      const args: Array<string | number> = [fromNodeId, Date.now()];
      for (const [id, to] of batch) {
        keys.push(this.keys.session(id), this.keys.nodeSessions(to));
        args.push(id, to);
      }
      const flags = (await this.op('reassign', (c) => SESSION_REASSIGN.run(c, keys, args))) as number[];
      batch.forEach(([id, to], j) => {
        if (flags[j] === 1) result.moved[id] = to;
        else result.skipped.push(id);
      });
    }
    return result;
  }

  async getAffinity(key: string): Promise<string | null> {
    return this.op('getAffinity', (c) => c.get(this.keys.affinity(key)));
  }

  async setAffinity(key: string, nodeId: string, ttlMs: number): Promise<void> {
    await this.op('setAffinity', (c) => c.set(this.keys.affinity(key), nodeId, 'PX', ttlOf(ttlMs)));
  }

  private async load(c: RedisClient, id: string): Promise<SessionRecord | null> {
    return this.decode(await c.hgetall(this.keys.session(id)));
  }

  /** Sessions of an index set; members whose session is gone or moved are pruned. */
  private async members(c: RedisClient, setKey: string, belongs: (s: SessionRecord) => boolean): Promise<SessionRecord[]> {
    const ids = await c.smembers(setKey);
    const records = await Promise.all(ids.map((id) => this.load(c, id)));
    const out: SessionRecord[] = [];
    const stale: string[] = [];
    records.forEach((r, i) => {
      if (r && belongs(r)) out.push(r);
      else if (!r) stale.push(ids[i] as string);
    });
    // Only prune sessions that are gone: a moved one is removed from this set by whoever moved it.
    if (stale.length > 0) await c.srem(setKey, ...stale);
    return out;
  }

  private decode(h: Record<string, string>): SessionRecord | null {
    if (!h.rec || !h.node) return null;
    try {
      const rec = JSON.parse(h.rec) as { id: string; userId?: string; createdAt: number; data?: Record<string, unknown> };
      const rooms: Record<string, RoomCursor> = {};
      for (const [field, value] of Object.entries(h)) {
        if (field.startsWith(ROOM)) rooms[field.slice(ROOM.length)] = JSON.parse(value) as RoomCursor;
      }
      const out: SessionRecord = { id: rec.id, nodeId: h.node, rooms, createdAt: rec.createdAt, updatedAt: Number(h.upd) };
      if (rec.userId !== undefined) out.userId = rec.userId;
      if (rec.data !== undefined) out.data = rec.data;
      return out;
    } catch {
      this.observer.count(SOURCE, 'malformed');
      return null;
    }
  }
}
