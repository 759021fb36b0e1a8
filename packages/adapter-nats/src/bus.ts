import type { AdapterEvent, BusCapabilities, BusHandler, ConnectionStatus, MessageBus, Subscription, Unsubscribe } from '@switchyard/core';
import type { NatsConnection, Status, Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { NatsConnector } from './connection.js';
import { withDeadline } from './deadline.js';
import { natsError } from './errors.js';
import type { NatsAdapterConfig, NatsAdapterOptions } from './options.js';
import { NatsPort } from './port-base.js';
import { topicSubject } from './subjects.js';

/** NATS's default `max_payload`, used until the server tells us its own. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

interface TopicState {
  subject: string;
  sub: NatsSubscription;
  handlers: Set<BusHandler>;
}

/** Counters a test or dashboard can read without an observer. */
export interface NatsBusStats {
  buffered: number;
  dropped: number;
  flushed: number;
  disconnects: number;
  reconnects: number;
  /** Subscriptions found live again after each reconnect (summed over reconnects). */
  resubscribed: number;
  /** Subscriptions we had to recreate because the client had not restored them. */
  recreated: number;
  errors: number;
}

/**
 * The Switchyard bus on core NATS subjects. Each topic maps to one literal subject
 * `<prefix>.t.<base64url(topic)>`, so no topic name can act as a wildcard. A bus holds one
 * NATS subscription per topic it has local handlers for (interest-based: other topics never
 * reach this process) and counts handlers locally. nats.js re-sends every subscription after a
 * reconnect; the bus checks each one, recreates any that was lost, and counts them. Publishes
 * made while disconnected wait in a bounded buffer (count and bytes), flushed in order on
 * reconnect; past the bound publish rejects with BUFFER_FULL.
 */
export class NatsBus extends NatsPort<NatsConnection> implements MessageBus {
  readonly stats: NatsBusStats = { buffered: 0, dropped: 0, flushed: 0, disconnects: 0, reconnects: 0, resubscribed: 0, recreated: 0, errors: 0 };
  private readonly topics = new Map<string, TopicState>();
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>();
  private readonly buffer: Array<{ subject: string; payload: Uint8Array }> = [];
  private bufferBytes = 0;
  private statusIter: (AsyncIterable<Status> & { stop?: () => void }) | undefined;
  private _status: ConnectionStatus = 'idle';

  /** Pass options, or share a connector with the other ports (see `createNatsAdapter`). No I/O happens here. */
  constructor(options: NatsAdapterOptions | NatsAdapterConfig, connector?: NatsConnector) {
    super(options, connector, { port: 'bus', label: 'nats bus', scope: '' });
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  get capabilities(): BusCapabilities {
    return {
      orderedPerTopic: true,
      sharded: false,
      durable: false,
      maxPayloadBytes: this.nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD,
    };
  }

  /** NATS subscriptions this bus holds: one per topic with local handlers, however many handlers. */
  get natsSubscriptions(): number {
    return this.topics.size;
  }

  /** Publishes waiting in the disconnected buffer. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Also reports the status: `connecting` until it resolves, then `connected` (or `idle` when it fails). */
  override connect(): Promise<void> {
    if (!this.closed && !this.nc) this.setStatus('connecting');
    return super.connect();
  }

  /** The bus needs nothing but the connection. */
  protected override open(nc: NatsConnection): NatsConnection {
    return nc;
  }

  protected override onOpen(nc: NatsConnection): void {
    this.watchStatus(nc);
    this.setStatus(nc.isClosed() ? 'closed' : 'connected');
    this.log.debug({ server: nc.getServer(), maxPayload: nc.info?.max_payload }, 'nats bus connected');
  }

  protected override onConnectFailed(): void {
    if (!this.closed) this.setStatus('idle');
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    const nc = this.ready();
    const max = this.capabilities.maxPayloadBytes;
    if (payload.byteLength > max) {
      throw natsError('PAYLOAD_TOO_LARGE', `payload of ${payload.byteLength} bytes exceeds the server's max_payload of ${max}`);
    }
    const subject = topicSubject(this.config.prefix, topic);
    if (this._status !== 'connected') {
      this.bufferPublish(subject, payload);
      return;
    }
    try {
      nc.publish(subject, payload);
    } catch (err) {
      throw this.fail(err, 'publish');
    }
  }

  async subscribe(topic: string, handler: BusHandler): Promise<Subscription> {
    const nc = this.ready();
    // Each subscribe gets its own wrapper, so one handler function subscribed twice runs twice.
    const entry: BusHandler = (payload, t) => handler(payload, t);
    let state = this.topics.get(topic);
    if (!state) {
      const subject = topicSubject(this.config.prefix, topic);
      state = { subject, sub: this.natsSubscribe(nc, topic, subject), handlers: new Set() };
      this.topics.set(topic, state);
    }
    state.handlers.add(entry);
    await this.confirm(nc);
    let active = true;
    return {
      topic,
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        const s = this.topics.get(topic);
        if (!s || !s.handlers.delete(entry) || s.handlers.size > 0) return;
        this.topics.delete(topic);
        if (!this.closed && this.nc && !this.nc.isClosed()) {
          s.sub.unsubscribe();
          await this.confirm(this.nc);
        }
      },
    };
  }

  onStatus(listener: (status: ConnectionStatus) => void): Unsubscribe {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Also reports `closed` to status listeners, then forgets them. */
  override async close(): Promise<void> {
    if (this.closed) return;
    await super.close();
    this.setStatus('closed');
    this.statusListeners.clear();
  }

  protected override async teardown(nc: NatsConnection | undefined): Promise<void> {
    this.statusIter?.stop?.();
    this.statusIter = undefined;
    for (const state of this.topics.values()) {
      if (nc && !nc.isClosed()) state.sub.unsubscribe();
    }
    this.topics.clear();
    if (this.buffer.length > 0) {
      this.count('publish_dropped', this.buffer.length);
      this.stats.dropped += this.buffer.length;
      this.log.warn({ dropped: this.buffer.length }, 'nats bus closed with buffered publishes; they are dropped');
    }
    this.buffer.length = 0;
    this.bufferBytes = 0;
    // A borrowed connection stays open: make our UNSUBs reach the server before we let go.
    if (nc && !this.connector.owned && !nc.isClosed() && this._status === 'connected') await this.roundTrip(nc).catch(() => undefined);
  }

  protected override ready(): NatsConnection {
    const nc = super.ready();
    if (nc.isClosed()) throw natsError('BUS_UNAVAILABLE', 'the NATS connection was closed');
    return nc;
  }

  private get nc(): NatsConnection | undefined {
    return this.opened;
  }

  private natsSubscribe(nc: NatsConnection, topic: string, subject: string): NatsSubscription {
    return nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          this.count('error');
          this.log.warn({ err, topic }, 'nats subscription error');
          return;
        }
        const state = this.topics.get(topic);
        if (this.closed || !state) return;
        for (const h of [...state.handlers]) {
          try {
            h(msg.data, topic);
          } catch (e) {
            this.count('error');
            this.log.error({ err: e, topic }, 'bus handler threw');
          }
        }
      },
    });
  }

  /**
   * Round trip so the server has processed our SUB/UNSUB before we return; skipped while
   * disconnected. A server that stays silent past `requestTimeoutMs` does not hold the caller:
   * the subscription stands, and the client re-sends it when the stale connection is replaced.
   */
  private async confirm(nc: NatsConnection): Promise<void> {
    if (this._status !== 'connected') return;
    try {
      await this.roundTrip(nc);
    } catch (err) {
      // The connection dropped or went silent meanwhile: the client re-sends subscriptions on reconnect.
      this.log.debug({ err }, 'flush after (un)subscribe failed');
    }
  }

  /** PING/PONG with the server, bounded by `requestTimeoutMs` (nats.js' `flush()` has no deadline of its own). */
  private roundTrip(nc: NatsConnection): Promise<void> {
    return withDeadline(nc.flush(), this.config.requestTimeoutMs, 'nats bus flush');
  }

  private bufferPublish(subject: string, payload: Uint8Array): void {
    const { publishBufferSize, publishBufferBytes } = this.config;
    if (this.buffer.length >= publishBufferSize || this.bufferBytes + payload.byteLength > publishBufferBytes) {
      this.stats.dropped++;
      this.count('publish_dropped');
      throw natsError('BUFFER_FULL', `NATS is unreachable and the publish buffer is full (${this.buffer.length} messages, ${this.bufferBytes} bytes)`, undefined, {
        size: publishBufferSize,
        bytes: publishBufferBytes,
      });
    }
    // Copy: the caller may reuse its buffer before we flush.
    this.buffer.push({ subject, payload: payload.slice() });
    this.bufferBytes += payload.byteLength;
    this.stats.buffered++;
    this.count('publish_buffered');
  }

  private flushBuffer(nc: NatsConnection): void {
    const n = this.buffer.length;
    if (n === 0) return;
    let sent = 0;
    try {
      for (const { subject, payload } of this.buffer) {
        nc.publish(subject, payload);
        sent++;
      }
    } catch (err) {
      this.count('error');
      this.log.error({ err, sent, pending: n - sent }, 'flushing buffered publishes failed');
    }
    this.buffer.splice(0, sent);
    this.bufferBytes = this.buffer.reduce((sum, m) => sum + m.payload.byteLength, 0);
    this.stats.flushed += sent;
    this.count('publish_flushed', sent);
    this.log.info({ flushed: sent }, 'flushed publishes buffered while disconnected');
  }

  private watchStatus(nc: NatsConnection): void {
    const iter = nc.status() as AsyncIterable<Status> & { stop?: () => void };
    this.statusIter = iter;
    void (async () => {
      for await (const s of iter) {
        if (this.closed) break;
        this.onNatsStatus(nc, s);
      }
    })().catch((err) => this.log.error({ err }, 'nats status loop failed'));
    void nc.closed().then((err) => {
      if (this.closed || this.nc !== nc) return;
      this.log.error({ err }, 'the NATS connection closed');
      this.setStatus('closed');
    });
  }

  private onNatsStatus(nc: NatsConnection, s: Status): void {
    switch (s.type) {
      case 'disconnect':
        this.stats.disconnects++;
        this.count('disconnect');
        this.log.warn({ server: s.server }, 'disconnected from NATS');
        this.setStatus('reconnecting');
        break;
      case 'reconnecting':
        this.setStatus('reconnecting');
        break;
      case 'staleConnection':
        // `maxPingOut` PINGs went unanswered: nats.js drops the connection next ('disconnect' follows).
        this.log.warn({ pingIntervalMs: this.config.pingIntervalMs, maxPingOut: this.config.maxPingOut }, 'NATS server went silent; reconnecting');
        this.setStatus('reconnecting');
        break;
      case 'reconnect':
        this.stats.reconnects++;
        this.count('reconnect');
        this.restoreSubscriptions(nc);
        this.setStatus('connected');
        this.flushBuffer(nc);
        this.log.info({ server: s.server, subscriptions: this.topics.size }, 'reconnected to NATS');
        break;
      case 'error':
        this.count('error');
        this.log.error({ err: s.error }, 'NATS connection error');
        break;
      default:
        break;
    }
  }

  /** nats.js re-sends SUB for every live subscription when it reconnects; check that, recreate any it lost, count them. */
  private restoreSubscriptions(nc: NatsConnection): void {
    let live = 0;
    for (const [topic, state] of this.topics) {
      if (state.sub.isClosed()) {
        state.sub = this.natsSubscribe(nc, topic, state.subject);
        this.stats.recreated++;
      }
      live++;
    }
    this.stats.resubscribed += live;
    if (live > 0) this.count('resubscribe', live);
  }

  protected override count(event: AdapterEvent, n = 1): void {
    if (event === 'error') this.stats.errors += n;
    super.count(event, n);
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this._status) return;
    this._status = status;
    for (const l of [...this.statusListeners]) {
      try {
        l(status);
      } catch (err) {
        this.log.warn({ err }, 'status listener threw');
      }
    }
  }
}
