import {
  SwitchyardError,
  type HistoryCapabilities,
  type HistoryEntry,
  type HistoryPosition,
  type HistoryReadOptions,
  type HistoryReadResult,
  type HistoryStore,
} from '@switchyard/core';
import { randomId } from '@switchyard/core/adapter';
import { PgPort } from './base.js';
import type { PgConnection } from './connection.js';
import { SOURCE } from './errors.js';
import type { PostgresAdapterOptions } from './options.js';
import type { SweepTask } from './sweeper.js';

/** Appends of one stream sent in one statement at most. */
const MAX_APPEND_BATCH = 100;

interface PendingAppend {
  payload: Uint8Array;
  resolve: (pos: HistoryPosition) => void;
  reject: (err: unknown) => void;
}

interface AppendQueue {
  waiting: PendingAppend[];
  busy: boolean;
}

const AGE_OK = (col: string, param: string) =>
  `(${param}::float8 = 0 OR ${col} > now() - (${param}::float8 * interval '1 millisecond'))`;

interface ReadRow {
  epoch: string;
  last_offset: string;
  low: string | null;
  offset: string | null;
  payload: Buffer | null;
  ts: number | null;
}

/**
 * HistoryStore in PostgreSQL. Each stream has a row in `<prefix>streams` (its epoch and last
 * offset) and its entries in `<prefix>history`. Appends to one stream from this process go one
 * statement at a time (appends that arrive meanwhile share the next statement), so offsets
 * follow call order and the promises resolve in offset order. A statement bumps the stream row
 * (its row lock orders appends from other processes, so offsets commit in order and never
 * repeat), inserts the entries and trims the stream to `maxLength`. Entries older than `maxAgeMs`
 * (by the database clock) are invisible to reads and deleted by the sweeper. `reset` deletes the
 * stream; the next append starts a new epoch.
 */
export class PostgresHistory extends PgPort implements HistoryStore {
  readonly capabilities: HistoryCapabilities = { retentionByLength: true, retentionByAge: true };
  /** Per stream: appends not sent yet, and whether a statement for the stream is in flight. */
  private readonly appending = new Map<string, AppendQueue>();

  /** @param shared a connection shared with the other ports of one adapter (used by `createPostgresAdapter`). */
  constructor(options: PostgresAdapterOptions, shared?: PgConnection) {
    super('history', options, shared);
  }

  private get retention() {
    return this.conn.options.history;
  }

  protected sweepTasks(): SweepTask[] {
    if (this.retention.maxAgeMs === 0) return [];
    const h = this.table('history');
    return [
      {
        name: 'history by age',
        sql: `DELETE FROM ${h} WHERE (stream, "offset") IN (
          SELECT stream, "offset" FROM ${h} WHERE created_at < now() - ($2::float8 * interval '1 millisecond')
          ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED)`,
        params: () => [this.retention.maxAgeMs],
      },
    ];
  }

  async append(stream: string, payload: Uint8Array): Promise<HistoryPosition> {
    this.check();
    return new Promise<HistoryPosition>((resolve, reject) => {
      let queue = this.appending.get(stream);
      if (!queue) this.appending.set(stream, (queue = { waiting: [], busy: false }));
      queue.waiting.push({ payload, resolve, reject });
      if (!queue.busy) void this.flushAppends(stream, queue);
    });
  }

  /**
   * Send the appends waiting for `stream`, one statement at a time, each carrying every append
   * that arrived meanwhile (up to MAX_APPEND_BATCH). Offsets are given in call order and the
   * promises resolve in offset order; concurrent statements on several pool connections would
   * let a later offset resolve first, and whoever publishes on resolution would then send a
   * room's messages out of order (connections drop a message whose offset is not above the last).
   */
  private async flushAppends(stream: string, queue: AppendQueue): Promise<void> {
    queue.busy = true;
    try {
      while (queue.waiting.length > 0) {
        const batch = queue.waiting.splice(0, Math.min(MAX_APPEND_BATCH, this.retention.maxLength));
        try {
          this.check();
          const { epoch, last } = await this.appendBatch(stream, batch.map((b) => b.payload));
          batch.forEach((b, i) => b.resolve({ offset: last - batch.length + 1 + i, epoch }));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      queue.busy = false;
      if (this.appending.get(stream) === queue) this.appending.delete(stream);
    }
  }

  /** One statement: bump the stream row by `payloads.length`, insert them with consecutive offsets, trim. */
  private async appendBatch(stream: string, payloads: Uint8Array[]): Promise<{ epoch: string; last: number }> {
    const s = this.table('streams');
    const h = this.table('history');
    const r = await this.conn.query<{ epoch: string; last_offset: string }>(
      'append',
      `WITH s AS (
         INSERT INTO ${s} AS st (stream, epoch, last_offset) VALUES ($1, $2, $5::bigint)
         ON CONFLICT (stream) DO UPDATE SET last_offset = st.last_offset + $5::bigint
         RETURNING epoch, last_offset),
       ins AS (INSERT INTO ${h} (stream, "offset", payload)
         SELECT $1, s.last_offset - $5::bigint + p.i, p.payload FROM s, unnest($3::bytea[]) WITH ORDINALITY AS p(payload, i)),
       cut AS (DELETE FROM ${h} WHERE stream = $1 AND "offset" <= (SELECT last_offset FROM s) - $4::bigint)
       SELECT epoch, last_offset FROM s`,
      [stream, randomId(9), payloads.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)), this.retention.maxLength, payloads.length],
      false,
    );
    const row = r.rows[0] as { epoch: string; last_offset: string };
    return { epoch: row.epoch, last: Number(row.last_offset) };
  }

