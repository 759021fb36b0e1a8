import { BusRuntime, type BusDriver, type BusDriverEvents } from '@switchyard/core/adapter';
import type { BusCapabilities, Logger, SwitchyardError } from '@switchyard/core';
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import { BusInbox } from './bus-inbox.js';
import { BusOutbox } from './bus-outbox.js';
import { connectFailure, ensureTopic, kafkaClient, loggerFor, retryTransient, withTimeout } from './connection.js';
import { SOURCE, closedError, isUnreachable, kafkaError, mapKafkaError } from './errors.js';
import { parseKafkaOptions, type KafkaAdapterInput, type KafkaAdapterConfig } from './options.js';

export { TOPIC_HEADER } from './bus-outbox.js';

/** Room for the key, the topic header and the record overhead above the payload. */
const RECORD_OVERHEAD = 8 * 1024;

/**
 * Kafka under the bus runtime. The producer is the send part: it has no connection to watch,
 * so the runtime finds an outage by a failed send and sends again until the broker answers.
 * The consumer of the whole bus topic (`BusInbox`) is the listen part. Topics are filtered
 * locally by the runtime, so `listen` and `unlisten` have nothing to do.
 */
class KafkaBusDriver implements BusDriver {
  readonly name = SOURCE;
  readonly label = 'kafka bus';
  readonly capabilities: BusCapabilities;
  readonly busTopic: string;
  private readonly inbox: BusInbox;
  private readonly outbox: BusOutbox;
  private kafka: Kafka | undefined;
  private producer: Producer | undefined;
  private stopped = false;

  constructor(
    private readonly o: KafkaAdapterConfig,
    private readonly log: Logger,
  ) {
    this.busTopic = `${o.prefix}bus`;
    this.capabilities = { orderedPerTopic: true, sharded: true, durable: true, maxPayloadBytes: o.maxPayloadBytes };
    this.inbox = new BusInbox(o, this.busTopic, log);
    this.outbox = new BusOutbox(o, this.busTopic, () => this.producer);
  }

  async open(events: BusDriverEvents): Promise<void> {
    const o = this.o;
    this.stopped = false;
    const kafka = (this.kafka ??= kafkaClient(o, this.log));
    const admin = kafka.admin();
    try {
      await withTimeout(this.ready(kafka, admin, events), o.connectTimeoutMs, () => kafkaError('TIMEOUT', `could not reach the brokers within ${o.connectTimeoutMs} ms`));
    } catch (err) {
      await this.close();
      throw connectFailure(o, err);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  send(topic: string, payload: Uint8Array): Promise<void> {
    return this.outbox.send(topic, payload);
  }

  /** The consumer reads every topic already. */
  listen(): void {
    // Nothing to ask the broker: the runtime hands each record to the topic's handlers.
  }

  unlisten(): void {
    // As for listen.
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.outbox.clear(closedError('Kafka bus'));
    const producer = this.producer;
    this.producer = undefined;
    const disconnected = producer && withTimeout(producer.disconnect(), this.o.requestTimeoutMs, () => kafkaError('TIMEOUT', 'disconnect timed out'));
    await Promise.all([this.inbox.stop(), disconnected?.catch(() => undefined)]);
  }

  isUnreachable(err: unknown): boolean {
    return isUnreachable(err);
  }

  mapError(err: unknown, what: string): SwitchyardError {
    return mapKafkaError(err, what);
  }

  /** The bus topic there (created if missing), the producer connected, the consumer joined. */
  private async ready(kafka: Kafka, admin: Admin, events: BusDriverEvents): Promise<void> {
    const o = this.o;
    const deadline = Date.now() + o.connectTimeoutMs;
    await admin.connect();
    const configEntries = [
      { name: 'retention.ms', value: String(o.busRetentionMs) },
      { name: 'max.message.bytes', value: String(o.maxPayloadBytes + RECORD_OVERHEAD) },
    ];
    const topic = { topic: this.busTopic, numPartitions: o.partitions, replicationFactor: o.replicationFactor, configEntries };
    await retryTransient(() => ensureTopic(admin, topic), deadline, isUnreachable);
    // Start at the end of every partition: what was published before connect() is not ours.
    this.inbox.startAt(await retryTransient(() => admin.fetchTopicOffsets(this.busTopic), deadline, isUnreachable));
    // Timed out meanwhile: close() released what there was; open nothing more.
    if (this.stopped) return;
    const retry = { initialRetryTime: 100, retries: 2, maxRetryTime: o.maxReconnectDelayMs };
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, retry });
    await this.producer.connect();
    if (!this.stopped) await this.inbox.start(kafka, events);
  }
}

/**
 * A `MessageBus` over ONE Kafka topic (`<prefix>bus`). The Switchyard topic name is the record
 * key (so one topic always lands on one partition, in order) and travels in the `sy-topic`
 * header. Each instance reads every partition of the bus topic on its own (a consumer group
 * of its own, never shared, starting at the end of each partition) and hands each record to
 * its local handlers of that topic: interest-based routing is local filtering only. Publishes
 * made while the broker is unreachable wait in a bounded buffer (BUFFER_FULL past `publishBufferSize`);
 * the first is sent again after a growing delay (up to `maxReconnectDelayMs`) until the broker
 * answers, then the rest follow in order.
 */
export class KafkaBus extends BusRuntime {
  /** The Kafka topic that carries every Switchyard topic. */
  readonly busTopic: string;

  constructor(input: KafkaAdapterInput | KafkaAdapterConfig) {
    const o = parseKafkaOptions(input);
    const log = loggerFor(o, 'bus');
    const driver = new KafkaBusDriver(o, log);
    const resend = { firstDelayMs: 50, maxDelayMs: o.maxReconnectDelayMs };
    // Subscribing before connect() is allowed, as before: topics are filtered here, the broker is not asked.
    super(driver, { bufferSize: o.publishBufferSize, connectFirst: 'publish', resend, logger: log });
    this.busTopic = driver.busTopic;
  }
}
