import {
  childLogger,
  noopLogger,
  noopObserver,
  type AdapterObserver,
  type BusCapabilities,
  type BusHandler,
  type ConnectionStatus,
  type Logger,
  type MessageBus,
  type Subscription,
  type Unsubscribe,
} from '@switchyard/core';
import type { Cluster, Redis } from 'ioredis';
import { createClient, ensureReady, releaseClient, type ClientHandle } from './connection.js';
import { withDeadline } from './deadline.js';
import { SOURCE, closedError, mapRedisError, redisError } from './errors.js';
import { KeySpace } from './keys.js';
import { LivenessCheck } from './liveness.js';
import { parseRedisOptions, type RedisAdapterConfig, type RedisAdapterOptions, type RedisClient } from './options.js';

interface Entry {
  handler: BusHandler;
}

interface Pending {
  channel: string;
  payload: Buffer;
}

const FLUSH_BATCH = 500;

/**
 * The Redis message bus. One channel per Switchyard topic (`<prefix>t:<topic>`), subscribed
 * only while this instance has a handler for it (reference counted). In `sharded` mode it uses
 * SSUBSCRIBE/SPUBLISH on a Redis Cluster, so each topic lives on one shard.
 *
 * Publishes go out auto-pipelined. While Redis is unreachable they wait in a bounded buffer
 * (BUFFER_FULL past `publishBufferSize`) and are flushed in order once the connection, and this
 * instance's own subscriptions, are back. After any reconnect every topic with a handler is
 * subscribed again explicitly (ioredis' own auto-resubscribe is off on our clients).
 *
 * Every call has a deadline (`commandTimeoutMs`, TIMEOUT past it), and both connections are
 * probed with a PING every `healthCheckIntervalMs`: one whose peer went silent is marked down
 * (status `reconnecting`, publishes buffered) and reconnected, and the paths above run again.
 */
export class RedisBus implements MessageBus {
  readonly name = SOURCE;
  readonly capabilities: BusCapabilities;
  private readonly cfg: RedisAdapterConfig;
  private readonly keys: KeySpace;
  private readonly log: Logger;
  private readonly sharded: boolean;
  private readonly topicPrefix: string;
  private observer: AdapterObserver = noopObserver;
  private pub: ClientHandle | undefined;
  private sub: ClientHandle | undefined;
  /** Handlers per topic: what this instance wants. */
  private readonly topics = new Map<string, Set<Entry>>();
  /** Topics subscribed on the current subscriber connection. */
  private readonly subscribed = new Set<string>();
  private readonly locks = new Map<string, Promise<void>>();
  private readonly pending: Pending[] = [];
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>();
  private readonly detachers: Array<() => void> = [];
  private readonly checks: LivenessCheck[] = [];
  /** The publisher has no ioredis `commandTimeout` of ours (a caller's client, or a Cluster): bound publishes here. */
  private publishDeadline = false;
  private _status: ConnectionStatus = 'idle';
  private opening: Promise<void> | undefined;
  private everConnected = false;
  private closed = false;
  private pubUp = false;
  private subUp = false;
  private subRestored = false;
  private flushing = false;
  private resubscribing: Promise<void> | undefined;

