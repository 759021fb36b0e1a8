import type { AdapterEvent, AdapterObserver, Logger } from '@switchyard/core';
import { childLogger, noopLogger, type SwitchyardError } from '@switchyard/core';
import { noopObserver } from '@switchyard/core/adapter';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsConnector } from './connection.js';
import { SOURCE, closedError, mapNatsError, notConnectedError } from './errors.js';
import { parseNatsOptions, type NatsAdapterConfig, type NatsAdapterOptions } from './options.js';

/** How a port names itself. */
export interface PortNames {
  /** The `port` field of its log lines. */
  port: string;
  /** What its CLOSED and NOT_CONNECTED errors call it, e.g. `nats bus`. */
  label: string;
  /** Prefix of the operation named in its mapped errors (`<scope> <operation> failed: …`); '' for none. */
  scope: string;
}

/**
 * The lifecycle every NATS port shares: options, connector and logger from the constructor (no
 * I/O), `instrument()`, a single-flight `connect()` that acquires the shared connection, runs the
 * port's own `open()` and gives the connection back if anything fails, an idempotent `close()`
 * that releases it, and the closed / not-connected checks of `ready()`. `R` is what `open()`
 * produces and every operation needs (a KV bucket, a stream manager, the connection itself).
 */
export abstract class NatsPort<R> {
  readonly name = 'nats';
  readonly config: NatsAdapterConfig;
  protected readonly connector: NatsConnector;
  protected readonly log: Logger;
  private observer: AdapterObserver = noopObserver;
  private resource: R | undefined;
  private connecting: Promise<void> | undefined;
  private isClosed = false;

  /** Pass options, or share a connector with the other ports (see `createNatsAdapter`). No I/O happens here. */
  protected constructor(options: NatsAdapterOptions | NatsAdapterConfig, connector: NatsConnector | undefined, private readonly names: PortNames) {
    this.config = parseNatsOptions(options);
    this.connector = connector ?? new NatsConnector(this.config);
    this.log = childLogger(this.config.logger ?? noopLogger, { adapter: SOURCE, port: names.port });
  }

  instrument(observer: AdapterObserver): void {
    this.observer = observer;
  }

  async connect(): Promise<void> {
    if (this.isClosed) throw closedError(this.names.label);
    if (this.resource !== undefined) return;
    this.connecting ??= (async () => {
      let acquired = false;
      try {
        const nc = await this.connector.acquire();
        acquired = true;
        if (this.isClosed) throw closedError(this.names.label);
        const resource = await this.open(nc);
        if (this.isClosed) throw closedError(this.names.label);
        this.resource = resource;
        this.onOpen(resource);
      } catch (err) {
        this.connecting = undefined;
        this.resource = undefined;
        if (acquired) await this.connector.release();
        this.onConnectFailed();
        throw mapNatsError(err, this.operation('connect'));
      }
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    const resource = this.resource;
    this.resource = undefined;
    await this.teardown(resource);
    if (resource !== undefined) await this.connector.release();
  }

  /** The port's own setup on the acquired connection (buckets, streams); what it returns is kept until `close()`. */
  protected abstract open(nc: NatsConnection): Promise<R> | R;

  /** Runs once `open()`'s result is kept, before `connect()` resolves. */
  protected onOpen(_resource: R): void {}

  /** Runs when `connect()` fails (after the connection was given back), before it rejects. Counts an error. */
  protected onConnectFailed(): void {
    this.count('error');
  }

  /** The port's own clean-up on the first `close()`, before the connection is given back; `resource` is absent if it never opened. */
  protected teardown(_resource: R | undefined): Promise<void> | void {}

  /** True once `close()` was called. */
  protected get closed(): boolean {
    return this.isClosed;
  }

  /** What `open()` produced, while the port is open. */
  protected get opened(): R | undefined {
    return this.resource;
  }

  /** What operations work on; throws CLOSED after `close()` and NOT_CONNECTED before `connect()`. */
  protected ready(): R {
    if (this.isClosed) throw closedError(this.names.label);
    if (this.resource === undefined) throw notConnectedError(this.names.label);
    return this.resource;
  }

  /** Run an operation; a failure counts an error and rejects as a SwitchyardError. */
  protected async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.fail(err, operation);
    }
  }

  /** Count an error and map it, naming the operation. */
  protected fail(err: unknown, operation: string): SwitchyardError {
    this.count('error');
    return mapNatsError(err, this.operation(operation));
  }

  /** Tell the observer; one that throws is logged, never breaks the port. */
  protected count(event: AdapterEvent, n = 1): void {
    try {
      this.observer.count(SOURCE, event, n);
    } catch (err) {
      this.log.warn({ err }, 'adapter observer threw');
    }
  }

  private operation(name: string): string {
    return this.names.scope ? `${this.names.scope} ${name}` : name;
  }
}
