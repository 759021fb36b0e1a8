import { BusRuntime, childLogger, type AdapterObserver, type BusCapabilities, type BusDriver, type BusDriverEvents, type Logger, type SwitchyardError } from '@switchyard/core';
import type pg from 'pg';
import { BusInbox } from './bus-inbox.js';
import { PgConnection } from './connection.js';
import { SOURCE, isConnectionError, mapPgError } from './errors.js';
import { PgListener } from './listener.js';
import { parseOptions, type PostgresOptions } from './options.js';
import { Sweeper } from './sweeper.js';

interface Outgoing {
  topic: string;
  channel: string;
  /** The whole notification text when it fits inline; otherwise the payload goes through the table. */
  inline?: string;
  payload: Uint8Array;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Inline notifications sent in one statement (one transaction, one commit). */
const MAX_BATCH = 200;
/** A send with no listen connection to go on: the runtime keeps it in the buffer. */
const OFFLINE = new Error('the postgres listen connection is down');

/** LISTEN/NOTIFY under the bus runtime, on the listen connection of `PgListener` (which restores every LISTEN itself). */
class PostgresBusDriver implements BusDriver {
  readonly name = SOURCE;
  readonly label = 'postgres bus';
  readonly keepsListens = true;
  readonly capabilities: BusCapabilities;
  private listener: PgListener | undefined;
  private sweeper: Sweeper | undefined;
  private inbox: BusInbox | undefined;
  private events: BusDriverEvents | undefined;
  private readonly channelTopics = new Map<string, Set<string>>();
  private readonly outbox: Outgoing[] = [];
  private pumping = false;
  private seq = 0;

  constructor(
    private readonly conn: PgConnection,
    private readonly log: Logger,
  ) {
    this.capabilities = { orderedPerTopic: true, sharded: false, durable: false, maxPayloadBytes: conn.options.bus.maxPayloadBytes };
  }

  async open(events: BusDriverEvents): Promise<void> {
    const o = this.conn.options.bus;
    this.events = events;
    try {
      await this.conn.open();
    } catch (err) {
      throw mapPgError(err, 'bus connect', 'BUS_UNAVAILABLE');
    }
    const inbox = (this.inbox = new BusInbox(this.conn, this.log, events, (ch) => this.channelTopics.has(ch)));
    const listener = new PgListener(this.conn, {
      what: 'bus',
      logger: this.log,
      // The runtime counts reconnects, disconnects and resubscriptions itself.
      count: (e, n) => (e === 'reconnect' || e === 'disconnect' || e === 'resubscribe' ? undefined : events.count(e, n)),
      reconnectMinDelayMs: o.reconnectMinDelayMs,
      reconnectMaxDelayMs: o.reconnectMaxDelayMs,
      pingIntervalMs: o.pingIntervalMs,
      onNotification: (channel, payload) => inbox.receive(channel, payload),
      onStatus: (s) => (s === 'connected' ? events.up() : s === 'reconnecting' ? events.down('listen connection lost') : undefined),
      // Notifications are not durable anyway: do not wait for a WAL flush on every publish.
      sessionSetup: ['SET synchronous_commit TO off'],
    });
    try {
      await listener.start();
    } catch (err) {
      await listener.stop();
      await this.conn.release();
      throw mapPgError(err, 'bus connect', 'BUS_UNAVAILABLE');
    }
    this.listener = listener;
    const n = this.conn.names;
    this.sweeper = new Sweeper(
      this.conn,
      [
        {
          name: 'bus payloads',
          sql: `DELETE FROM ${n.table('bus_payloads')} WHERE id IN (
            SELECT id FROM ${n.table('bus_payloads')} WHERE created_at < now() - ($2::float8 * interval '1 millisecond')
            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)`,
          params: () => [o.overflowRetentionMs],
        },
      ],
      this.log,
      (e) => events.count(e),
    );
    this.sweeper.start();
  }

  /** Queued in call order and sent by `pump()`: runs of inline notifications go in one statement. */
  send(topic: string, payload: Uint8Array): Promise<void> {
    const limit = this.conn.options.bus.inlineLimitBytes;
    return new Promise<void>((resolve, reject) => {
      const out: Outgoing = { topic, channel: this.conn.names.channel('b', topic), payload, resolve, reject };
      if (payload.byteLength < limit) {
        // `s` keeps two equal payloads in one batch apart (NOTIFY folds duplicates within a transaction).
        const data = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64');
        const text = JSON.stringify({ t: topic, d: data, s: (this.seq = (this.seq + 1) % 1e9) });
        if (Buffer.byteLength(text) <= limit) out.inline = text;
      }
      this.outbox.push(out);
      void this.pump();
    });
  }

