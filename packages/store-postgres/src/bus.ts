import {
  SwitchyardError,
  childLogger,
  noopObserver,
  type AdapterEvent,
  type AdapterObserver,
  type BusCapabilities,
  type BusHandler,
  type ConnectionStatus,
  type MessageBus,
  type Subscription,
  type Unsubscribe,
} from '@switchyard/core';
import type pg from 'pg';
import { PgConnection } from './connection.js';
import { SOURCE, closedError, isConnectionError, mapPgError, notConnectedError } from './errors.js';
import { PgListener } from './listener.js';
import { parseOptions, type PostgresOptions } from './options.js';
import { Sweeper } from './sweeper.js';

interface Outgoing {
  topic: string;
  channel: string;
  /** The whole notification text when it fits inline; otherwise the payload goes through the table. */
  inline?: string;
  payload: Uint8Array;
}

interface Queued {
  out: Outgoing;
  /** Set while a caller awaits the send; absent once the publish resolved as buffered. */
  settle?: { resolve: () => void; reject: (err: unknown) => void };
  /** Waited while disconnected (counted as flushed when sent). */
  buffered: boolean;
}

/** Inline notifications sent in one statement (one transaction, one commit). */
const MAX_BATCH = 200;

interface Incoming {
  channel: string;
  topic: string;
  payload: Uint8Array;
}

interface HandlerEntry {
  handler: BusHandler;
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
export class PostgresBus implements MessageBus {
  readonly name = SOURCE;
  readonly capabilities: BusCapabilities;
  private readonly conn: PgConnection;
  private readonly log;
  private observer: AdapterObserver = noopObserver;
  private listener: PgListener | undefined;
  private sweeper: Sweeper | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private _status: ConnectionStatus = 'idle';
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>();
  private readonly topics = new Map<string, Set<HandlerEntry>>();
  private readonly channelTopics = new Map<string, Set<string>>();
  private readonly channelReady = new Map<string, Promise<void>>();
  /** Publishes not sent yet, in call order: waiting for a connection or for the batch in flight. */
  private readonly outbox: Queued[] = [];
  private pumping = false;
  private seq = 0;
  /** Entries of `outbox` that waited for a connection. */
  private waiting = 0;
  private readonly inbox: Array<Incoming | null | Promise<Incoming | null>> = [];
  private draining = false;

