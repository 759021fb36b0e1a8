import type { ReassignResult, RoomCursor, SessionRecord, SessionStore } from '@switchyard/core';
import type { KV, KvEntry } from '@nats-io/kv';
import { bucketKeys, type NatsConnector } from './connection.js';
import { isWrongLastSequence, natsError } from './errors.js';
import { checkTtl, encode, openRecordBucket, purgeIfUnchanged, readLive } from './kv-records.js';
import type { NatsAdapterConfig, NatsAdapterOptions } from './options.js';
import { NatsPort } from './base.js';
import { Keys, encodeToken } from './names.js';

interface Stored<T> {
  value: T;
  ttlMs: number;
}

/** Read-modify-write attempts before a session update gives up with CONFLICT. */
const CAS_ATTEMPTS = 20;

/** Index keys: `u.<user>.<session>` and `d.<node>.<session>`; their value is the session id. */
const userIndex = (userId: string, sessionId: string) => `u.${encodeToken(userId)}.${encodeToken(sessionId)}`;
const nodeIndex = (nodeId: string, sessionId: string) => `d.${encodeToken(nodeId)}.${encodeToken(sessionId)}`;
/** The index keys of a record: its node's, and its user's when it has one. */
const indexKeys = (rec: SessionRecord): string[] => [nodeIndex(rec.nodeId, rec.id), ...(rec.userId !== undefined ? [userIndex(rec.userId, rec.id)] : [])];

/**
 * The session (affinity) store on a JetStream KV bucket. Like the registry, a record's TTL is
 * kept in its value and judged against the server's write timestamp (NATS 2.9 has no per-key
 * TTL); the bucket's `max_age` is a backstop. Lookups by user and node go through index keys
 * that are always checked against the session record itself, so a stale index entry is never
 * returned (and is removed when found). Every change to a record is a compare-and-set on its
 * revision: `reassign` moves a session only while it is still on the source node, so two racing
 * coordinators each move a disjoint set.
 */
export class NatsSessionStore extends NatsPort<KV> implements SessionStore {
  /** Pass options, or share a connector with the other ports (see `createNatsAdapter`). No I/O happens here. */
  constructor(options: NatsAdapterOptions | NatsAdapterConfig, connector?: NatsConnector) {
    super(options, connector, { port: 'sessions', label: 'nats session store', scope: 'sessions' });
  }

  protected override open(): Promise<KV> {
    return openRecordBucket(this.connector, this.config.sessions);
  }

  async put(session: SessionRecord, ttlMs: number): Promise<void> {
    const kv = this.ready();
    this.checkTtl(ttlMs);
    return this.run('put', async () => {
      const old = await this.live(kv, session.id);
      await kv.put(Keys.session(session.id), encode({ value: session, ttlMs } satisfies Stored<SessionRecord>));
      await this.writeIndexes(kv, session);
      if (old) await this.dropStaleIndexes(kv, old.rec, session);
    });
  }

  async get(sessionId: string): Promise<SessionRecord | null> {
    const kv = this.ready();
    return this.run('get', async () => (await this.live(kv, sessionId))?.rec ?? null);
  }

  async touch(sessionId: string, ttlMs: number): Promise<boolean> {
    const kv = this.ready();
    this.checkTtl(ttlMs);
    return this.run('touch', async () => {
      const rec = await this.modify(kv, sessionId, (r) => r, ttlMs);
      if (!rec) return false;
      await this.writeIndexes(kv, rec); // keep index keys younger than the bucket's max_age too
      return true;
    });
  }

  async delete(sessionId: string): Promise<void> {
    const kv = this.ready();
    return this.run('delete', async () => {
      const e = await kv.get(Keys.session(sessionId));
      if (!e || e.operation !== 'PUT') return;
      const rec = e.json<Stored<SessionRecord>>().value;
      await kv.delete(Keys.session(sessionId));
      await this.dropIndexes(kv, rec);
    });
  }

  async byUser(userId: string): Promise<SessionRecord[]> {
    const kv = this.ready();
    return this.run('byUser', () => this.byIndex(kv, `u.${encodeToken(userId)}.>`, (r) => r.userId === userId));
  }

  async byNode(nodeId: string): Promise<SessionRecord[]> {
    const kv = this.ready();
    return this.run('byNode', () => this.byIndex(kv, `d.${encodeToken(nodeId)}.>`, (r) => r.nodeId === nodeId));
  }

  async setRoom(sessionId: string, room: string, cursor: RoomCursor): Promise<void> {
    const kv = this.ready();
    return this.run('setRoom', async () => {
      await this.modify(kv, sessionId, (r) => ({ ...r, rooms: { ...r.rooms, [room]: { ...cursor } }, updatedAt: Date.now() }));
    });
  }

