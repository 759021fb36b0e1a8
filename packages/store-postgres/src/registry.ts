import type { ConnectionStatus, Lease, NodeInfo, NodeRegistry, RegistryEvent, Unsubscribe } from '@switchyard/core';
import { PgPort } from './base.js';
import type { PgConnection } from './connection.js';
import { PgListener } from './listener.js';
import type { PostgresAdapterOptions } from './options.js';
import type { SweepTask } from './sweeper.js';

const TTL = (param: string) => `now() + (${param}::float8 * interval '1 millisecond')`;
const MS = (col: string) => `floor(extract(epoch from ${col}) * 1000)::float8`;
/** Node records up to this size travel inside the notification; larger ones are fetched by id. */
const INLINE_NODE_BYTES = 7000;

interface LeaseRow {
  name: string;
  holder: string;
  token: string;
  expires_ms: number;
}

const toLease = (row: LeaseRow): Lease => ({ name: row.name, holder: row.holder, token: Number(row.token), expiresAt: row.expires_ms });

/**
 * NodeRegistry in PostgreSQL. Each node is a row of `<prefix>nodes` with `expires_at = now() +
 * ttl`, judged by the database clock; `list()` returns unexpired rows. Changes are announced with
 * NOTIFY on one channel in the same statement that makes them (so only committed changes are
 * announced), and `watch()` LISTENs on a dedicated connection that comes back by itself. A
 * sweeper deletes expired rows (announcing `left` with reason `timeout`). Leases live in
 * `<prefix>leases`; the fencing token grows whenever the lease changes hands or is taken again
 * after it lapsed, and a released lease keeps its row so the token never goes back.
 */
export class PostgresRegistry extends PgPort implements NodeRegistry {
  private readonly watchers = new Set<(e: RegistryEvent) => void>();
  private listener: PgListener | undefined;
  private readonly channel: string;

  /** @param shared a connection shared with the other ports of one adapter (used by `createPostgresAdapter`). */
  constructor(options: PostgresAdapterOptions, shared?: PgConnection) {
    super('registry', options, shared);
    this.channel = this.conn.names.channel('r', 'registry');
  }

  protected sweepTasks(): SweepTask[] {
    const t = this.table('nodes');
    return [
      {
        name: 'nodes',
        sql: `WITH gone AS (
          DELETE FROM ${t} WHERE id IN (
            SELECT id FROM ${t} WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
          ) AND expires_at <= now() RETURNING id)
          SELECT pg_notify($2, json_build_object('type', 'left', 'nodeId', id, 'reason', 'timeout')::text) FROM gone`,
        params: () => [this.channel],
      },
    ];
  }

  /**
   * State of the connection that feeds `watch()`: notices sent while it is not `connected` are
   * missed (NOTIFY is not durable), which is why `list()` stays the truth.
   */
  get watchStatus(): ConnectionStatus {
    return this.listener?.status ?? (this.closed ? 'closed' : 'idle');
  }

  /** LISTEN from the start, so a `watch()` right after `connect()` misses nothing. */
  protected override async afterOpen(): Promise<void> {
    await this.startListening();
  }

  protected override async beforeRelease(): Promise<void> {
    this.watchers.clear();
    await this.listener?.stop();
    this.listener = undefined;
  }