  async listen(topic: string): Promise<void> {
    const channel = this.conn.names.channel('b', topic);
    let topics = this.channelTopics.get(channel);
    if (!topics) this.channelTopics.set(channel, (topics = new Set()));
    topics.add(topic);
    await this.listener?.listen(channel);
  }

  async unlisten(topic: string): Promise<void> {
    const channel = this.conn.names.channel('b', topic);
    const topics = this.channelTopics.get(channel);
    if (!topics?.delete(topic) || topics.size > 0) return;
    this.channelTopics.delete(channel);
    await this.listener?.unlisten(channel);
  }

  async close(): Promise<void> {
    await this.sweeper?.stop();
    await this.listener?.stop();
    this.listener = undefined;
    this.inbox?.clear();
    this.channelTopics.clear();
    for (const q of this.outbox.splice(0)) q.reject(OFFLINE);
    await this.conn.release();
  }

  isUnreachable(err: unknown): boolean {
    return err === OFFLINE || isConnectionError(err);
  }

  mapError(err: unknown, what: string): SwitchyardError {
    this.events?.count('error');
    return mapPgError(err, what, 'BUS_UNAVAILABLE');
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.outbox.length > 0) {
        const listener = this.listener;
        const client = listener?.client;
        const batch = this.takeBatch();
        if (!listener || !client) {
          for (const q of batch) q.reject(OFFLINE);
          continue;
        }
        try {
          await this.sendBatch(listener, client, batch);
          for (const q of batch) q.resolve();
        } catch (err) {
          for (const q of batch) q.reject(err);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private takeBatch(): Outgoing[] {
    if ((this.outbox[0] as Outgoing).inline === undefined) return this.outbox.splice(0, 1);
    let n = 1;
    while (n < this.outbox.length && n < MAX_BATCH && (this.outbox[n] as Outgoing).inline !== undefined) n++;
    return this.outbox.splice(0, n);
  }

  private async sendBatch(listener: PgListener, client: pg.ClientBase, batch: Outgoing[]): Promise<void> {
    const first = batch[0] as Outgoing;
    if (first.inline === undefined) {
      const t = this.conn.names.table('bus_payloads');
      const data = Buffer.from(first.payload.buffer, first.payload.byteOffset, first.payload.byteLength);
      await listener.run(client, `WITH ins AS (INSERT INTO ${t} (topic, payload) VALUES ($2, $3) RETURNING id)
         SELECT pg_notify($1, json_build_object('r', ins.id::text)::text) FROM ins`, [first.channel, first.topic, data]);
    } else if (batch.length === 1) {
      await listener.run(client, 'SELECT pg_notify($1, $2)', [first.channel, first.inline]);
    } else {
      const channels = batch.map((q) => q.channel);
      await listener.run(client, 'SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS x(c, p)', [channels, batch.map((q) => q.inline as string)]);
    }
  }
}

/**
 * A MessageBus over PostgreSQL LISTEN/NOTIFY, for small deployments that run Postgres and
 * nothing else. Each topic maps to a channel named from the prefix and a hash of the topic
 * (topics are arbitrary strings); the real topic travels in the payload and mismatches are
 * ignored. Payloads whose notification would not fit NOTIFY's 8000 bytes are written to
 * `<prefix>bus_payloads` and the notification carries only the row id, which listeners fetch.
 * One dedicated connection LISTENs and publishes (so publishes keep their order); when it drops,
 * publishes wait in a bounded buffer and the connection, every LISTEN and the buffer come back
 * by themselves.
 */
export class PostgresBus extends BusRuntime {
  private readonly conn: PgConnection;

  /** @param shared a connection shared with the other ports of one adapter (used by `createPostgresAdapter`). */
  constructor(options: PostgresOptions, shared?: PgConnection) {
    const conn = shared ?? new PgConnection(parseOptions(options));
    const log = childLogger(conn.logger, { port: 'bus' });
    super(new PostgresBusDriver(conn, log), { bufferSize: conn.options.bus.bufferSize, logger: log });
    this.conn = conn;
  }

  override instrument(observer: AdapterObserver): void {
    super.instrument(observer);
    this.conn.addObserver(observer);
  }
}