  constructor(options: RedisAdapterOptions | RedisAdapterConfig = {}) {
    this.cfg = parseRedisOptions(options);
    this.keys = new KeySpace(this.cfg.keyPrefix);
    this.topicPrefix = this.keys.topic('');
    this.sharded = this.cfg.mode === 'sharded';
    this.log = childLogger(this.cfg.logger ?? noopLogger, { component: 'redis-bus' });
    this.capabilities = { orderedPerTopic: true, sharded: this.sharded, durable: false, maxPayloadBytes: this.cfg.maxPayloadBytes };
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  /** Publishes waiting for Redis to come back. */
  get buffered(): number {
    return this.pending.length;
  }

  instrument(observer: AdapterObserver): void {
    this.observer = observer;
  }

  onStatus(listener: (status: ConnectionStatus) => void): Unsubscribe {
    this.statusListeners.add(listener);
    return () => void this.statusListeners.delete(listener);
  }

  async connect(): Promise<void> {
    if (this.closed) throw closedError('redis bus');
    this.opening ??= this.open();
    try {
      await this.opening;
    } catch (err) {
      this.opening = undefined;
      throw err;
    }
  }

  private async open(): Promise<void> {
    this.setStatus('connecting');
    this.pub = createClient(this.cfg, 'publisher');
    this.sub = createClient(this.cfg, 'subscriber');
    this.attach(this.pub.client, 'pub');
    this.attach(this.sub.client, 'sub');
    try {
      await Promise.all([ensureReady(this.pub.client, this.cfg.connectTimeoutMs), ensureReady(this.sub.client, this.cfg.connectTimeoutMs)]);
    } catch (err) {
      await this.teardown();
      this.setStatus(this.closed ? 'closed' : 'idle');
      throw mapRedisError(err, 'redis bus connect');
    }
    this.everConnected = true;
    this.pubUp = true;
    this.subUp = true;
    this.subRestored = true;
    this.publishDeadline = !this.pub.owned || this.sharded;
    this.watchLiveness(this.pub.client, 'pub');
    this.watchLiveness(this.sub.client, 'sub');
    this.updateStatus();
    // Topics subscribed while connecting.
    await this.restoreSubscriptions(false);
  }

  private attach(client: RedisClient, role: 'pub' | 'sub'): void {
    const emitter = client as unknown as NodeJS.EventEmitter;
    const on = <A extends unknown[]>(event: string, fn: (...args: A) => void) => {
      const f = fn as (...args: unknown[]) => void;
      emitter.on(event, f);
      this.detachers.push(() => void emitter.off(event, f));
    };
    on('error', (err: Error) => {
      this.observer.count(SOURCE, 'error');
      this.log.debug({ err: err.message, role }, 'redis bus connection error');
    });
    on('ready', () => (role === 'pub' ? this.onPubReady() : this.onSubReady()));
    on('close', () => (role === 'pub' ? this.onPubDown() : this.onSubDown()));
    if (role === 'sub') on(this.sharded ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, message: Buffer) => this.dispatch(channel, message));
  }

  /** Probe one connection; a silent one is marked down now, before ioredis has noticed anything. */
  private watchLiveness(client: RedisClient, role: 'pub' | 'sub'): void {
    const check = new LivenessCheck(client, {
      intervalMs: this.cfg.healthCheckIntervalMs,
      timeoutMs: this.cfg.commandTimeoutMs,
      onSilent: (reason) => {
        this.log.warn({ role, reason }, 'redis bus connection went silent; reconnecting');
        if (role === 'pub') this.onPubDown();
        else this.onSubDown();
      },
    });
    this.checks.push(check);
    check.start();
  }

  private onPubReady(): void {
    if (!this.everConnected || this.closed || this.pubUp) return;
    this.pubUp = true;
    this.observer.count(SOURCE, 'reconnect');
    this.log.info({ role: 'pub' }, 'redis bus reconnected');
    this.updateStatus();
    void this.flush();
  }

  private onPubDown(): void {
    if (!this.everConnected || this.closed || !this.pubUp) return;
    this.pubUp = false;
    this.observer.count(SOURCE, 'disconnect');
    this.log.warn({ role: 'pub' }, 'redis bus lost its connection; publishes are buffered');
    this.updateStatus();
  }

  private onSubReady(): void {
    if (!this.everConnected || this.closed || this.subUp) return;
    this.subUp = true;
    this.observer.count(SOURCE, 'reconnect');
    void this.restoreSubscriptions(true);
  }

  private onSubDown(): void {
    if (!this.everConnected || this.closed || !this.subUp) return;
    this.subUp = false;
    this.subRestored = false;
    // Whatever Redis knew of this connection is gone with it.
    this.subscribed.clear();
    this.observer.count(SOURCE, 'disconnect');
    this.log.warn({ role: 'sub' }, 'redis bus subscriber lost its connection');
    this.updateStatus();
  }

