import { Topics } from '@switchyard/core/adapter';
import type { ClusterNodeApi, HistoryPosition } from '@switchyard/core';
import type { ServerConnection } from './connection.js';

const add = <K, V>(map: Map<K, Set<V>>, key: K, v: V): boolean => {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  if (set.has(v)) return false;
  set.add(v);
  return true;
};

const remove = <K, V>(map: Map<K, Set<V>>, key: K, v: V): boolean => {
  const set = map.get(key);
  if (!set?.delete(v)) return false;
  if (set.size === 0) map.delete(key);
  return true;
};

/**
 * Who is where on this node: open connections by id, rooms and users to their local
 * connections. Each membership holds one reference on the bus topic it needs (core counts
 * them), so the node receives a room, user or `all` only while a local socket needs it; a
 * membership of a room with history follows the room instead (core orders it by offset).
 */
export class LocalIndex {
  readonly connections = new Map<string, ServerConnection>();
  private readonly rooms = new Map<string, Set<ServerConnection>>();
  private readonly users = new Map<string, Set<ServerConnection>>();
  /** Room references being taken by a join, per connection and room (see `drop`). */
  private readonly taking = new Map<string, Promise<unknown>>();

  constructor(private readonly cluster: ClusterNodeApi) {}

  get size(): number {
    return this.connections.size;
  }

  async addConnection(conn: ServerConnection): Promise<void> {
    this.connections.set(conn.id, conn);
    const waits = [this.cluster.acquire(Topics.all)];
    if (conn.userId !== undefined && add(this.users, conn.userId, conn)) waits.push(this.cluster.acquire(Topics.user(conn.userId)));
    await Promise.all(waits);
  }

  /** Forget a closed connection and release every topic it held. */
  removeConnection(conn: ServerConnection): Promise<unknown> {
    if (!this.connections.delete(conn.id)) return Promise.resolve();
    const waits = [this.cluster.release(Topics.all)];
    if (conn.userId !== undefined && remove(this.users, conn.userId, conn)) waits.push(this.cluster.release(Topics.user(conn.userId)));
    for (const [room, c] of conn.cursorEntries()) if (remove(this.rooms, room, conn)) waits.push(this.drop(conn, room, c.history));
    return Promise.all(waits.map((w) => w.catch(() => undefined)));
  }

  /**
   * Add to a room; resolves once the node receives the room's topic. For a room with history
   * (`ordered`), with the position from which this node delivers it in order (null when history
   * was unreadable). Undefined when already a member, or for a room without history.
   */
  async join(conn: ServerConnection, room: string, ordered = false): Promise<HistoryPosition | null | undefined> {
    if (!add(this.rooms, room, conn)) return undefined;
    const taking: Promise<HistoryPosition | null | undefined> = ordered ? this.cluster.followRoom(room) : this.cluster.acquire(Topics.room(room)).then(() => undefined);
    const key = `${conn.id}\n${room}`;
    this.taking.set(key, taking);
    try {
      return await taking;
    } catch (err) {
      remove(this.rooms, room, conn);
      throw err;
    } finally {
      if (this.taking.get(key) === taking) this.taking.delete(key);
    }
  }

  async leave(conn: ServerConnection, room: string, ordered = false): Promise<boolean> {
    if (!remove(this.rooms, room, conn)) return false;
    await this.drop(conn, room, ordered);
    return true;
  }

  /**
   * Give back the reference a membership took on the room's topic (or on following the room).
   * A membership still taking it (the connection closed during its join) gives it back once it
   * has it, never before: it must not give back another member's reference, which would leave
   * the room unfollowed, or its messages unordered, while that member is still in it.
   */
  private async drop(conn: ServerConnection, room: string, ordered: boolean): Promise<void> {
    const taking = this.taking.get(`${conn.id}\n${room}`);
    if (taking && !(await taking.then(() => true, () => false))) return; // it failed: nothing was taken
    return ordered ? this.cluster.unfollowRoom(room) : this.cluster.release(Topics.room(room));
  }

  /** True while some local connection is in `room`. */
  hasRoom(room: string): boolean {
    return this.rooms.has(room);
  }

  inRoom(room: string): Iterable<ServerConnection> {
    return this.rooms.get(room) ?? [];
  }

  ofUser(userId: string): Iterable<ServerConnection> {
    return this.users.get(userId) ?? [];
  }

  roomCount(): number {
    return this.rooms.size;
  }
}
