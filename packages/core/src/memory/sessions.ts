import type { ReassignResult, RoomCursor, SessionRecord } from '../model/session.js';
import type { SessionStore } from '../ports/sessions.js';
import { Guard } from './guard.js';
import { getDefaultHub, type MemoryHub } from './hub.js';

const clone = <T>(v: T): T => structuredClone(v);

/** In-process session store; TTLs are judged on read, so it needs no timer. */
export class MemorySessionStore implements SessionStore {
  readonly name = 'memory';
  private readonly hub: MemoryHub;
  private readonly guard = new Guard('memory session store');

  constructor(options: { hub?: MemoryHub } = {}) {
    this.hub = options.hub ?? getDefaultHub();
  }

  async connect(): Promise<void> {
    this.guard.check();
  }

  async close(): Promise<void> {
    this.guard.closed = true;
  }

  async put(session: SessionRecord, ttlMs: number): Promise<void> {
    this.guard.check();
    this.hub.sessions.set(session.id, { value: clone(session), expiresAt: Date.now() + ttlMs });
  }

  async putMany(sessions: readonly SessionRecord[], ttlMs: number): Promise<void> {
    this.guard.check();
    for (const s of sessions) this.hub.sessions.set(s.id, { value: clone(s), expiresAt: Date.now() + ttlMs });
  }

  async get(sessionId: string): Promise<SessionRecord | null> {
    this.guard.check();
    const r = this.live(sessionId);
    return r ? clone(r.value) : null;
  }

  async getMany(sessionIds: readonly string[]): Promise<Array<SessionRecord | null>> {
    this.guard.check();
    return sessionIds.map((id) => {
      const r = this.live(id);
      return r ? clone(r.value) : null;
    });
  }

  async touch(sessionId: string, ttlMs: number): Promise<boolean> {
    this.guard.check();
    const r = this.live(sessionId);
    if (!r) return false;
    r.expiresAt = Date.now() + ttlMs;
    return true;
  }

  async delete(sessionId: string): Promise<void> {
    this.guard.check();
    this.hub.sessions.delete(sessionId);
  }

  async byUser(userId: string): Promise<SessionRecord[]> {
    return this.where((s) => s.userId === userId);
  }

  async byNode(nodeId: string): Promise<SessionRecord[]> {
    return this.where((s) => s.nodeId === nodeId);
  }

  async setRoom(sessionId: string, room: string, cursor: RoomCursor): Promise<void> {
    this.guard.check();
    const r = this.live(sessionId);
    if (!r) return;
    r.value.rooms[room] = { ...cursor };
    r.value.updatedAt = Date.now();
  }

  async removeRoom(sessionId: string, room: string): Promise<void> {
    this.guard.check();
    const r = this.live(sessionId);
    if (!r) return;
    delete r.value.rooms[room];
    r.value.updatedAt = Date.now();
  }

  async reassign(fromNodeId: string, assignments: Record<string, string>): Promise<ReassignResult> {
    this.guard.check();
    const result: ReassignResult = { moved: {}, skipped: [] };
    for (const [id, to] of Object.entries(assignments)) {
      const r = this.live(id);
      if (!r || r.value.nodeId !== fromNodeId) {
        result.skipped.push(id);
        continue;
      }
      r.value.nodeId = to;
      r.value.updatedAt = Date.now();
      result.moved[id] = to;
    }
    return result;
  }

  async getAffinity(key: string): Promise<string | null> {
    this.guard.check();
    const r = this.hub.affinity.get(key);
    if (!r) return null;
    if (r.expiresAt <= Date.now()) {
      this.hub.affinity.delete(key);
      return null;
    }
    return r.value;
  }

  async setAffinity(key: string, nodeId: string, ttlMs: number): Promise<void> {
    this.guard.check();
    this.hub.affinity.set(key, { value: nodeId, expiresAt: Date.now() + ttlMs });
  }

  private live(id: string) {
    const r = this.hub.sessions.get(id);
    if (!r) return undefined;
    if (r.expiresAt <= Date.now()) {
      this.hub.sessions.delete(id);
      return undefined;
    }
    return r;
  }

  private async where(pred: (s: SessionRecord) => boolean): Promise<SessionRecord[]> {
    this.guard.check();
    const out: SessionRecord[] = [];
    for (const id of [...this.hub.sessions.keys()]) {
      const r = this.live(id);
      if (r && pred(r.value)) out.push(clone(r.value));
    }
    return out;
  }
}