  /** Subscribe again to every topic that has a handler; then flush what waited. */
  private restoreSubscriptions(count: boolean): Promise<void> {
    const run = async () => {
      const wanted = [...this.topics.keys()];
      const results = await Promise.allSettled(wanted.map((t) => this.sync(t)));
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (count && wanted.length - failed > 0) this.observer.count(SOURCE, 'resubscribe', wanted.length - failed);
      if (failed > 0) {
        this.observer.count(SOURCE, 'error', failed);
        this.log.error({ failed }, 'redis bus could not restore some subscriptions; retrying on the next reconnect');
      }
      if (!this.subUp || this.closed) return;
      this.subRestored = true;
      if (count) this.log.info({ topics: wanted.length }, 'redis bus subscriptions restored');
      this.updateStatus();
      void this.flush();
    };
    const p = (this.resubscribing ?? Promise.resolve()).then(run, run);
    this.resubscribing = p.catch(() => undefined);
    return p;
  }

  async subscribe(topic: string, handler: BusHandler): Promise<Subscription> {
    this.checkOpen();
    const entry: Entry = { handler };
    let set = this.topics.get(topic);
    if (!set) this.topics.set(topic, (set = new Set()));
    set.add(entry);
    if (this.subUp) {
      try {
        await this.sync(topic);
      } catch (err) {
        this.removeEntry(topic, entry);
        if (this.closed) throw closedError('redis bus');
        throw mapRedisError(err, `subscribe ${topic}`);
      }
    }
    // When the subscriber is down, the topic is subscribed as soon as it is back.
    return {
      topic,
      unsubscribe: async () => {
        if (!this.removeEntry(topic, entry) || this.closed || !this.subUp) return;
        await this.sync(topic).catch((err: unknown) => {
          this.observer.count(SOURCE, 'error');
          this.log.warn({ topic, err: (err as Error).message }, 'redis bus unsubscribe failed');
        });
      },
    };
  }

  private removeEntry(topic: string, entry: Entry): boolean {
    const set = this.topics.get(topic);
    if (!set || !set.delete(entry)) return false;
    if (set.size === 0) this.topics.delete(topic);
    return true;
  }

  /** Make Redis' view of `topic` match ours (one operation per topic at a time). */
  private sync(topic: string): Promise<void> {
    const work = async () => {
      if (this.closed) return;
      const want = this.topics.has(topic);
      const have = this.subscribed.has(topic);
      const sub = this.sub?.client;
      if (!sub || want === have) return;
      const channel = this.keys.topic(topic);
      if (want) {
        await this.deadline(this.sharded ? (sub as Cluster).ssubscribe(channel) : (sub as Redis).subscribe(channel), `subscribe ${topic}`);
        // A connection lost in between cleared `subscribed`; the restore pass will subscribe again.
        if (this.subUp) this.subscribed.add(topic);
      } else {
        this.subscribed.delete(topic);
        if (sub.status === 'ready') {
          await this.deadline(this.sharded ? (sub as Cluster).sunsubscribe(channel) : (sub as Redis).unsubscribe(channel), `unsubscribe ${topic}`);
        }
      }
    };
    const prev = this.locks.get(topic) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.catch(() => undefined);
    this.locks.set(topic, tail);
    void tail.then(() => {
      if (this.locks.get(topic) === tail) this.locks.delete(topic);
    });
    return next;
  }

