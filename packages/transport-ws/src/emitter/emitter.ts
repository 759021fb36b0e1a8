import { childLogger, noopLogger, SwitchyardError, type Address, type Logger, type PublishOptions, type PublishResult } from '@switchyard/core';
import { EnvelopeCodec, parseConfig, prepareDelivery, randomId, topicFor } from '@switchyard/core/adapter';
import { emitterOptionsSchema, type EmitterOptions, type EmitterOptionsInput } from '../options.js';
import type { Priority } from '../protocol/server-frames.js';
import { addresses, Sender } from '../server/sender.js';
import type { AnyEvents, EventData, EventMap, EventName } from '../client/events.js';

/**
 * Publishes to the sockets of a Switchyard cluster without being a node: no sockets, no
 * registry, no subscriptions. It builds the same `deliver` envelopes a node publishes (signed
 * with the cluster key when one is set) and puts them on the cluster's bus, so every node
 * delivers them to its local sockets. For workers, cron jobs and serverless functions.
 */
export class Emitter<S extends EventMap = AnyEvents> {
  readonly options: EmitterOptions;
  /** The sender id (`from`) of the envelopes. */
  readonly id: string;
  readonly logger: Logger;
  private readonly codec: EnvelopeCodec;
  private connecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private _published = 0;

  constructor(input: EmitterOptionsInput) {
    this.options = parseConfig(emitterOptionsSchema, input, 'ws');
    this.id = this.options.id ?? `emitter-${randomId(9)}`;
    this.logger = childLogger(this.options.logger ?? noopLogger, { component: 'emitter', emitter: this.id });
    this.codec = new EnvelopeCodec({ nodeId: this.id, clusterKey: this.options.clusterKey });
  }

  /** Envelopes put on the bus so far. */
  get published(): number {
    return this._published;
  }

  /** Connect the bus (and history store). Optional: the first send connects. Idempotent. */
  connect(): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError());
    this.connecting ??= Promise.all([this.options.bus.connect(), this.options.history?.connect()]).then(
      () => undefined,
      (err: unknown) => {
        this.connecting = undefined; // let the next send try again
        throw err;
      },
    );
    return this.connecting;
  }

  /** Send to a room on every node: `emitter.to('lobby').except(id).send('chat', data, { history: true })`. */
  to(room: string): Sender<S> {
    const h = this.options.rooms.history;
    return new Sender<S>(this, addresses.room(room), typeof h === 'function' ? h(room) : h);
  }

  /** Send to every connection of a user, on every node. */
  toUser(userId: string): Sender<S> {
    return new Sender<S>(this, addresses.user(userId), false);
  }

  /** Send to one connection, wherever it is. */
  toConnection(connectionId: string): Sender<S> {
    return new Sender<S>(this, addresses.connection(connectionId), false);
  }

  /** Send to every connection of one node. */
  toNode(nodeId: string): Sender<S> {
    return new Sender<S>(this, addresses.node(nodeId), false);
  }

  /** Send to every connection of the cluster. */
  broadcast<E extends EventName<S>>(event: E, data: EventData<S, E>, options: { priority?: Priority } = {}): Promise<PublishResult> {
    return new Sender<S>(this, addresses.all(), false).send(event, data, options);
  }

  /**
   * @internal what `Sender.send` calls: append to history for a room when asked, then publish
   * one signed `deliver` envelope on the address's topic (exactly what a node's cluster does).
   */
  async publish(address: Address, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    await this.connect();
    const { envelope, result } = await prepareDelivery(this.codec, this.options.history, address, data, options);
    if (this.closing) throw this.closedError();
    const topic = topicFor(address);
    await this.options.bus.publish(topic, this.codec.encode(envelope, topic));
    this._published++;
    return result;
  }

  /** Close the bus and history store (unless `closePorts: false`). Idempotent; later sends reject with CLOSED. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.connecting?.catch(() => undefined);
      if (!this.options.closePorts) return;
      for (const p of [this.options.history, this.options.bus]) await p?.close().catch((err: unknown) => this.logger.warn({ err }, 'closing a port failed'));
    })();
    return this.closing;
  }

  private closedError(): SwitchyardError {
    return new SwitchyardError('CLOSED', 'the emitter is closed', { source: 'ws' });
  }
}

/**
 * A publish-only emitter on the cluster's bus (no I/O until the first send or `connect()`):
 * `const emitter = createEmitter({ bus, clusterKey }); await emitter.to('lobby').send('chat', data);`
 */
export function createEmitter<S extends EventMap = AnyEvents>(options: EmitterOptionsInput): Emitter<S> {
  return new Emitter<S>(options);
}
