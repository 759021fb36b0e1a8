import {
  noopObserver,
  randomId,
  type AdapterObserver,
  type BusCapabilities,
  type BusHandler,
  type ConnectionStatus,
  type Logger,
  type MessageBus,
  type Subscription,
  type Unsubscribe,
} from '@switchyard/core';
import { Partitioners, type Admin, type Consumer, type EachBatchPayload, type Kafka, type Producer } from 'kafkajs';
import { connectFailure, ensureTopic, kafkaClient, loggerFor, retryTransient, withTimeout } from './client.js';
import { SOURCE, closedError, isUnreachable, kafkaError } from './errors.js';
import { parseKafkaOptions, type KafkaAdapterInput, type KafkaAdapterOptions } from './options.js';
import { PublishQueue, type Pending } from './publish-queue.js';

/** Header carrying the Switchyard topic name of a bus message. */
export const TOPIC_HEADER = 'sy-topic';

/** Room for the key, the topic header and the record overhead above the payload. */
const RECORD_OVERHEAD = 8 * 1024;

/**
 * A `MessageBus` over ONE Kafka topic (`<prefix>bus`). The Switchyard topic name is the record
 * key (so one topic always lands on one partition, in order) and travels in the `sy-topic`
 * header. Each instance reads every partition of the bus topic on its own (a consumer group
 * of its own, never shared, starting at the end of each partition) and hands each record to
 * its local handlers of that topic: interest-based routing is local filtering only.
 */
export class KafkaBus implements MessageBus {
  readonly name = 'kafka';
  readonly capabilities: BusCapabilities;
  /** The Kafka topic that carries every Switchyard topic. */
  readonly busTopic: string;
  private readonly options: KafkaAdapterOptions;
  private readonly log: Logger;
  private observer: AdapterObserver = noopObserver;
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>();
  /** Next offset to read per partition, kept across consumer restarts so nothing is skipped. */
  private readonly next = new Map<number, string>();
  private _status: ConnectionStatus = 'idle';
  private closed = false;
  private connecting: Promise<void> | undefined;
  private kafka: Kafka | undefined;
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private queue: PublishQueue | undefined;
  private consumerUp = false;
  private joins = 0;
  private firstJoin: { resolve: () => void } | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelay = 100;