  private dispatch(channel: Buffer, message: Buffer): void {
    if (this.closed) return;
    const name = channel.toString('utf8');
    if (!name.startsWith(this.topicPrefix)) return;
    const topic = name.slice(this.topicPrefix.length);
    const set = this.topics.get(topic);
    if (!set) return;
    for (const entry of [...set]) {
      if (!set.has(entry) || this.closed) continue;
      try {
        entry.handler(message, topic);
      } catch (err) {
        this.observer.count(SOURCE, 'error');
        this.log.error({ topic, err: (err as Error).message }, 'bus handler threw');
      }
    }
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    this.checkOpen();
    if (payload.byteLength > this.cfg.maxPayloadBytes) {
      throw redisError('PAYLOAD_TOO_LARGE', `payload of ${payload.byteLength} bytes exceeds ${this.cfg.maxPayloadBytes}`);
    }
    const channel = this.keys.topic(topic);
    if (this.pubUp && !this.flushing && this.pending.length === 0) {
      try {
        await this.send(channel, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
      } catch (err) {
        if (this.closed) throw closedError('redis bus');
        throw mapRedisError(err, `publish ${topic}`);
      }
      return;
    }
    if (this.pending.length >= this.cfg.publishBufferSize) {
      this.observer.count(SOURCE, 'publish_dropped');
      throw redisError('BUFFER_FULL', `redis unreachable and the publish buffer (${this.cfg.publishBufferSize}) is full`);
    }
    this.pending.push({ channel, payload: Buffer.from(payload) });
    this.observer.count(SOURCE, 'publish_buffered');
  }

  private send(channel: string, payload: Buffer): Promise<unknown> {
    const pub = this.pub?.client;
    if (!pub) return Promise.reject(redisError('NOT_CONNECTED', 'redis bus is not connected'));
    const sent = this.sharded ? (pub as Cluster).spublish(channel, payload) : pub.publish(channel, payload);
    // Our standalone clients carry ioredis' own `commandTimeout`; the others are bounded here.
    return this.publishDeadline ? this.deadline(sent, 'publish') : sent;
  }

  private deadline<T>(work: Promise<T>, what: string): Promise<T> {
    return withDeadline(work, this.cfg.commandTimeoutMs, `redis bus ${what}`);
  }

  /** Send buffered publishes in order, in batches, while the connection holds. */
  private async flush(): Promise<void> {
    if (this.flushing || this.closed) return;
    // Wait for our own subscriptions too, so this instance's handlers see its buffered publishes.
    if (!this.pubUp || (!this.subRestored && this.topics.size > 0)) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0 && this.pubUp && !this.closed) {
        const batch = this.pending.splice(0, FLUSH_BATCH);
        const results = await Promise.allSettled(batch.map((p) => this.send(p.channel, p.payload)));
        const failed = results.filter((r) => r.status === 'rejected').length;
        if (batch.length - failed > 0) this.observer.count(SOURCE, 'publish_flushed', batch.length - failed);
        if (failed > 0) {
          this.observer.count(SOURCE, 'publish_dropped', failed);
          this.log.error({ failed }, 'redis bus dropped buffered publishes that could not be sent');
        }
      }
    } finally {
      this.flushing = false;
    }
    if (this.pending.length > 0 && this.pubUp && !this.closed) void this.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.opening?.catch(() => undefined);
    if (this.pending.length > 0) this.observer.count(SOURCE, 'publish_dropped', this.pending.length);
    this.pending.length = 0;
    const mine = [...this.subscribed].map((t) => this.keys.topic(t));
    this.topics.clear();
    this.subscribed.clear();
    // A subscriber the caller owns stays open: leave our channels on it.
    const sub = this.sub;
    if (sub && !sub.owned && sub.client.status === 'ready' && mine.length > 0) {
      const leave = this.sharded ? (sub.client as Cluster).sunsubscribe(...mine) : (sub.client as Redis).unsubscribe(...mine);
      await this.deadline(Promise.resolve(leave), 'unsubscribe on close').catch(() => undefined);
    }
    await this.teardown();
    this.setStatus('closed');
    this.statusListeners.clear();
  }

  private async teardown(): Promise<void> {
    for (const c of this.checks.splice(0)) c.stop();
    const handles = [this.pub, this.sub].filter((h): h is ClientHandle => h !== undefined);
    this.pub = undefined;
    this.sub = undefined;
    await Promise.all(handles.map((h) => releaseClient(h)));
    for (const d of this.detachers.splice(0)) d();
  }

  private checkOpen(): void {
    if (this.closed) throw closedError('redis bus');
    if (this._status === 'idle') throw redisError('NOT_CONNECTED', 'redis bus: call connect() first');
  }

  private updateStatus(): void {
    if (this.closed) return;
    this.setStatus(this.pubUp && this.subRestored ? 'connected' : 'reconnecting');
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this._status) return;
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
