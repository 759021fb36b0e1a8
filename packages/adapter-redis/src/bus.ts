import { BusRuntime, type BusDriver, type BusDriverEvents } from '@switchyard/core/adapter';
import { childLogger, noopLogger, type BusCapabilities, type Logger, type SwitchyardError } from '@switchyard/core';
import type { Cluster, Redis } from 'ioredis';
import { createClient, ensureReady, releaseClient, type ClientHandle } from './connection.js';
import { withDeadline } from './deadline.js';
import { SOURCE, mapRedisError, redisError } from './errors.js';
import { KeySpace } from './names.js';
import { LivenessCheck } from './liveness.js';
import { parseRedisOptions, type RedisAdapterConfig, type RedisAdapterOptions, type RedisClient } from './options.js';

/** Redis pub/sub under the bus runtime: a publisher and a subscriber connection, each reported on its own. */
class RedisBusDriver implements BusDriver {
  readonly name = SOURCE;
  readonly label = 'redis bus';
  readonly capabilities: BusCapabilities;
  private readonly keys: KeySpace;
  private readonly topicPrefix: string;
  private readonly sharded: boolean;
  private pub: ClientHandle | undefined;
  private sub: ClientHandle | undefined;
  private readonly detachers: Array<() => void> = [];
  private readonly checks: LivenessCheck[] = [];
  /** The publisher has no ioredis `commandTimeout` of ours (a caller's client, or a Cluster): bound publishes here. */
  private publishDeadline = false;

  constructor(
    private readonly cfg: RedisAdapterConfig,
    private readonly log: Logger,
  ) {
    this.keys = new KeySpace(cfg.keyPrefix);
    this.topicPrefix = this.keys.topic('');
    this.sharded = cfg.mode === 'sharded';
    this.capabilities = { orderedPerTopic: true, sharded: this.sharded, durable: false, maxPayloadBytes: cfg.maxPayloadBytes };
  }

  async open(events: BusDriverEvents): Promise<void> {
    this.pub = createClient(this.cfg, 'publisher');
    this.sub = createClient(this.cfg, 'subscriber');
    this.attach(this.pub.client, 'send', events);
    this.attach(this.sub.client, 'listen', events);
    try {
      await Promise.all([ensureReady(this.pub.client, this.cfg.connectTimeoutMs), ensureReady(this.sub.client, this.cfg.connectTimeoutMs)]);
    } catch (err) {
      await this.teardown();
      throw mapRedisError(err, 'redis bus connect');
    }
    this.publishDeadline = !this.pub.owned || this.sharded;
    this.watchLiveness(this.pub.client, 'send', events);
    this.watchLiveness(this.sub.client, 'listen', events);
  }

  private attach(client: RedisClient, part: 'send' | 'listen', events: BusDriverEvents): void {
    const emitter = client as unknown as NodeJS.EventEmitter;
    const on = <A extends unknown[]>(event: string, fn: (...args: A) => void) => {
      const f = fn as (...args: unknown[]) => void;
      emitter.on(event, f);
      this.detachers.push(() => void emitter.off(event, f));
    };
    on('error', (err: Error) => {
      events.count('error');
      this.log.debug({ err: err.message, part }, 'redis bus connection error');
    });
    on('ready', () => events.up(part));
    on('close', () => events.down('connection closed', part));
    if (part === 'listen') {
      on(this.sharded ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, message: Buffer) => {
        const name = channel.toString('utf8');
        if (name.startsWith(this.topicPrefix)) events.message(name.slice(this.topicPrefix.length), message);
      });
    }
  }

  /** Probe one connection; a silent one is marked down now, before ioredis has noticed anything. */
  private watchLiveness(client: RedisClient, part: 'send' | 'listen', events: BusDriverEvents): void {
    const check = new LivenessCheck(client, {
      intervalMs: this.cfg.healthCheckIntervalMs,
      timeoutMs: this.cfg.commandTimeoutMs,
      onSilent: (reason) => events.down(`went silent: ${reason}`, part),
    });
    this.checks.push(check);
    check.start();
  }

  send(topic: string, payload: Uint8Array): Promise<unknown> {
    const pub = this.pub?.client;
    if (!pub) return Promise.reject(redisError('NOT_CONNECTED', 'redis bus is not connected'));
    const channel = this.keys.topic(topic);
    const data = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const sent = this.sharded ? (pub as Cluster).spublish(channel, data) : pub.publish(channel, data);
    // Our standalone clients carry ioredis' own `commandTimeout`; the others are bounded here.
    return this.publishDeadline ? this.deadline(sent, 'publish') : sent;
  }

  async listen(topic: string): Promise<void> {
    const sub = this.sub?.client;
    if (!sub) return;
    const channel = this.keys.topic(topic);
    await this.deadline(this.sharded ? (sub as Cluster).ssubscribe(channel) : (sub as Redis).subscribe(channel), `subscribe ${topic}`);
  }

  async unlisten(topic: string): Promise<void> {
    const sub = this.sub?.client;
    if (sub?.status !== 'ready') return;
    const channel = this.keys.topic(topic);
    await this.deadline(this.sharded ? (sub as Cluster).sunsubscribe(channel) : (sub as Redis).unsubscribe(channel), `unsubscribe ${topic}`);
  }

  async close(listening: readonly string[]): Promise<void> {
    // A subscriber the caller owns stays open: leave our channels on it.
    const sub = this.sub;
    if (sub && !sub.owned && sub.client.status === 'ready' && listening.length > 0) {
      const mine = listening.map((t) => this.keys.topic(t));
      const leave = this.sharded ? (sub.client as Cluster).sunsubscribe(...mine) : (sub.client as Redis).unsubscribe(...mine);
      await this.deadline(Promise.resolve(leave), 'unsubscribe on close').catch(() => undefined);
    }
    await this.teardown();
  }

  mapError(err: unknown, what: string): SwitchyardError {
    return mapRedisError(err, what);
  }

  private deadline<T>(work: Promise<T>, what: string): Promise<T> {
    return withDeadline(work, this.cfg.commandTimeoutMs, `redis bus ${what}`);
  }

  private async teardown(): Promise<void> {
    for (const c of this.checks.splice(0)) c.stop();
    const handles = [this.pub, this.sub].filter((h): h is ClientHandle => h !== undefined);
    this.pub = undefined;
    this.sub = undefined;
    await Promise.all(handles.map((h) => releaseClient(h)));
    for (const d of this.detachers.splice(0)) d();
  }
}

/**
 * The Redis message bus. One channel per Switchyard topic (`<prefix>t:<topic>`), subscribed
 * only while this instance has a handler for it. In `sharded` mode it uses SSUBSCRIBE/SPUBLISH
 * on a Redis Cluster, so each topic lives on one shard.
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
export class RedisBus extends BusRuntime {
  constructor(options: RedisAdapterOptions | RedisAdapterConfig = {}) {
    const cfg = parseRedisOptions(options);
    const log = childLogger(cfg.logger ?? noopLogger, { component: 'redis-bus' });
    super(new RedisBusDriver(cfg, log), { bufferSize: cfg.publishBufferSize, logger: log });
  }
}
