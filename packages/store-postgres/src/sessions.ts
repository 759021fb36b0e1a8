import type { ReassignResult, RoomCursor, SessionRecord, SessionStore } from '@switchyard/core';
import { PgPort } from './base.js';
import type { PgConnection } from './connection.js';
import type { PostgresAdapterOptions } from './options.js';
import type { SweepTask } from './sweeper.js';

interface SessionRow {
  id: string;
  node_id: string;
  user_id: string | null;
  rooms: Record<string, RoomCursor>;
  data: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
}

const COLUMNS = 'id, node_id, user_id, rooms, data, created_at, updated_at';
/** A put replaces everything but the id. */
const UPSERT = `ON CONFLICT (id) DO UPDATE SET node_id = EXCLUDED.node_id, user_id = EXCLUDED.user_id, rooms = EXCLUDED.rooms,
         data = EXCLUDED.data, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, expires_at = EXCLUDED.expires_at`;
const TTL = (param: string) => `now() + (${param}::float8 * interval '1 millisecond')`;

function toRecord(row: SessionRow): SessionRecord {
  const rec: SessionRecord = {
    id: row.id,
    nodeId: row.node_id,
    rooms: row.rooms,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
  if (row.user_id !== null) rec.userId = row.user_id;
  if (row.data !== null) rec.data = row.data;
  return rec;
}

/**
 * SessionStore in PostgreSQL. A session is one row of `<prefix>sessions` whose `expires_at` is
 * judged by the database clock (`now()`), so nodes with skewed clocks agree. Reads ignore expired
 * rows; a sweeper deletes them in batches with `FOR UPDATE SKIP LOCKED`. `reassign` is one
 * statement that locks the candidate rows in id order and updates those still on `from`
 * (`UPDATE ... FROM unnest(...) WHERE node_id = $from`), so racing coordinators never both move a
 * session and never deadlock: the later one sees the new node id and skips it.
 */
export class PostgresSessionStore extends PgPort implements SessionStore {
  /** @param shared a connection shared with the other ports of one adapter (used by `createPostgresAdapter`). */
  constructor(options: PostgresAdapterOptions, shared?: PgConnection) {
    super('session store', options, shared);
  }

  protected sweepTasks(): SweepTask[] {
    const s = this.table('sessions');
    const a = this.table('affinity');
    return [
      {
        name: 'sessions',
        sql: `DELETE FROM ${s} WHERE id IN (
          SELECT id FROM ${s} WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
        ) AND expires_at <= now()`,
        params: () => [],
      },
      {
        name: 'affinity',
        sql: `DELETE FROM ${a} WHERE key IN (
          SELECT key FROM ${a} WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
        ) AND expires_at <= now()`,
        params: () => [],
      },
    ];
  }

  async put(session: SessionRecord, ttlMs: number): Promise<void> {
    this.check();
    await this.conn.query(
      'put session',
      `INSERT INTO ${this.table('sessions')} (${COLUMNS}, expires_at)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, ${TTL('$8')})
       ${UPSERT}`,
      [
        session.id,
        session.nodeId,
        session.userId ?? null,
        JSON.stringify(session.rooms ?? {}),
        session.data === undefined ? null : JSON.stringify(session.data),
        Math.trunc(session.createdAt),
        Math.trunc(session.updatedAt),
        ttlMs,
      ],
      true,
    );
  }

  /** Several sessions in one statement (one round trip), each as `put` writes it; of two for one id, the later wins. */
  async putMany(sessions: readonly SessionRecord[], ttlMs: number): Promise<void> {
    this.check();
    // one INSERT may not update a row twice: keep the last record per id
    const rows = [...new Map(sessions.map((s) => [s.id, s])).values()];
    if (rows.length === 0) return;
    await this.conn.query(
      'put sessions',
      `INSERT INTO ${this.table('sessions')} (${COLUMNS}, expires_at)
       SELECT u.*, ${TTL('$8')}
       FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::bigint[], $7::bigint[])
         AS u(id, node_id, user_id, rooms, data, created_at, updated_at)
       ${UPSERT}`,
      [
        rows.map((s) => s.id),
        rows.map((s) => s.nodeId),
        rows.map((s) => s.userId ?? null),
        rows.map((s) => JSON.stringify(s.rooms ?? {})),
        rows.map((s) => (s.data === undefined ? null : JSON.stringify(s.data))),
        rows.map((s) => Math.trunc(s.createdAt)),
        rows.map((s) => Math.trunc(s.updatedAt)),
        ttlMs,
      ],
      true,
    );
  }

  async get(sessionId: string): Promise<SessionRecord | null> {
    this.check();
    const r = await this.conn.query<SessionRow>(
      'get session',
      `SELECT ${COLUMNS} FROM ${this.table('sessions')} WHERE id = $1 AND expires_at > now()`,
      [sessionId],
      true,
    );
    const row = r.rows[0];
    return row ? toRecord(row) : null;
  }

  /** Several sessions in one statement (one round trip), each as `get` reads it, in the order asked. */
  async getMany(sessionIds: readonly string[]): Promise<Array<SessionRecord | null>> {
    this.check();
    if (sessionIds.length === 0) return [];
    const r = await this.conn.query<SessionRow>(
      'get sessions',
      `SELECT ${COLUMNS} FROM ${this.table('sessions')} WHERE id = ANY($1::text[]) AND expires_at > now()`,
      [[...new Set(sessionIds)]],
      true,
    );
    const byId = new Map(r.rows.map((row) => [row.id, row]));
    return sessionIds.map((id) => {
      const row = byId.get(id);
      return row ? toRecord(row) : null;
    });
  }

  async touch(sessionId: string, ttlMs: number): Promise<boolean> {
    this.check();
    const r = await this.conn.query(
      'touch session',
      `UPDATE ${this.table('sessions')} SET expires_at = ${TTL('$2')} WHERE id = $1 AND expires_at > now()`,
      [sessionId, ttlMs],
      true,
    );
    return (r.rowCount ?? 0) > 0;
  }

  async delete(sessionId: string): Promise<void> {
    this.check();
    await this.conn.query('delete session', `DELETE FROM ${this.table('sessions')} WHERE id = $1`, [sessionId], true);
  }

  async byUser(userId: string): Promise<SessionRecord[]> {
    this.check();
    const r = await this.conn.query<SessionRow>(
      'sessions by user',
      `SELECT ${COLUMNS} FROM ${this.table('sessions')} WHERE user_id = $1 AND expires_at > now() ORDER BY id`,
      [userId],
      true,
    );
    return r.rows.map(toRecord);
  }

  async byNode(nodeId: string): Promise<SessionRecord[]> {
    this.check();
    const r = await this.conn.query<SessionRow>(
      'sessions by node',
      `SELECT ${COLUMNS} FROM ${this.table('sessions')} WHERE node_id = $1 AND expires_at > now() ORDER BY id`,
      [nodeId],
      true,
    );
    return r.rows.map(toRecord);
  }

  async setRoom(sessionId: string, room: string, cursor: RoomCursor): Promise<void> {
    this.check();
    await this.conn.query(
      'set room',
      `UPDATE ${this.table('sessions')} SET rooms = rooms || jsonb_build_object($2::text, $3::jsonb), updated_at = $4
       WHERE id = $1 AND expires_at > now()`,
      [sessionId, room, JSON.stringify({ offset: cursor.offset, epoch: cursor.epoch }), Date.now()],
      true,
    );
  }

  async removeRoom(sessionId: string, room: string): Promise<void> {
    this.check();
    await this.conn.query(
      'remove room',
      `UPDATE ${this.table('sessions')} SET rooms = rooms - $2::text, updated_at = $3 WHERE id = $1 AND expires_at > now()`,
      [sessionId, room, Date.now()],
      true,
    );
  }

  async reassign(fromNodeId: string, assignments: Record<string, string>): Promise<ReassignResult> {
    this.check();
    const ids = Object.keys(assignments);
    if (ids.length === 0) return { moved: {}, skipped: [] };
    // Lock the rows in id order first, so coordinators racing over the same sessions queue up
    // instead of deadlocking; a row whose node changed while we waited drops out of `locked`.
    const t = this.table('sessions');
    const r = await this.conn.query<{ id: string; node_id: string }>(
      'reassign sessions',
      `WITH locked AS (
         SELECT id FROM ${t} WHERE id = ANY($2::text[]) AND node_id = $1 AND expires_at > now()
         ORDER BY id FOR UPDATE),
       v AS (SELECT * FROM unnest($2::text[], $3::text[]) AS v(id, to_node))
       UPDATE ${t} AS s SET node_id = v.to_node, updated_at = $4
       FROM locked JOIN v ON v.id = locked.id
       WHERE s.id = locked.id AND s.node_id = $1
       RETURNING s.id, s.node_id`,
      [fromNodeId, ids, ids.map((id) => assignments[id] as string), Date.now()],
      false,
    );
    const moved: Record<string, string> = {};
    for (const row of r.rows) moved[row.id] = row.node_id;
    return { moved, skipped: ids.filter((id) => !(id in moved)) };
  }

  async getAffinity(key: string): Promise<string | null> {
    this.check();
    const r = await this.conn.query<{ node_id: string }>(
      'get affinity',
      `SELECT node_id FROM ${this.table('affinity')} WHERE key = $1 AND expires_at > now()`,
      [key],
      true,
    );
    return r.rows[0]?.node_id ?? null;
  }

  async setAffinity(key: string, nodeId: string, ttlMs: number): Promise<void> {
    this.check();
    await this.conn.query(
      'set affinity',
      `INSERT INTO ${this.table('affinity')} (key, node_id, expires_at) VALUES ($1, $2, ${TTL('$3')})
       ON CONFLICT (key) DO UPDATE SET node_id = EXCLUDED.node_id, expires_at = EXCLUDED.expires_at`,
      [key, nodeId, ttlMs],
      true,
    );
  }
}
