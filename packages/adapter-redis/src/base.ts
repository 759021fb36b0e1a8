import { childLogger, noopLogger, type AdapterObserver, type Logger } from '@switchyard/core';
import { noopObserver } from '@switchyard/core/adapter';
import { createClient, ensureReady, releaseClient, type ClientHandle } from './connection.js';
import { withDeadline } from './deadline.js';
import { SOURCE, closedError, mapRedisError, redisError } from './errors.js';
import { LivenessCheck } from './liveness.js';
import { parseRedisOptions, type RedisAdapterConfig, type RedisAdapterOptions, type RedisClient } from './options.js';

/**
 * Lifecycle shared by the registry, session store and history: options validated in the
 * constructor (no I/O), one command client opened by `connect()`, released by `close()`
 * unless the caller owns it. Every operation has a deadline (`commandTimeoutMs`, TIMEOUT past
 * it), and the client is probed for liveness every `healthCheckIntervalMs` once connected.
 */
export abstract class RedisPort {
  readonly name = SOURCE;
  protected readonly cfg: RedisAdapterConfig;
  protected readonly log: Logger;
  protected observer: AdapterObserver = noopObserver;
  protected closed = false;
  private handle: ClientHandle | undefined;
  private opening: Promise<void> | undefined;
  private liveness: LivenessCheck | undefined;
  private readonly onError = (err: Error) => {
    this.observer.count(SOURCE, 'error');
    this.log.debug({ err: err.message }, 'redis client error');
  };

  constructor(options: RedisAdapterOptions | RedisAdapterConfig, protected readonly what: string) {
    this.cfg = parseRedisOptions(options);
    this.log = childLogger(this.cfg.logger ?? noopLogger, { component: `redis-${what.replace(/^redis /, '').replace(/ /g, '-')}` });
  }

  /** Report errors and reconnects to `observer` (metrics). */
  instrument(observer: AdapterObserver): void {
    this.observer = observer;
  }

  async connect(): Promise<void> {
    this.check();
    this.opening ??= this.open();
    try {
      await this.opening;
    } catch (err) {
      this.opening = undefined;
      throw err;
    }
  }

  private async open(): Promise<void> {
    if (!this.handle) {
      this.handle = createClient(this.cfg, 'command');
      this.handle.client.on('error', this.onError);
    }
    try {
      await ensureReady(this.handle.client, this.cfg.connectTimeoutMs);
    } catch (err) {
      const h = this.handle;
      this.handle = undefined;
      h.client.off('error', this.onError);
      await releaseClient(h);
      throw err;
    }
    await this.afterConnect(this.handle.client);
    this.liveness = this.watchLiveness(this.handle.client, 'command');
  }

  /** Probe `client` for a silent peer (see LivenessCheck); stopped by `close()` via the returned check. */
  protected watchLiveness(client: RedisClient, role: string, onSilent?: () => void): LivenessCheck | undefined {
    if (this.closed) return undefined;
    const check = new LivenessCheck(client, {
      intervalMs: this.cfg.healthCheckIntervalMs,
      timeoutMs: this.cfg.commandTimeoutMs,
      onSilent: (reason) => {
        this.observer.count(SOURCE, 'disconnect');
        this.log.warn({ role, reason }, 'redis connection went silent; reconnecting');
        onSilent?.();
      },
    });
    check.start();
    return check;
  }

  /** Hook for ports that need more than the command client (the registry's watcher). */
  protected async afterConnect(_client: RedisClient): Promise<void> {}

  /** Hook run by `close()` before the command client is released. */
  protected async beforeClose(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.opening?.catch(() => undefined);
    } finally {
      this.liveness?.stop();
      this.liveness = undefined;
      await this.beforeClose();
      const h = this.handle;
      this.handle = undefined;
      if (h) {
        await releaseClient(h);
        h.client.off('error', this.onError);
      }
    }
  }

  protected check(): void {
    if (this.closed) throw closedError(this.what);
  }

  /** The command client; throws CLOSED after close and NOT_CONNECTED before connect. */
  protected get client(): RedisClient {
    this.check();
    if (!this.handle) throw redisError('NOT_CONNECTED', `${this.what}: call connect() first`);
    return this.handle.client;
  }

  /** Run an operation with the closed check, a deadline (`commandTimeoutMs`, TIMEOUT) and error mapping. */
  protected async op<T>(operation: string, fn: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = this.client;
    try {
      return await withDeadline(fn(client), this.cfg.commandTimeoutMs, `${this.what} ${operation}`);
    } catch (err) {
      if (this.closed) throw closedError(this.what);
      throw mapRedisError(err, `${this.what} ${operation}`);
    }
  }
}
