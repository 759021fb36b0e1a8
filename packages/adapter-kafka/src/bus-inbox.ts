import { randomId, type BusDriverEvents } from '@switchyard/core/adapter';
import type { Logger } from '@switchyard/core';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { TOPIC_HEADER } from './bus-outbox.js';
import { withTimeout } from './connection.js';
import { kafkaError } from './errors.js';
import type { KafkaAdapterConfig } from './options.js';

/**
 * The bus's listening side: a consumer of every partition of the bus topic, reported to the
 * runtime as the listen part. It is alone in a group of its own, so it is always assigned every
 * partition; when it crashes or its broker goes silent it is replaced by a new one (new group,
 * same positions) after a growing delay, until one joins.
 */
export class BusInbox {
  /** Next offset to read per partition, kept across consumer restarts so nothing is skipped. */
  private readonly next = new Map<number, string>();
  private kafka: Kafka | undefined;
  private events: BusDriverEvents | undefined;
  private consumer: Consumer | undefined;
  private joined = false;
  private firstJoin: (() => void) | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelay = 100;
  private stopped = false;

  constructor(
    private readonly o: KafkaAdapterConfig,
    private readonly busTopic: string,
    private readonly log: Logger,
  ) {}

  /** Where each partition ends now: reading starts there, unless a position is known already. */
  startAt(ends: ReadonlyArray<{ partition: number; high: string }>): void {
    for (const { partition, high } of ends) if (!this.next.has(partition)) this.next.set(partition, high);
  }

  /** Start the first consumer; resolves once it joined and reads every partition. */
  async start(kafka: Kafka, events: BusDriverEvents): Promise<void> {
    [this.kafka, this.events, this.stopped, this.restartDelay] = [kafka, events, false, 100];
    const joined = new Promise<void>((resolve) => (this.firstJoin = resolve));
    await this.run();
    await joined;
  }

  /** Stop the consumer and any restart; the positions are kept for the next `start`. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    [this.restartTimer, this.firstJoin] = [undefined, undefined];
    const consumer = this.consumer;
    this.consumer = undefined;
    await this.disconnect(consumer);
  }

  private async run(): Promise<void> {
    const o = this.o;
    const consumer = (this.kafka as Kafka).consumer({
      groupId: `${o.prefix}bus-${randomId(9)}`,
      maxWaitTimeInMs: o.maxWaitTimeMs,
      minBytes: o.minBytes,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // We restart it ourselves under a NEW group id: rejoining the old group after a broker
      // restart would wait for the dead member's session to time out.
      retry: { initialRetryTime: 100, retries: 3, maxRetryTime: o.maxReconnectDelayMs, restartOnFailure: async () => false },
    });
    [this.consumer, this.joined] = [consumer, false];
    const current = () => consumer === this.consumer && !this.stopped;
    consumer.on(consumer.events.GROUP_JOIN, (e) => current() && this.onJoin(consumer, e.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, ({ payload: { error, restart } }) => {
      if (!current()) return;
      this.events?.count('error');
      this.log.warn({ err: error, restart }, 'kafka bus consumer crashed');
      this.lost('consumer crashed', !restart);
    });
    // A request got no answer within `requestTimeoutMs`: the broker went silent, and kafkajs
    // would keep waiting on the same connection. A consumer still joining is left to its own failure.
    consumer.on(consumer.events.REQUEST_TIMEOUT, ({ payload: { apiName } }) => {
      if (!current() || !this.joined) return;
      this.log.warn({ apiName, requestTimeoutMs: o.requestTimeoutMs }, 'kafka broker did not answer the bus consumer; replacing it');
      this.lost('broker went silent', true);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.busTopic], fromBeginning: false });
      await consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) });
    } catch (err) {
      // Replaced meanwhile (its broker went silent): the consumer that replaced it is in charge.
      if (this.consumer === consumer) throw err;
    }
  }

  /** Position every assigned partition where we left off (kafkajs would otherwise start at the end again). */
  private onJoin(consumer: Consumer, assignment: Record<string, number[]>): void {
    for (const partition of assignment[this.busTopic] ?? []) {
      const offset = this.next.get(partition);
      if (offset !== undefined) consumer.seek({ topic: this.busTopic, partition, offset });
    }
    [this.joined, this.restartDelay] = [true, 100];
    this.firstJoin?.();
    this.firstJoin = undefined;
    this.events?.up('listen');
  }

  /** The consumer is gone: the listen part is down; with `restart`, a new consumer follows after a growing delay. */
  private lost(reason: string, restart: boolean): void {
    this.joined = false;
    this.events?.down(reason, 'listen');
    if (!restart || this.stopped || this.restartTimer) return;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(delay * 2, this.o.maxReconnectDelayMs);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      const old = this.consumer;
      this.consumer = undefined;
      void this.disconnect(old).then(async () => {
        if (this.stopped) return;
        await this.run().catch((err: unknown) => {
          this.log.warn({ err }, 'kafka bus consumer restart failed; retrying');
          this.lost('consumer restart failed', true);
        });
      });
    }, delay);
  }

  private async onBatch({ batch }: EachBatchPayload): Promise<void> {
    const events = this.events as BusDriverEvents;
    for (const m of batch.messages) {
      const header = m.headers?.[TOPIC_HEADER];
      const topic = header === undefined ? m.key?.toString('utf8') : Buffer.isBuffer(header) ? header.toString('utf8') : String(header);
      if (topic === undefined || m.value === null) events.count('malformed');
      else events.message(topic, m.value);
    }
    const last = batch.messages.at(-1);
    if (last) this.next.set(batch.partition, (BigInt(last.offset) + 1n).toString());
  }

  /** A disconnect bounded by `requestTimeoutMs`; never rejects. */
  private async disconnect(consumer: Consumer | undefined): Promise<void> {
    if (!consumer) return;
    await withTimeout(consumer.disconnect(), this.o.requestTimeoutMs, () => kafkaError('TIMEOUT', 'disconnect timed out')).catch(() => undefined);
  }
}
