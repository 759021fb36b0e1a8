import type { AdapterEvent, ConnectionStatus, Logger } from '@switchyard/core';
import type pg from 'pg';
import type { DedicatedClient, PgConnection } from './connection.js';
import { isTimeoutError } from './errors.js';
import { quoteIdent } from './names.js';

export interface ListenerOptions {
  what: string;
  logger: Logger;
  count: (event: AdapterEvent, n?: number) => void;
  reconnectMinDelayMs: number;
  reconnectMaxDelayMs: number;
  pingIntervalMs: number;
  onNotification: (channel: string, payload: string) => void;
  onStatus: (status: ConnectionStatus) => void;
  /** Runs on a fresh connection after every LISTEN is back, before the status turns `connected` (flush buffers here). */
  onReady?: (client: pg.ClientBase) => void;
  /** Statements run on every new connection before LISTEN (fixed SQL, no configuration in it). */
  sessionSetup?: string[];
}

/**
 * A dedicated connection that LISTENs on a set of channels and comes back by itself: when the
 * connection drops it reconnects with a doubling, jittered delay, LISTENs every channel again
 * (counted as `resubscribe`) and reports `reconnect`. Channel names are validated identifiers.
 *
 * A server that goes silent without closing the connection is treated the same way: every
 * statement on the connection has the deadline `queryTimeoutMs`, and a `SELECT 1` every
 * `pingIntervalMs` must answer within `bus.pingTimeoutMs`; the first one that does not drops the
 * connection (counted as `disconnect`, status `reconnecting`) and the reconnect above begins.
 */
export class PgListener {
  private current: DedicatedClient | undefined;
  private readonly channels = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private delay: number;
  private stopped = false;
  private everConnected = false;
  private _status: ConnectionStatus = 'idle';
  /** Tail of the serial queue of statements on the current client (pg 9 drops client-side queueing). */
  private tail: Promise<unknown> = Promise.resolve();
  private tailClient: pg.ClientBase | undefined;

  constructor(
    private readonly conn: PgConnection,
    private readonly o: ListenerOptions,
  ) {
    this.delay = o.reconnectMinDelayMs;
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  /** The live client, when connected. */
  get client(): pg.ClientBase | undefined {
    return this._status === 'connected' ? this.current?.client : undefined;
  }

  /** First connection. Rejects when it cannot be made (later losses are retried without end). */
  async start(): Promise<void> {
    this.setStatus('connecting');
    try {
      await this.attempt();
    } catch (err) {
      clearTimeout(this.timer);
      this.timer = undefined;
      if (!this.stopped) this.setStatus('idle');
      throw err;
    }
  }

  /**
   * Run `sql` on `client` after every statement queued before it on that client, so statements
   * reach the server in call order without relying on pg's deprecated internal queue. A statement
   * the server does not answer within `timeoutMs` (default `queryTimeoutMs`) rejects with pg's
   * "Query read timeout" (a connection error) and the connection is dropped and replaced.
   */
  run<R extends pg.QueryResultRow = pg.QueryResultRow>(
    client: pg.ClientBase,
    sql: string,
    params: unknown[] = [],
    timeoutMs = this.conn.options.queryTimeoutMs,
  ): Promise<pg.QueryResult<R>> {
    if (this.tailClient !== client) {
      this.tailClient = client;
      this.tail = Promise.resolve();
    }
    const send = () =>
      client.query<R>(this.conn.statement(sql, params, timeoutMs)).catch((err: unknown) => {
        if (isTimeoutError(err)) this.lost(client, err);
        throw err;
      });
    const p = this.tail.then(send, send);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** LISTEN on `channel` (now when connected, else on the next connection). */
  async listen(channel: string): Promise<void> {
    if (this.channels.has(channel)) return;
    this.channels.add(channel);
    const client = this.client;
    if (client) await this.run(client, `LISTEN ${quoteIdent(channel)}`).catch((err: unknown) => this.lost(client, err));
  }

  /** UNLISTEN `channel`. */
  async unlisten(channel: string): Promise<void> {
    if (!this.channels.delete(channel)) return;
    const client = this.client;
    if (client) await this.run(client, `UNLISTEN ${quoteIdent(channel)}`).catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    this.timer = undefined;
    this.pinger = undefined;
    const cur = this.current;
    this.current = undefined;
    if (cur) {
      cur.client.removeAllListeners('notification');
      cur.dispose();
    }
    this.channels.clear();
    this.setStatus('closed');
  }

  private async attempt(): Promise<void> {
    const box: { dedicated?: DedicatedClient } = {};
    const dedicated = await this.conn.dedicatedClient((err) => {
      if (box.dedicated) this.lost(box.dedicated.client, err);
    });
    box.dedicated = dedicated;
    if (this.stopped) {
      dedicated.dispose();
      return;
    }
    const { client } = dedicated;
    this.current = dedicated;
    client.on('notification', (msg: pg.Notification) => {
      if (this.current?.client === client) this.o.onNotification(msg.channel, msg.payload ?? '');
    });
    try {
      for (const stmt of this.o.sessionSetup ?? []) await this.run(client, stmt);
      const channels = [...this.channels];
      for (const ch of channels) await this.run(client, `LISTEN ${quoteIdent(ch)}`);
      if (this.everConnected && channels.length > 0) this.o.count('resubscribe', channels.length);
    } catch (err) {
      this.current = undefined;
      dedicated.dispose();
      throw err;
    }
    if (this.stopped || this.current !== dedicated) return;
    this.o.onReady?.(client);
    if (this.everConnected) {
      this.o.count('reconnect');
      this.o.logger.info({ what: this.o.what, channels: this.channels.size }, 'postgres listen connection restored');
    }
    this.everConnected = true;
    this.delay = this.o.reconnectMinDelayMs;
    this.setStatus('connected');
    if (this.o.pingIntervalMs > 0) {
      clearInterval(this.pinger);
      let probing = false;
      this.pinger = setInterval(() => {
        if (probing) return;
        probing = true;
        void this.run(client, 'SELECT 1', [], this.conn.options.bus.pingTimeoutMs)
          .catch((err: unknown) => this.lost(client, err))
          .finally(() => (probing = false));
      }, this.o.pingIntervalMs);
      this.pinger.unref();
    }
  }

  /** The connection `client` failed: drop it and schedule a reconnect (once per client). */
  private lost(client: pg.ClientBase, err: unknown): void {
    if (this.stopped || this.current?.client !== client) return;
    const cur = this.current;
    this.current = undefined;
    clearInterval(this.pinger);
    this.pinger = undefined;
    cur.client.removeAllListeners('notification');
    cur.dispose();
    this.o.count('disconnect');
    this.o.logger.warn({ what: this.o.what, err: err instanceof Error ? err.message : String(err) }, 'postgres listen connection lost');
    this.setStatus('reconnecting');
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    const jitter = 0.5 + Math.random() / 2;
    const wait = Math.round(this.delay * jitter);
    this.delay = Math.min(this.delay * 2, this.o.reconnectMaxDelayMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.attempt().catch((err: unknown) => {
        if (this.stopped) return;
        this.o.logger.debug({ what: this.o.what, err: err instanceof Error ? err.message : String(err) }, 'postgres reconnect failed');
        this.schedule();
      });
    }, wait);
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this._status) return;
    this._status = status;
    this.o.onStatus(status);
  }
}