  constructor(input: KafkaAdapterInput | KafkaAdapterOptions) {
    this.options = parseKafkaOptions(input);
    this.log = loggerFor(this.options, 'bus');
    this.busTopic = `${this.options.prefix}bus`;
    this.capabilities = { orderedPerTopic: true, sharded: true, durable: true, maxPayloadBytes: this.options.maxPayloadBytes };
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  instrument(observer: AdapterObserver): void {
    this.observer = observer;
  }

  onStatus(listener: (status: ConnectionStatus) => void): Unsubscribe {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async connect(): Promise<void> {
    if (this.closed) throw closedError('Kafka bus');
    if (this._status === 'connected' || this._status === 'reconnecting') return;
    this.connecting ??= this.doConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    this.setStatus('connecting');
    const kafka = (this.kafka ??= kafkaClient(this.options, this.log));
    let admin: Admin | undefined;
    try {
      await withTimeout(
        (async () => {
          const a = (admin = kafka.admin());
          const deadline = Date.now() + this.options.connectTimeoutMs;
          await a.connect();
          await retryTransient(() => ensureTopic(a, {
            topic: this.busTopic,
            numPartitions: this.options.partitions,
            replicationFactor: this.options.replicationFactor,
            configEntries: [
              { name: 'retention.ms', value: String(this.options.busRetentionMs) },
              { name: 'max.message.bytes', value: String(this.options.maxPayloadBytes + RECORD_OVERHEAD) },
            ],
          }), deadline, isUnreachable);
          // Start at the end of every partition: what was published before connect() is not ours.
          const ends = await retryTransient(() => a.fetchTopicOffsets(this.busTopic), deadline, isUnreachable);
          for (const { partition, high } of ends) {
            if (!this.next.has(partition)) this.next.set(partition, high);
          }
          this.producer = kafka.producer({
            createPartitioner: Partitioners.DefaultPartitioner,
            allowAutoTopicCreation: false,
            retry: { initialRetryTime: 100, retries: 2, maxRetryTime: this.options.maxReconnectDelayMs },
          });
          await this.producer.connect();
          this.queue = new PublishQueue({
            send: (batch) => this.send(batch),
            bufferSize: this.options.bufferSize,
            maxBatchBytes: Math.max(this.options.maxPayloadBytes, 64 * 1024),
            maxReconnectDelayMs: this.options.maxReconnectDelayMs,
            onEvent: (event, n, cause) => this.onQueueEvent(event, n, cause),
          });
          const joined = new Promise<void>((resolve) => (this.firstJoin = { resolve }));
          await this.startConsumer();
          await joined;
        })(),
        this.options.connectTimeoutMs,
        () => kafkaError('TIMEOUT', `could not reach the brokers within ${this.options.connectTimeoutMs} ms`),
      );
    } catch (err) {
      await this.teardown();
      if (!this.closed) this.setStatus('idle');
      if (this.closed) throw closedError('Kafka bus');
      throw connectFailure(this.options, err);
    } finally {
      await admin?.disconnect().catch(() => undefined);
    }
    if (this.closed) throw closedError('Kafka bus');
    this.setStatus('connected');
  }

  private async startConsumer(): Promise<void> {
    const kafka = this.kafka as Kafka;
    // A group of our own: nobody shares it, so it is always assigned every partition.
    const consumer = kafka.consumer({
      groupId: `${this.options.prefix}bus-${randomId(9)}`,
      maxWaitTimeInMs: this.options.maxWaitTimeMs,
      minBytes: this.options.minBytes,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // We restart it ourselves under a NEW group id: rejoining the old group after a broker
      // restart would wait for the dead member's session to time out.
      retry: { initialRetryTime: 100, retries: 3, maxRetryTime: this.options.maxReconnectDelayMs, restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.onJoin(consumer, e.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (e) => this.onCrash(consumer, e.payload.error, e.payload.restart));
    consumer.on(consumer.events.REQUEST_TIMEOUT, (e) => this.onSilent(consumer, e.payload.apiName));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.busTopic], fromBeginning: false });
      await consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) });
    } catch (err) {
      // Replaced meanwhile (its broker went silent): the consumer that replaced it is in charge.
      if (this.consumer !== consumer) return;
      throw err;
    }
  }

  /** Position every assigned partition where we left off (kafkajs would otherwise start at the end again). */
  private onJoin(consumer: Consumer, assignment: Record<string, number[]>): void {
    if (consumer !== this.consumer || this.closed) return;
    for (const partition of assignment[this.busTopic] ?? []) {
      const offset = this.next.get(partition);
      if (offset !== undefined) consumer.seek({ topic: this.busTopic, partition, offset });
    }
    this.joins++;
    if (this.firstJoin) {
      this.firstJoin.resolve();
      this.firstJoin = undefined;
    }
    this.restartDelay = 100;
    if (!this.consumerUp) {
      this.consumerUp = true;
      if (this.joins > 1) {
        this.observer.count(SOURCE, 'reconnect');
        if (this.handlers.size > 0) this.observer.count(SOURCE, 'resubscribe', this.handlers.size);
        this.log.info({ topics: this.handlers.size }, 'kafka bus consumer back; subscriptions restored');
      }
      this.updateStatus();
    }
  }

  private onCrash(consumer: Consumer, error: Error, restart: boolean): void {
    if (consumer !== this.consumer || this.closed) return;
    this.observer.count(SOURCE, 'error');
    this.log.warn({ err: error, restart }, 'kafka bus consumer crashed');
    if (this.consumerUp) {
      this.consumerUp = false;
      this.observer.count(SOURCE, 'disconnect');
      this.updateStatus();
    }
    if (!restart) this.scheduleConsumerRestart();
  }

  /**
   * A request of the consumer got no answer within `requestTimeoutMs`: the broker went silent
   * (kafkajs would keep waiting on the same connection through its retries). Count it, go
   * `reconnecting`, and replace the consumer; the new one joins when the broker answers again
   * and carries on from the same positions.
   */
  private onSilent(consumer: Consumer, apiName: string): void {
    // A consumer still joining is not replaced here: its own failure (CRASH, or a failed start) does that.
    if (consumer !== this.consumer || this.closed || !this.consumerUp) return;
    this.log.warn({ apiName, requestTimeoutMs: this.options.requestTimeoutMs }, 'kafka broker did not answer the bus consumer; replacing it');
    this.consumerUp = false;
    this.observer.count(SOURCE, 'disconnect');
    this.updateStatus();
    this.scheduleConsumerRestart();
  }

  /** Build a new consumer (new group, same positions) after a growing delay, until one joins. */
  private scheduleConsumerRestart(): void {
    if (this.closed || this.restartTimer) return;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(this.restartDelay * 2, this.options.maxReconnectDelayMs);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void (async () => {
        const old = this.consumer;
        this.consumer = undefined;
        if (old) await withTimeout(old.disconnect(), this.options.requestTimeoutMs, () => kafkaError('TIMEOUT', 'disconnect timed out')).catch(() => undefined);
        if (this.closed) return;
        try {
          await this.startConsumer();
        } catch (err) {
          this.log.warn({ err }, 'kafka bus consumer restart failed; retrying');
          this.scheduleConsumerRestart();
        }
      })();
    }, delay);
  }

  private async onBatch({ batch }: EachBatchPayload): Promise<void> {
    for (const m of batch.messages) {
      if (this.closed) return;
      this.next.set(batch.partition, (BigInt(m.offset) + 1n).toString());
      const header = m.headers?.[TOPIC_HEADER];
      const topic = header === undefined ? m.key?.toString('utf8') : Buffer.isBuffer(header) ? header.toString('utf8') : String(header);
      if (topic === undefined || m.value === null) {
        this.observer.count(SOURCE, 'malformed');
        continue;
      }
      const set = this.handlers.get(topic);
      if (!set) continue;
      const payload = new Uint8Array(m.value.buffer, m.value.byteOffset, m.value.byteLength);
      for (const handler of [...set]) {
        if (!set.has(handler)) continue;
        try {
          handler(payload, topic);
        } catch (err) {
          this.observer.count(SOURCE, 'error');
          this.log.error({ err, topic }, 'bus handler threw');
        }
      }
    }
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    if (this.closed) throw closedError('Kafka bus');
    if (payload.byteLength > this.options.maxPayloadBytes) {
      throw kafkaError('PAYLOAD_TOO_LARGE', `payload of ${payload.byteLength} bytes exceeds ${this.options.maxPayloadBytes}`);
    }
    if (!this.queue) throw kafkaError('NOT_CONNECTED', 'call connect() before publish()');
    return this.queue.publish(topic, payload);
  }

  /**
   * One produce request for `batch`, bounded by `requestTimeoutMs` as a whole (kafkajs' retries
   * included): past it the send fails with TIMEOUT, which the queue treats as an unreachable
   * broker (buffer, go `reconnecting`, retry). A send cut off this way may still land later, so
   * after such an outage a message can arrive twice; none is lost.
   */
  private async send(batch: Pending[]): Promise<void> {
    if (!this.producer) throw closedError('Kafka bus');
    const sent = this.producer.send({
      topic: this.busTopic,
      acks: this.options.busAcks,
      messages: batch.map((p) => ({
        key: p.topic,
        value: Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength),
        headers: { [TOPIC_HEADER]: p.topic },
      })),
    });
    await withTimeout(sent, this.options.requestTimeoutMs, () =>
      kafkaError('TIMEOUT', `the broker did not acknowledge ${batch.length} publishes within ${this.options.requestTimeoutMs} ms`),
    );
  }

  async subscribe(topic: string, handler: BusHandler): Promise<Subscription> {
    if (this.closed) throw closedError('Kafka bus');
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    // A wrapper per call, so the same function subscribed twice is two subscriptions.
    const entry: BusHandler = (p, t) => handler(p, t);
    set.add(entry);
    let active = true;
    return {
      topic,
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        const s = this.handlers.get(topic);
        if (!s) return;
        s.delete(entry);
        if (s.size === 0) this.handlers.delete(topic);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    clearTimeout(this.restartTimer);
    this.firstJoin = undefined;
    await this.connecting?.catch(() => undefined);
    await this.teardown();
    this.setStatus('closed');
    this.statusListeners.clear();
  }

  private async teardown(): Promise<void> {
    this.queue?.close(closedError('Kafka bus'));
    this.queue = undefined;
    const consumer = this.consumer;
    const producer = this.producer;
    this.consumer = undefined;
    this.producer = undefined;
    const bounded = (p: Promise<void> | undefined) =>
      p ? withTimeout(p, this.options.requestTimeoutMs, () => kafkaError('TIMEOUT', 'disconnect timed out')).catch(() => undefined) : undefined;
    await Promise.all([bounded(consumer?.disconnect()), bounded(producer?.disconnect())]);
    this.consumerUp = false;
  }

  private onQueueEvent(event: 'buffered' | 'dropped' | 'flushed' | 'offline' | 'online', n: number, cause?: unknown): void {
    if (event === 'buffered') this.observer.count(SOURCE, 'publish_buffered', n);
    else if (event === 'dropped') this.observer.count(SOURCE, 'publish_dropped', n);
    else if (event === 'flushed') this.observer.count(SOURCE, 'publish_flushed', n);
    else if (event === 'offline') {
      this.observer.count(SOURCE, 'disconnect');
      this.log.warn({ err: cause, buffered: n }, 'kafka broker unreachable; buffering publishes');
      this.updateStatus();
    } else {
      this.observer.count(SOURCE, 'reconnect');
      this.log.info({ pending: n }, 'kafka broker reachable again; flushing publishes');
      this.updateStatus();
    }
  }

  private updateStatus(): void {
    if (this.closed || this._status === 'connecting' || this._status === 'idle') return;
    this.setStatus(this.consumerUp && (this.queue?.isOnline ?? false) ? 'connected' : 'reconnecting');
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this._status) return;
    this._status = status;
    for (const l of [...this.statusListeners]) l(status);
  }
}