  /** @param shared a connection shared with the other ports of one adapter (used by `createPostgresAdapter`). */
  constructor(options: PostgresOptions, shared?: PgConnection) {
    this.conn = shared ?? new PgConnection(parseOptions(options));
    this.log = childLogger(this.conn.logger, { port: 'bus' });
    this.capabilities = { orderedPerTopic: true, sharded: false, durable: false, maxPayloadBytes: this.conn.options.bus.maxPayloadBytes };
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  instrument(observer: AdapterObserver): void {
    this.observer = observer;
    this.conn.addObserver(observer);
  }

  onStatus(listener: (status: ConnectionStatus) => void): Unsubscribe {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async connect(): Promise<void> {
    if (this.closed) throw closedError('postgres bus');
    this.connecting ??= this.open().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    const o = this.conn.options.bus;
    this.setStatus('connecting');
    try {
      await this.conn.open();
    } catch (err) {
      this.setStatus('idle');
      throw mapPgError(err, 'bus connect', 'BUS_UNAVAILABLE');
    }
    const listener = new PgListener(this.conn, {
      what: 'bus',
      logger: this.log,
      count: (e, n) => this.count(e, n),
      reconnectMinDelayMs: o.reconnectMinDelayMs,
      reconnectMaxDelayMs: o.reconnectMaxDelayMs,
      pingIntervalMs: o.pingIntervalMs,
      onNotification: (channel, payload) => this.receive(channel, payload),
      onStatus: (s) => {
        if (this.closed || s === 'idle') return;
        this.setStatus(s);
        if (s === 'connected') void this.pump(); // what waited goes first
      },
      // Notifications are not durable anyway: do not wait for a WAL flush on every publish.
      sessionSetup: ['SET synchronous_commit TO off'],
    });
    this.listener = listener;
    try {
      await listener.start();
    } catch (err) {
      this.listener = undefined;
      await listener.stop();
      await this.conn.release();
      if (!this.closed) this.setStatus('idle');
      throw mapPgError(err, 'bus connect', 'BUS_UNAVAILABLE');
    }
    if (this.closed) return;
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
      (e) => this.count(e),
    );
    this.sweeper.start();
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    if (this.closed) throw closedError('postgres bus');
    if (!this.listener) throw notConnectedError('postgres bus');
    const max = this.capabilities.maxPayloadBytes;
    if (payload.byteLength > max) {
      throw new SwitchyardError('PAYLOAD_TOO_LARGE', `payload of ${payload.byteLength} bytes exceeds ${max}`, { source: SOURCE });
    }
    const out: Outgoing = { topic, channel: this.conn.names.channel('b', topic), payload };
    if (payload.byteLength < this.conn.options.bus.inlineLimitBytes) {
      // `s` keeps two equal payloads in one batch apart (NOTIFY folds duplicates within a transaction).
      const data = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64');
      const text = JSON.stringify({ t: topic, d: data, s: (this.seq = (this.seq + 1) % 1e9) });
      if (Buffer.byteLength(text) <= this.conn.options.bus.inlineLimitBytes) out.inline = text;
    }
    if (!this.listener.client) {
      this.buffer(out);
      return;
    }
    return new Promise<void>((resolve, reject) => {
      this.outbox.push({ out, settle: { resolve, reject }, buffered: false });
      void this.pump();
    });
  }

  /** Keep a publish while disconnected, up to `bus.bufferSize`. */
  private buffer(out: Outgoing): void {
    if (this.waiting >= this.conn.options.bus.bufferSize) {
      this.count('publish_dropped');
      throw new SwitchyardError('BUFFER_FULL', `bus disconnected and ${this.waiting} publishes already waiting`, { source: SOURCE });
    }
    this.outbox.push({ out, buffered: true });
    this.waiting++;
    this.count('publish_buffered');
  }

  /**
   * Send the outbox in order on the listen connection: runs of inline notifications go in one
   * statement (one commit), a large payload goes alone (row insert + NOTIFY in one statement).
   * When the connection drops mid-batch the batch goes back to the front, and its callers'
   * publishes resolve as buffered.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const listener = this.listener;
        const client = listener?.client;
        if (this.closed || !listener || !client || this.outbox.length === 0) return;
        const batch = this.takeBatch();
        try {
          await this.sendBatch(listener, client, batch);
        } catch (err) {
          if (this.closed) {
            for (const q of batch) q.settle?.reject(closedError('postgres bus'));
            return;
          }
          if (isConnectionError(err)) {
            this.outbox.unshift(...batch.map((q) => ({ ...q, settle: undefined, buffered: true })));
            for (const q of batch) {
              if (!q.buffered) {
                this.waiting++;
                this.count('publish_buffered');
              }
              q.settle?.resolve();
            }
            continue;
          }
          this.count('error');
          this.waiting -= batch.filter((q) => q.buffered).length;
          const mapped = mapPgError(err, 'publish', 'BUS_UNAVAILABLE');
          for (const q of batch) {
            if (q.settle) q.settle.reject(mapped);
            else {
              this.count('publish_dropped');
              this.log.warn({ topic: q.out.topic, err: mapped.message }, 'buffered publish failed');
            }
          }
          continue;
        }
        const flushed = batch.filter((q) => q.buffered).length;
        this.waiting -= flushed;
        if (flushed > 0) this.count('publish_flushed', flushed);
        for (const q of batch) q.settle?.resolve();
      }
    } finally {
      this.pumping = false;
    }
  }

  private takeBatch(): Queued[] {
    const first = this.outbox[0] as Queued;
    if (first.out.inline === undefined) return this.outbox.splice(0, 1);
    let n = 1;
    while (n < this.outbox.length && n < MAX_BATCH && (this.outbox[n] as Queued).out.inline !== undefined) n++;
    return this.outbox.splice(0, n);
  }

  private async sendBatch(listener: PgListener, client: pg.ClientBase, batch: Queued[]): Promise<void> {
    const first = (batch[0] as Queued).out;
    if (first.inline === undefined) {
      const t = this.conn.names.table('bus_payloads');
      await listener.run(
        client,
        `WITH ins AS (INSERT INTO ${t} (topic, payload) VALUES ($2, $3) RETURNING id)
         SELECT pg_notify($1, json_build_object('r', ins.id::text)::text) FROM ins`,
        [first.channel, first.topic, Buffer.from(first.payload.buffer, first.payload.byteOffset, first.payload.byteLength)],
      );
    } else if (batch.length === 1) {
      await listener.run(client, 'SELECT pg_notify($1, $2)', [first.channel, first.inline]);
    } else {
      await listener.run(client, 'SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS x(c, p)', [
        batch.map((q) => q.out.channel),
        batch.map((q) => q.out.inline as string),
      ]);
    }
  }

  async subscribe(topic: string, handler: BusHandler): Promise<Subscription> {
    if (this.closed) throw closedError('postgres bus');
    const listener = this.listener;
    if (!listener) throw notConnectedError('postgres bus');
    const entry: HandlerEntry = { handler };
    const channel = this.conn.names.channel('b', topic);
    let set = this.topics.get(topic);
    if (!set) this.topics.set(topic, (set = new Set()));
    set.add(entry);
    let topicsOnChannel = this.channelTopics.get(channel);
    if (!topicsOnChannel) this.channelTopics.set(channel, (topicsOnChannel = new Set()));
    topicsOnChannel.add(topic);
    let ready = this.channelReady.get(channel);
    if (!ready) {
      ready = listener.listen(channel).catch((err: unknown) => {
        this.count('error');
        this.log.warn({ topic, err: (err as Error).message }, 'LISTEN failed; it is retried on reconnect');
      });
      this.channelReady.set(channel, ready);
    }
    await ready;
    let active = true;
    return {
      topic,
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        await this.remove(topic, channel, entry);
      },
    };
  }

  private async remove(topic: string, channel: string, entry: HandlerEntry): Promise<void> {
    const set = this.topics.get(topic);
    if (!set?.delete(entry) || set.size > 0) return;
    this.topics.delete(topic);
    const onChannel = this.channelTopics.get(channel);
    onChannel?.delete(topic);
    if (onChannel && onChannel.size > 0) return;
    this.channelTopics.delete(channel);
    this.channelReady.delete(channel);
    if (!this.closed) await this.listener?.unlisten(channel);
  }

  /** A notification arrived: decode inline payloads, fetch referenced ones, deliver in arrival order. */
  private receive(channel: string, text: string): void {
    if (this.closed || !this.channelTopics.has(channel)) return;
    let msg: { t?: unknown; d?: unknown; r?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.count('malformed');
      return;
    }
    if (typeof msg.t === 'string' && typeof msg.d === 'string') {
      this.push({ channel, topic: msg.t, payload: new Uint8Array(Buffer.from(msg.d, 'base64')) });
    } else if (typeof msg.r === 'string' && /^\d+$/.test(msg.r)) {
      this.push(this.fetch(channel, msg.r));
    } else {
      this.count('malformed');
    }
  }

  private async fetch(channel: string, id: string): Promise<Incoming | null> {
    try {
      const r = await this.conn.query<{ topic: string; payload: Buffer }>(
        'bus fetch payload',
        `SELECT topic, payload FROM ${this.conn.names.table('bus_payloads')} WHERE id = $1::bigint`,
        [id],
        true,
      );
      const row = r.rows[0];
      if (!row) {
        this.count('publish_dropped');
        this.log.warn({ id }, 'large payload row is gone (swept before it was read?)');
        return null;
      }
      return { channel, topic: row.topic, payload: new Uint8Array(row.payload.buffer, row.payload.byteOffset, row.payload.byteLength) };
    } catch (err) {
      if (!this.closed) {
        this.count('error');
        this.log.warn({ id, err: (err as Error).message }, 'could not fetch a large payload');
      }
      return null;
    }
  }

  private push(item: Incoming | Promise<Incoming | null>): void {
    this.inbox.push(item);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.inbox.length > 0) {
        let item = this.inbox.shift();
        if (item instanceof Promise) item = await item;
        if (item) this.deliver(item);
      }
    } finally {
      this.draining = false;
    }
  }

