import { BusRuntime, type BusDriver, type BusDriverEvents } from '@switchyard/core/adapter';
import { childLogger, type AdapterObserver, type BusCapabilities, type Logger, type SwitchyardError } from '@switchyard/core';
import { BusInbox } from './bus-inbox.js';
import { BusOutbox, OFFLINE } from './bus-outbox.js';
import { PgConnection } from './connection.js';
import { SOURCE, isConnectionError, mapPgError } from './errors.js';
import { PgListener } from './listener.js';
import { parseOptions, type PostgresOptions } from './options.js';
import { Sweeper } from './sweeper.js';

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
  private readonly outbox: BusOutbox;

  constructor(
    private readonly conn: PgConnection,
    private readonly log: Logger,
  ) {
    this.outbox = new BusOutbox(conn, () => this.listener);
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

  /** Queued in call order; runs of inline notifications go in one statement. */
  send(topic: string, payload: Uint8Array): Promise<void> {
    return this.outbox.send(topic, payload);
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
    this.outbox.clear(OFFLINE);
    await this.conn.release();
  }

  isUnreachable(err: unknown): boolean {
    return err === OFFLINE || isConnectionError(err);
  }

  mapError(err: unknown, what: string): SwitchyardError {
    this.events?.count('error');
    return mapPgError(err, what, 'BUS_UNAVAILABLE');
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
    super(new PostgresBusDriver(conn, log), { bufferSize: conn.options.publishBufferSize, logger: log });
    this.conn = conn;
  }

  override instrument(observer: AdapterObserver): void {
    super.instrument(observer);
    this.conn.addObserver(observer);
  }
}