  async read(stream: string, after: number, options: HistoryReadOptions = {}): Promise<HistoryReadResult> {
    this.check();
    const limit = Math.max(1, Math.min(options.limit ?? this.retention.readLimit, this.retention.readLimit));
    const r = await this.conn.query<ReadRow>(
      'read',
      `WITH s AS (SELECT epoch, last_offset FROM ${this.table('streams')} WHERE stream = $1),
       lw AS (SELECT min("offset") AS low FROM ${this.table('history')} WHERE stream = $1 AND ${AGE_OK('created_at', '$4')}),
       f AS (SELECT CASE WHEN $5::text IS NOT NULL AND $5::text <> s.epoch THEN 0 ELSE $2::bigint END AS from_offset FROM s)
       SELECT s.epoch, s.last_offset, lw.low, e."offset", e.payload, e.ts
       FROM s CROSS JOIN lw CROSS JOIN f
       LEFT JOIN LATERAL (
         SELECT h."offset", h.payload, floor(extract(epoch from h.created_at) * 1000)::float8 AS ts
         FROM ${this.table('history')} h
         WHERE h.stream = $1 AND h."offset" > f.from_offset AND ${AGE_OK('h.created_at', '$4')}
         ORDER BY h."offset" LIMIT $3) e ON true
       ORDER BY e."offset"`,
      [stream, Math.max(0, Math.trunc(after)), limit, this.retention.maxAgeMs, options.epoch ?? null],
      true,
    );
    const first = r.rows[0];
    if (!first) {
      const { epoch } = await this.position(stream);
      return { epoch, entries: [], top: 0, gap: options.epoch != null && options.epoch !== epoch && after > 0 };
    }
    const epochChanged = options.epoch != null && options.epoch !== first.epoch;
    const from = epochChanged ? 0 : after;
    const top = Number(first.last_offset);
    const trimmedUpTo = first.low === null ? top : Number(first.low) - 1;
    const entries: HistoryEntry[] = [];
    for (const row of r.rows) {
      if (row.offset === null || row.payload === null) continue;
      entries.push({
        offset: Number(row.offset),
        payload: new Uint8Array(row.payload.buffer, row.payload.byteOffset, row.payload.byteLength),
        timestamp: Number(row.ts),
      });
    }
    return { epoch: first.epoch, entries, top, gap: epochChanged || trimmedUpTo > from };
  }

  async position(stream: string): Promise<HistoryPosition> {
    this.check();
    const s = this.table('streams');
    for (let attempt = 0; ; attempt++) {
      const r = await this.conn.query<{ epoch: string; last_offset: string }>(
        'position',
        `WITH ins AS (
           INSERT INTO ${s} (stream, epoch, last_offset) VALUES ($1, $2, 0) ON CONFLICT (stream) DO NOTHING
           RETURNING epoch, last_offset)
         SELECT epoch, last_offset FROM ins
         UNION ALL SELECT epoch, last_offset FROM ${s} WHERE stream = $1`,
        [stream, randomId(9)],
        true,
      );
      const row = r.rows[0];
      if (row) return { offset: Number(row.last_offset), epoch: row.epoch };
      // Created by a concurrent transaction after our snapshot: look again.
      if (attempt >= 5) {
        throw new SwitchyardError('BACKEND_ERROR', `position(${JSON.stringify(stream)}): stream row not visible`, { source: SOURCE });
      }
    }
  }

  async reset(stream: string): Promise<void> {
    this.check();
    await this.conn.transaction('reset', async (client) => {
      // Take the stream row's lock first: appends in flight finish, later ones wait for us.
      await client.query(`SELECT 1 FROM ${this.table('streams')} WHERE stream = $1 FOR UPDATE`, [stream]);
      await client.query(`DELETE FROM ${this.table('history')} WHERE stream = $1`, [stream]);
      await client.query(`DELETE FROM ${this.table('streams')} WHERE stream = $1`, [stream]);
    });
  }
}