  private deliver(msg: Incoming): void {
    if (this.closed) return;
    // The channel is a truncated hash: ignore topics that only share it.
    if (this.conn.names.channel('b', msg.topic) !== msg.channel) return;
    const set = this.topics.get(msg.topic);
    if (!set) return;
    for (const entry of [...set]) {
      if (this.closed || !set.has(entry)) continue;
      try {
        entry.handler(msg.payload, msg.topic);
      } catch (err) {
        this.count('error');
        this.log.error({ topic: msg.topic, err: (err as Error).message }, 'bus handler threw');
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    await this.sweeper?.stop();
    const hadListener = this.listener !== undefined;
    await this.listener?.stop();
    this.listener = undefined;
    this.topics.clear();
    this.channelTopics.clear();
    this.channelReady.clear();
    for (const q of this.outbox.splice(0)) q.settle?.reject(closedError('postgres bus'));
    this.waiting = 0;
    this.inbox.length = 0;
    if (hadListener) await this.conn.release();
    this.setStatus('closed');
    this.statusListeners.clear();
  }

  private count(event: AdapterEvent, n = 1): void {
    this.observer.count(SOURCE, event, n);
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this._status || (this._status === 'closed' && status !== 'closed')) return;
    this._status = status;
    for (const l of [...this.statusListeners]) {
      try {
        l(status);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'status listener threw');
      }
    }
  }
}