  async removeRoom(sessionId: string, room: string): Promise<void> {
    const kv = this.ready();
    return this.run('removeRoom', async () => {
      await this.modify(kv, sessionId, (r) => {
        const rooms = { ...r.rooms };
        delete rooms[room];
        return { ...r, rooms, updatedAt: Date.now() };
      });
    });
  }

  async reassign(fromNodeId: string, assignments: Record<string, string>): Promise<ReassignResult> {
    const kv = this.ready();
    return this.run('reassign', async () => {
      const result: ReassignResult = { moved: {}, skipped: [] };
      await Promise.all(
        Object.entries(assignments).map(async ([id, to]) => {
          const moved = await this.modify(kv, id, (r) => (r.nodeId === fromNodeId ? { ...r, nodeId: to, updatedAt: Date.now() } : null));
          if (!moved) {
            result.skipped.push(id);
            return;
          }
          result.moved[id] = to;
          await kv.put(nodeIndex(to, id), id);
          await kv.delete(nodeIndex(fromNodeId, id));
        }),
      );
      return result;
    });
  }

  async getAffinity(key: string): Promise<string | null> {
    const kv = this.ready();
    return this.run('getAffinity', async () => (await readLive<Stored<string>>(kv, Keys.affinity(key), this.log))?.value.value ?? null);
  }

  async setAffinity(key: string, nodeId: string, ttlMs: number): Promise<void> {
    const kv = this.ready();
    this.checkTtl(ttlMs);
    return this.run('setAffinity', async () => {
      await kv.put(Keys.affinity(key), encode({ value: nodeId, ttlMs } satisfies Stored<string>));
    });
  }

  /** The live record and its entry; an expired one reads as null and is purged. */
  private async live(kv: KV, sessionId: string): Promise<{ rec: SessionRecord; entry: KvEntry; ttlMs: number } | null> {
    const found = await readLive<Stored<SessionRecord>>(kv, Keys.session(sessionId), this.log);
    return found && { rec: found.value.value, entry: found.entry, ttlMs: found.value.ttlMs };
  }

  /**
   * Read-modify-write with compare-and-set on the revision. `change` returns the new record, or
   * null to leave it alone. Resolves to the written record, or null when the session is gone or
   * `change` declined.
   */
  private async modify(kv: KV, sessionId: string, change: (r: SessionRecord) => SessionRecord | null, ttlMs?: number): Promise<SessionRecord | null> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const cur = await this.live(kv, sessionId);
      if (!cur) return null;
      const next = change(cur.rec);
      if (!next) return null;
      try {
        await kv.update(Keys.session(sessionId), encode({ value: next, ttlMs: ttlMs ?? cur.ttlMs } satisfies Stored<SessionRecord>), cur.entry.revision);
        return next;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
    throw natsError('CONFLICT', `session ${sessionId} kept changing under us (${CAS_ATTEMPTS} attempts)`);
  }

  private async byIndex(kv: KV, filter: string, matches: (r: SessionRecord) => boolean): Promise<SessionRecord[]> {
    const keys = await bucketKeys(await this.connector.jsm(), this.config.sessions.bucket, filter);
    const found = await Promise.all(
      keys.map(async (k) => {
        const ie = await kv.get(k);
        if (!ie || ie.operation !== 'PUT') return null;
        const cur = await this.live(kv, ie.string());
        if (cur && matches(cur.rec)) return cur.rec;
        // Stale index entry (session gone, expired or moved): drop it unless rewritten meanwhile.
        await purgeIfUnchanged(kv, ie, this.log);
        return null;
      }),
    );
    return found.filter((r): r is SessionRecord => r !== null);
  }

  private async writeIndexes(kv: KV, rec: SessionRecord): Promise<void> {
    await Promise.all(indexKeys(rec).map((k) => kv.put(k, rec.id)));
  }

  private async dropStaleIndexes(kv: KV, old: SessionRecord, now: SessionRecord): Promise<void> {
    const drops: Promise<void>[] = [];
    if (old.nodeId !== now.nodeId) drops.push(kv.delete(nodeIndex(old.nodeId, old.id)));
    if (old.userId !== undefined && old.userId !== now.userId) drops.push(kv.delete(userIndex(old.userId, old.id)));
    await Promise.all(drops);
  }

  private async dropIndexes(kv: KV, rec: SessionRecord): Promise<void> {
    await Promise.all(indexKeys(rec).map((k) => kv.delete(k)));
  }

  private checkTtl(ttlMs: number): void {
    checkTtl(ttlMs, 'session', 'sessions', this.config.sessions.maxAgeMs);
  }
}