  async register(node: NodeInfo, ttlMs: number): Promise<void> {
    this.check();
    const json = JSON.stringify(node);
    await this.conn.query(
      'register node',
      `WITH prev AS (SELECT expires_at > now() AS alive FROM ${this.table('nodes')} WHERE id = $1),
       up AS (
         INSERT INTO ${this.table('nodes')} (id, info, expires_at) VALUES ($1, $2::jsonb, ${TTL('$3')})
         ON CONFLICT (id) DO UPDATE SET info = EXCLUDED.info, expires_at = EXCLUDED.expires_at, heartbeat_at = now()
         RETURNING id)
       SELECT pg_notify($4, json_build_object(
         'type', CASE WHEN coalesce((SELECT alive FROM prev), false) THEN 'updated' ELSE 'joined' END,
         'id', up.id,
         'node', CASE WHEN $5::boolean THEN $2::jsonb END)::text)
       FROM up`,
      [node.id, json, ttlMs, this.channel, Buffer.byteLength(json) <= INLINE_NODE_BYTES],
      true,
    );
  }

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    await this.register(node, ttlMs);
  }

  async deregister(nodeId: string): Promise<void> {
    this.check();
    await this.conn.query(
      'deregister node',
      `WITH gone AS (DELETE FROM ${this.table('nodes')} WHERE id = $1 RETURNING id, expires_at > now() AS alive)
       SELECT pg_notify($2, json_build_object('type', 'left', 'nodeId', id, 'reason', 'shutdown')::text) FROM gone WHERE alive`,
      [nodeId, this.channel],
      true,
    );
  }

  async list(): Promise<NodeInfo[]> {
    this.check();
    const r = await this.conn.query<{ info: NodeInfo }>(
      'list nodes',
      `SELECT info FROM ${this.table('nodes')} WHERE expires_at > now() ORDER BY id`,
      [],
      true,
    );
    return r.rows.map((row) => row.info);
  }

  async get(nodeId: string): Promise<NodeInfo | null> {
    this.check();
    const r = await this.conn.query<{ info: NodeInfo }>(
      'get node',
      `SELECT info FROM ${this.table('nodes')} WHERE id = $1 AND expires_at > now()`,
      [nodeId],
      true,
    );
    return r.rows[0]?.info ?? null;
  }

  watch(listener: (event: RegistryEvent) => void): Unsubscribe {
    this.check();
    this.watchers.add(listener);
    void this.startListening();
    return () => {
      this.watchers.delete(listener);
    };
  }

  private async startListening(): Promise<void> {
    if (this.listener || this.closed) return;
    const o = this.conn.options.bus;
    const listener = new PgListener(this.conn, {
      what: 'registry',
      logger: this.log,
      count: (e, n) => this.count(e, n),
      reconnectMinDelayMs: o.reconnectMinDelayMs,
      reconnectMaxDelayMs: o.reconnectMaxDelayMs,
      pingIntervalMs: o.pingIntervalMs,
      onNotification: (_channel, payload) => this.receive(payload),
      onStatus: () => undefined,
    });
    this.listener = listener;
    await listener.listen(this.channel);
    try {
      await listener.start();
    } catch (err) {
      this.count('error');
      this.log.warn({ err: (err as Error).message }, 'registry watch could not LISTEN yet; list() stays the truth');
      if (this.listener === listener) this.listener = undefined;
      await listener.stop();
    }
  }

  private receive(text: string): void {
    if (this.closed || this.watchers.size === 0) return;
    let msg: { type?: unknown; id?: unknown; node?: unknown; nodeId?: unknown; reason?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.count('malformed');
      return;
    }
    if ((msg.type === 'joined' || msg.type === 'updated') && typeof msg.id === 'string') {
      const type = msg.type;
      if (msg.node && typeof msg.node === 'object') {
        this.emit({ type, node: msg.node as NodeInfo });
      } else {
        void this.get(msg.id).then(
          (node) => node && this.emit({ type, node }),
          () => undefined,
        );
      }
    } else if (msg.type === 'left' && typeof msg.nodeId === 'string' && (msg.reason === 'shutdown' || msg.reason === 'timeout')) {
      this.emit({ type: 'left', nodeId: msg.nodeId, reason: msg.reason });
    } else {
      this.count('malformed');
    }
  }

  private emit(event: RegistryEvent): void {
    for (const w of [...this.watchers]) {
      try {
        w(event);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'registry watcher threw');
      }
    }
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    this.check();
    const r = await this.conn.query<LeaseRow>(
      'acquire lease',
      `INSERT INTO ${this.table('leases')} AS l (name, holder, token, expires_at) VALUES ($1, $2, 1, ${TTL('$3')})
       ON CONFLICT (name) DO UPDATE SET
         token = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now() THEN l.token ELSE l.token + 1 END,
         acquired_at = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now() THEN l.acquired_at ELSE now() END,
         holder = EXCLUDED.holder,
         expires_at = EXCLUDED.expires_at
       WHERE l.expires_at <= now() OR l.holder = EXCLUDED.holder
       RETURNING name, holder, token, ${MS('expires_at')} AS expires_ms`,
      [name, holder, ttlMs],
      false,
    );
    const row = r.rows[0];
    return row ? toLease(row) : null;
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease | null> {
    this.check();
    const r = await this.conn.query<LeaseRow>(
      'renew lease',
      `UPDATE ${this.table('leases')} SET expires_at = ${TTL('$4')}
       WHERE name = $1 AND holder = $2 AND token = $3::bigint AND expires_at > now()
       RETURNING name, holder, token, ${MS('expires_at')} AS expires_ms`,
      [lease.name, lease.holder, String(lease.token), ttlMs],
      true,
    );
    const row = r.rows[0];
    return row ? toLease(row) : null;
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.check();
    await this.conn.query(
      'release lease',
      `UPDATE ${this.table('leases')} SET expires_at = now()
       WHERE name = $1 AND holder = $2 AND token = $3::bigint AND expires_at > now()`,
      [lease.name, lease.holder, String(lease.token)],
      true,
    );
  }
}
