import { BusRuntime, type BusDriver, type BusDriverEvents } from '@switchyard/core/adapter';
import { childLogger, noopLogger, type AdapterEvent, type BusCapabilities, type Logger, type SwitchyardError } from '@switchyard/core';
import type { NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import { countStat, emptyBusStats, type NatsBusStats } from './bus-stats.js';
import { NatsConnector } from './connection.js';
import { withDeadline } from './deadline.js';
import { SOURCE, mapNatsError } from './errors.js';
import { parseNatsOptions, type NatsAdapterConfig, type NatsAdapterOptions } from './options.js';
import { StatusWatch } from './status-watch.js';
import { topicSubject } from './names.js';

export type { NatsBusStats } from './bus-stats.js';

/** NATS's default `max_payload`, used until the server tells us its own. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Core NATS under the bus runtime: one subscription per topic, which nats.js keeps across reconnects. */
class NatsBusDriver implements BusDriver {
  readonly name = SOURCE;
  readonly label = 'nats bus';
  readonly keepsListens = true;
  readonly subs = new Map<string, NatsSubscription>();
  private nc: NatsConnection | undefined;
  private events: BusDriverEvents | undefined;
  private watch: StatusWatch | undefined;

  constructor(
    private readonly config: NatsAdapterConfig,
    private readonly connector: NatsConnector,
    private readonly stats: NatsBusStats,
    private readonly log: Logger,
  ) {}

  get capabilities(): BusCapabilities {
    return { orderedPerTopic: true, sharded: false, durable: false, maxPayloadBytes: this.nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD };
  }

  async open(events: BusDriverEvents): Promise<void> {
    this.events = events;
    try {
      this.nc = await this.connector.acquire();
    } catch (err) {
      events.count('error');
      throw mapNatsError(err, 'connect');
    }
    this.watch = new StatusWatch(this.nc, events, this.log);
    this.log.debug({ server: this.nc.getServer(), maxPayload: this.nc.info?.max_payload }, 'nats bus connected');
  }

  send(topic: string, payload: Uint8Array): void {
    (this.nc as NatsConnection).publish(topicSubject(this.config.prefix, topic), payload);
  }

  /** nats.js re-sends every live subscription on reconnect; one it lost is recreated here. */
  async listen(topic: string): Promise<void> {
    const nc = this.nc as NatsConnection;
    const known = this.subs.get(topic);
    if (known && !known.isClosed()) return;
    const events = this.events as BusDriverEvents;
    const sub = nc.subscribe(topicSubject(this.config.prefix, topic), {
      callback: (err, msg) => {
        if (!err) return events.message(topic, msg.data);
        events.count('error');
        this.log.warn({ err, topic }, 'nats subscription error');
      },
    });
    this.subs.set(topic, sub);
    if (known) this.stats.recreated++;
    else await this.confirm(nc);
  }

  async unlisten(topic: string): Promise<void> {
    const sub = this.subs.get(topic);
    this.subs.delete(topic);
    if (!sub || !this.nc || this.nc.isClosed()) return;
    sub.unsubscribe();
    await this.confirm(this.nc);
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.watch?.stop();
    if (nc && !nc.isClosed()) for (const sub of this.subs.values()) sub.unsubscribe();
    this.subs.clear();
    // A borrowed connection stays open: make our UNSUBs reach the server before we let go.
    if (nc && !this.connector.owned && !nc.isClosed() && this.watch?.up) await this.roundTrip(nc).catch(() => undefined);
    if (nc) await this.connector.release();
  }

  mapError(err: unknown, what: string): SwitchyardError {
    this.events?.count('error');
    return mapNatsError(err, what);
  }

  /**
   * Round trip so the server has processed our SUB/UNSUB before we return; skipped while
   * disconnected. A server silent past `requestTimeoutMs` does not hold the caller: the
   * subscription stands, and the client re-sends it when the stale connection is replaced.
   */
  private async confirm(nc: NatsConnection): Promise<void> {
    if (!this.watch?.up) return;
    await this.roundTrip(nc).catch((err: unknown) => this.log.debug({ err }, 'flush after (un)subscribe failed'));
  }

  /** PING/PONG with the server, bounded by `requestTimeoutMs` (nats.js' `flush()` has no deadline of its own). */
  private roundTrip(nc: NatsConnection): Promise<void> {
    return withDeadline(nc.flush(), this.config.requestTimeoutMs, 'nats bus flush');
  }
}

/**
 * The Switchyard bus on core NATS subjects. Each topic maps to one literal subject
 * `<prefix>.t.<base64url(topic)>`, so no topic name can act as a wildcard. A bus holds one
 * NATS subscription per topic it has local handlers for (interest-based: other topics never
 * reach this process). nats.js re-sends every subscription after a reconnect; the bus checks
 * each one, recreates any that was lost, and counts them. Publishes made while disconnected
 * wait in a bounded buffer (count and bytes), flushed in order on reconnect; past the bound
 * publish rejects with BUFFER_FULL.
 */
export class NatsBus extends BusRuntime {
  readonly stats: NatsBusStats;
  readonly config: NatsAdapterConfig;
  private readonly subs: Map<string, NatsSubscription>;

  /** Pass options, or share a connector with the other ports (see `createNatsAdapter`). No I/O happens here. */
  constructor(options: NatsAdapterOptions | NatsAdapterConfig, connector?: NatsConnector) {
    const config = parseNatsOptions(options);
    const log = childLogger(config.logger ?? noopLogger, { adapter: SOURCE, port: 'bus' });
    const stats = emptyBusStats();
    const driver = new NatsBusDriver(config, connector ?? new NatsConnector(config), stats, log);
    super(driver, { bufferSize: config.publishBufferSize, bufferBytes: config.publishBufferBytes, logger: log });
    this.stats = stats;
    this.config = config;
    this.subs = driver.subs;
  }

  /** NATS subscriptions this bus holds: one per topic with local handlers, however many handlers. */
  get natsSubscriptions(): number {
    return this.subs.size;
  }

  protected override count(event: AdapterEvent, n = 1): void {
    countStat(this.stats, event, n);
    super.count(event, n);
  }
}
