import { childLogger, type AdapterEvent, type AdapterObserver, type Logger } from '@switchyard/core';
import { noopObserver } from '@switchyard/core/adapter';
import { PgConnection } from './connection.js';
import { SOURCE, closedError, mapPgError, notConnectedError } from './errors.js';
import { parseOptions, type PostgresAdapterOptions } from './options.js';
import { Sweeper, type SweepTask } from './sweeper.js';

/**
 * What the session store, registry and history share: the connection (own or shared), the
 * open/closed state, the observer and a sweeper started by `connect()` and stopped by `close()`.
 */
export abstract class PgPort {
  readonly name = SOURCE;
  protected readonly conn: PgConnection;
  protected readonly log: Logger;
  protected observer: AdapterObserver = noopObserver;
  private sweeper: Sweeper | undefined;
  private connecting: Promise<void> | undefined;
  private opened = false;
  protected closed = false;

  protected constructor(
    private readonly what: string,
    options: PostgresAdapterOptions,
    shared: PgConnection | undefined,
  ) {
    this.conn = shared ?? new PgConnection(parseOptions(options));
    this.log = childLogger(this.conn.logger, { port: what });
  }

  instrument(observer: AdapterObserver): void {
    this.observer = observer;
    this.conn.addObserver(observer);
  }

  /** Cleanup statements this port runs on its sweeper. */
  protected abstract sweepTasks(): SweepTask[];

  /** Extra work after the pool is open (e.g. LISTEN). */
  protected async afterOpen(): Promise<void> {}

  /** Extra work before the pool is released. */
  protected async beforeRelease(): Promise<void> {}

  async connect(): Promise<void> {
    if (this.closed) throw closedError(`postgres ${this.what}`);
    this.connecting ??= (async () => {
      await this.conn.open();
      this.opened = true;
      if (this.closed) return;
      await this.afterOpen();
      this.sweeper = new Sweeper(this.conn, this.sweepTasks(), this.log, (e) => this.count(e));
      this.sweeper.start();
    })().catch(async (err: unknown) => {
      this.connecting = undefined;
      if (this.opened) {
        this.opened = false;
        await this.conn.release();
      }
      throw mapPgError(err, `${this.what} connect`);
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    await this.sweeper?.stop();
    await this.beforeRelease();
    if (this.opened) {
      this.opened = false;
      await this.conn.release();
    }
  }

  /** Delete expired rows now (what the sweeper does on its interval); resolves with the rows deleted. */
  async sweep(): Promise<number> {
    this.check();
    return this.sweeper ? this.sweeper.sweep() : 0;
  }

  /** Throw CLOSED after close(), NOT_CONNECTED before connect(). */
  protected check(): void {
    if (this.closed) throw closedError(`postgres ${this.what}`);
    if (!this.opened) throw notConnectedError(`postgres ${this.what}`);
  }

  protected count(event: AdapterEvent, n = 1): void {
    this.observer.count(SOURCE, event, n);
  }

  protected table(name: Parameters<PgConnection['names']['table']>[0]): string {
    return this.conn.names.table(name);
  }
}
