import type { AdapterObserver, Logger, ReassignResult, RoomCursor, SessionRecord, SessionStore } from '@switchyard/core';
import { childLogger, noopLogger, noopObserver } from '@switchyard/core';
import { StorageType } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';
import { NatsConnector, bucketKeys } from './connection.js';
import { SOURCE, closedError, isWrongLastSequence, mapNatsError, natsError, notConnectedError } from './errors.js';
import { parseNatsOptions, type NatsAdapterConfig, type NatsAdapterOptions } from './options.js';
import { Keys, encodeToken } from './subjects.js';

interface Stored<T> {
  value: T;
  ttlMs: number;
}

const encode = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
/** Read-modify-write attempts before a session update gives up with CONFLICT. */
const CAS_ATTEMPTS = 20;

/** Index keys: `u.<user>.<session>` and `d.<node>.<session>`; their value is the session id. */
const userIndex = (userId: string, sessionId: string) => `u.${encodeToken(userId)}.${encodeToken(sessionId)}`;
const nodeIndex = (nodeId: string, sessionId: string) => `d.${encodeToken(nodeId)}.${encodeToken(sessionId)}`;

/**
 * The session (affinity) store on a JetStream KV bucket. Like the registry, a record's TTL is
 * kept in its value and judged against the server's write timestamp (NATS 2.9 has no per-key
 * TTL); the bucket's `max_age` is a backstop. Lookups by user and node go through index keys
 * that are always checked against the session record itself, so a stale index entry is never
 * returned (and is removed when found). Every change to a record is a compare-and-set on its
 * revision: `reassign` moves a session only while it is still on the source node, so two racing
 * coordinators each move a disjoint set.
 */
export class NatsSessionStore implements SessionStore {
  readonly name = 'nats';
  readonly config: NatsAdapterConfig;
  private readonly connector: NatsConnector;
  private readonly log: Logger;
  private observer: AdapterObserver = noopObserver;
  private kv: KV | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;

  /** Pass options, or share a connector with the other ports (see `createNatsAdapter`). No I/O happens here. */
  constructor(options: NatsAdapterOptions | NatsAdapterConfig, connector?: NatsConnector) {
    this.config = parseNatsOptions(options);
    this.connector = connector ?? new NatsConnector(this.config);
    this.log = childLogger(this.config.logger ?? noopLogger, { adapter: SOURCE, port: 'sessions' });
  }

  instrument(observer: AdapterObserver): void {
    this.observer = observer;
  }

  async connect(): Promise<void> {
    if (this.closed) throw closedError('nats session store');
    if (this.kv) return;
    this.connecting ??= (async () => {
      let acquired = false;
      try {
        await this.connector.acquire();
        acquired = true;
        const s = this.config.sessions;
        const kv = await this.connector.bucket(s.bucket, {
          history: 1,
          ttl: s.maxAgeMs,
          storage: s.storage === 'file' ? StorageType.File : StorageType.Memory,
          replicas: s.replicas,
        });
        if (this.closed) throw closedError('nats session store');
        this.kv = kv;
      } catch (err) {
        this.connecting = undefined;
        if (acquired) await this.connector.release();
        this.countError();
        throw mapNatsError(err, 'sessions connect');
      }
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const wasOpen = this.kv !== undefined;
    this.kv = undefined;
    if (wasOpen) await this.connector.release();
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
    return this.run('getAffinity', async () => {
      const e = await kv.get(Keys.affinity(key));
      if (!e || e.operation !== 'PUT') return null;
      const v = e.json<Stored<string>>();
      if (this.expired(e, v.ttlMs)) {
        await this.purgeIfUnchanged(kv, e);
        return null;
      }
      return v.value;
    });
  }

  async setAffinity(key: string, nodeId: string, ttlMs: number): Promise<void> {
    const kv = this.ready();
    this.checkTtl(ttlMs);
    return this.run('setAffinity', async () => {
      await kv.put(Keys.affinity(key), encode({ value: nodeId, ttlMs } satisfies Stored<string>));
    });
  }

  private ready(): KV {
    if (this.closed) throw closedError('nats session store');
    if (!this.kv) throw notConnectedError('nats session store');
    return this.kv;
  }

  private async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.countError();
      throw mapNatsError(err, `sessions ${operation}`);
    }
  }

  /** The live record and its entry; an expired one reads as null and is purged. */
  private async live(kv: KV, sessionId: string): Promise<{ rec: SessionRecord; entry: KvEntry; ttlMs: number } | null> {
    const e = await kv.get(Keys.session(sessionId));
    if (!e || e.operation !== 'PUT') return null;
    const v = e.json<Stored<SessionRecord>>();
    if (this.expired(e, v.ttlMs)) {
      await this.purgeIfUnchanged(kv, e);
      return null;
    }
    return { rec: v.value, entry: e, ttlMs: v.ttlMs };
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
        await this.purgeIfUnchanged(kv, ie);
        return null;
      }),
    );
    return found.filter((r): r is SessionRecord => r !== null);
  }

  private async writeIndexes(kv: KV, rec: SessionRecord): Promise<void> {
    const writes = [kv.put(nodeIndex(rec.nodeId, rec.id), rec.id)];
    if (rec.userId !== undefined) writes.push(kv.put(userIndex(rec.userId, rec.id), rec.id));
    await Promise.all(writes);
  }

  private async dropStaleIndexes(kv: KV, old: SessionRecord, now: SessionRecord): Promise<void> {
    const drops: Promise<void>[] = [];
    if (old.nodeId !== now.nodeId) drops.push(kv.delete(nodeIndex(old.nodeId, old.id)));
    if (old.userId !== undefined && old.userId !== now.userId) drops.push(kv.delete(userIndex(old.userId, old.id)));
    await Promise.all(drops);
  }

  private async dropIndexes(kv: KV, rec: SessionRecord): Promise<void> {
    const drops = [kv.delete(nodeIndex(rec.nodeId, rec.id))];
    if (rec.userId !== undefined) drops.push(kv.delete(userIndex(rec.userId, rec.id)));
    await Promise.all(drops);
  }

  private async purgeIfUnchanged(kv: KV, e: KvEntry): Promise<void> {
    await kv.purge(e.key, { previousSeq: e.revision }).catch((err: unknown) => {
      if (!isWrongLastSequence(err)) this.log.debug({ err, key: e.key }, 'purging an expired or stale key failed');
    });
  }

  private expired(e: KvEntry, ttlMs: number): boolean {
    return e.created.getTime() + ttlMs <= Date.now();
  }

  private checkTtl(ttlMs: number): void {
    const max = this.config.sessions.maxAgeMs;
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw natsError('CONFIG_INVALID', `session TTL must be a positive number of ms, got ${ttlMs}`);
    if (max > 0 && ttlMs > max) {
      throw natsError('CONFIG_INVALID', `session TTL of ${ttlMs} ms exceeds sessions.maxAgeMs (${max} ms), the bucket's max_age: raise sessions.maxAgeMs`);
    }
  }

  private countError(): void {
    try {
      this.observer.count(SOURCE, 'error', 1);
    } catch {
      // an observer must not break the store
    }
  }
}
