import { noopObserver } from '@switchyard/core/adapter';
import type { AdapterObserver, HistoryCapabilities, HistoryEntry, HistoryPosition, HistoryReadOptions, HistoryReadResult, HistoryStore, Logger } from '@switchyard/core';
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import { connectFailure, ensureTopic, kafkaClient, loggerFor, withTimeout } from './connection.js';
import { SOURCE, closedError, kafkaError, mapKafkaError, protocolType } from './errors.js';
import { readRange } from './history-reader.js';
import { parseKafkaOptions, type KafkaAdapterConfig, type KafkaAdapterInput } from './options.js';
import { epochOf, generationsOf, historyTopic } from './names.js';

const RECORD_OVERHEAD = 8 * 1024;

interface Clients {
  admin: Admin;
  producer: Producer;
}

const isUnknownTopic = (err: unknown) => protocolType(err) === 'UNKNOWN_TOPIC_OR_PARTITION';

/**
 * A `HistoryStore` on Kafka: one single-partition topic per stream and epoch,
 * `<prefix>h.<stream>.<generation>`. An entry's offset is its Kafka offset + 1, so offsets
 * are contiguous and exact within an epoch; `reset` creates the next generation's topic and
 * deletes the old one, which is what makes a new epoch. Retention by length is applied on
 * read (only the last `history.maxLength` entries are returned) and on the log with
 * `deleteRecords` every `history.maxLength` appends; retention by age is applied on read from
 * the broker's append timestamps, and on the log, coarsely, by the topic's `retention.ms`.
 */
export class KafkaHistory implements HistoryStore {
  readonly name = 'kafka';
  readonly capabilities: HistoryCapabilities = { retentionByLength: true, retentionByAge: true };
  private readonly options: KafkaAdapterConfig;
  private readonly log: Logger;
  private observer: AdapterObserver = noopObserver;
  /** Current generation of each stream we have seen. */
  private readonly generations = new Map<string, number>();
  private readonly lookups = new Map<string, Promise<number | null>>();
  private readonly creating = new Map<string, Promise<void>>();
  private readonly background = new Set<Promise<unknown>>();
  private closed = false;
  private connecting: Promise<void> | undefined;
  private kafka: Kafka | undefined;
  private clients: Clients | undefined;
  private rebuilding: Promise<void> | undefined;

  constructor(input: KafkaAdapterInput | KafkaAdapterConfig) {
    this.options = parseKafkaOptions(input);
    this.log = loggerFor(this.options, 'history');
  }

  instrument(observer: AdapterObserver): void {
    this.observer = observer;
  }

  async connect(): Promise<void> {
    this.check();
    if (this.clients) return;
    this.connecting ??= this.doConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    this.kafka ??= kafkaClient(this.options, this.log);
    const clients = await this.openClients();
    if (this.closed) {
      await this.closeClients(clients);
      throw closedError('Kafka history');
    }
    this.clients = clients;
  }

  private async openClients(): Promise<Clients> {
    const kafka = this.kafka as Kafka;
    const clients: Clients = {
      admin: kafka.admin(),
      // idempotent: a produce retried after a lost answer is written once (the broker dedupes by producer id and sequence)
      producer: kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 }),
    };
    try {
      await withTimeout(
        Promise.all([clients.admin.connect(), clients.producer.connect()]),
        this.options.connectTimeoutMs,
        () => kafkaError('TIMEOUT', `could not reach the brokers within ${this.options.connectTimeoutMs} ms`),
      );
    } catch (err) {
      await this.closeClients(clients);
      throw connectFailure(this.options, err);
    }
    return clients;
  }

  private async closeClients(c: Clients): Promise<void> {
    await Promise.all([c.admin.disconnect().catch(() => undefined), c.producer.disconnect().catch(() => undefined)]);
  }

  async append(stream: string, payload: Uint8Array): Promise<HistoryPosition> {
    this.ready();
    if (payload.byteLength > this.options.maxPayloadBytes) {
      throw kafkaError('PAYLOAD_TOO_LARGE', `payload of ${payload.byteLength} bytes exceeds ${this.options.maxPayloadBytes}`);
    }
    return this.attempt('append', stream, async ({ producer }) => {
      const generation = await this.generation(stream, true);
      const topic = historyTopic(this.options.prefix, stream, generation);
      // acks -1: an acknowledged entry is on every in-sync replica.
      const [meta] = await producer.send({
        topic,
        acks: -1,
        messages: [{ value: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength) }],
      });
      if (!meta) throw kafkaError('BACKEND_ERROR', `no offset returned for ${topic}`);
      const offset = Number(meta.baseOffset) + 1;
      this.maybeTrim(topic, offset);
      return { offset, epoch: epochOf(generation) };
    });
  }

  async read(stream: string, after: number, options: HistoryReadOptions = {}): Promise<HistoryReadResult> {
    this.ready();
    const limit = Math.max(1, Math.min(options.limit ?? this.options.history.readLimit, this.options.history.readLimit));
    return this.attempt('read', stream, async ({ admin }) => {
      const generation = await this.generation(stream, false);
      const epoch = epochOf(generation ?? 0);
      const epochChanged = options.epoch != null && options.epoch !== epoch;
      if (generation === null) return { epoch, entries: [], top: 0, gap: epochChanged && after > 0 };
      return this.readTopic(admin, historyTopic(this.options.prefix, stream, generation), epoch, epochChanged, after, limit);
    });
  }

  private async readTopic(admin: Admin, topic: string, epoch: string, epochChanged: boolean, after: number, limit: number): Promise<HistoryReadResult> {
    const [part] = await admin.fetchTopicOffsets(topic);
    const low = Number(part?.low ?? 0);
    const top = Number(part?.high ?? 0);
    let from = epochChanged ? 0 : Math.max(0, after);
    let gap = epochChanged;
    if (from > top) {
      // The reader is ahead of the stream: it was rebuilt under the same epoch. Start over.
      from = 0;
      gap = true;
    }
    // First offset still retained: the log start, the last `history.maxLength`, and the age limit.
    let first = Math.max(low + 1, top - this.options.history.maxLength + 1, 1);
    const cutoff = this.options.history.maxAgeMs > 0 ? Date.now() - this.options.history.maxAgeMs : 0;
    if (cutoff > 0 && top >= first) {
      const [byTime] = await admin.fetchTopicOffsetsByTimestamp(topic, cutoff);
      const kafkaOffset = Number(byTime?.offset ?? top);
      first = Math.max(first, (kafkaOffset < 0 ? top : kafkaOffset) + 1);
    }
    if (first > from + 1 && from < top) gap = true;
    const start = Math.max(from + 1, first);
    const end = Math.min(top, start + limit - 1);
    const entries: HistoryEntry[] = [];
    if (start <= end) {
      const messages = await readRange({
        kafka: this.kafka as Kafka,
        prefix: this.options.prefix,
        topic,
        from: start - 1,
        to: end,
        maxWaitTimeMs: this.options.maxWaitTimeMs,
        timeoutMs: this.options.operationTimeoutMs,
      });
      for (const m of messages) {
        const timestamp = Number(m.timestamp);
        if (cutoff > 0 && timestamp < cutoff) {
          gap = true;
          continue;
        }
        const value = m.value ?? Buffer.alloc(0);
        entries.push({ offset: Number(m.offset) + 1, payload: new Uint8Array(value.buffer, value.byteOffset, value.byteLength), timestamp });
      }
    }
    return { epoch, entries, top, gap };
  }

  async position(stream: string): Promise<HistoryPosition> {
    this.ready();
    return this.attempt('position', stream, async ({ admin }) => {
      const generation = await this.generation(stream, false);
      if (generation === null) return { offset: 0, epoch: epochOf(0) };
      const [part] = await admin.fetchTopicOffsets(historyTopic(this.options.prefix, stream, generation));
      return { offset: Number(part?.high ?? 0), epoch: epochOf(generation) };
    });
  }

  async reset(stream: string): Promise<void> {
    this.ready();
    await this.attempt('reset', stream, async (clients) => {
      const existing = generationsOf(this.options.prefix, stream, await clients.admin.listTopics());
      const current = existing[existing.length - 1];
      if (current === undefined) return;
      // The next generation is a fresh topic; time-based so it never repeats an old epoch.
      const next = Math.max(current + 1, Date.now());
      await this.createTopic(historyTopic(this.options.prefix, stream, next));
      this.generations.set(stream, next);
      await clients.admin.deleteTopics({ topics: existing.map((g) => historyTopic(this.options.prefix, stream, g)) });
      // kafkajs clients keep asking for metadata of every topic they ever used, and fail once
      // one is gone: start over with fresh ones.
      await this.rebuild(clients);
    });
  }

  /**
   * Run `op` within `operationTimeoutMs` (TIMEOUT past it); when a topic it relies on is gone (a
   * reset here or on another instance), forget the stream's generation, rebuild the kafkajs
   * clients (see `reset`) and try once more.
   */
  private async attempt<T>(action: string, stream: string, op: (clients: Clients) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const clients = this.ready();
      try {
        return await withTimeout(op(clients), this.options.operationTimeoutMs, () =>
          kafkaError('TIMEOUT', `history ${action} of ${stream}: no answer from the brokers within ${this.options.operationTimeoutMs} ms`),
        );
      } catch (err) {
        if (attempt === 0 && isUnknownTopic(err) && !this.closed) {
          this.generations.delete(stream);
          await this.rebuild(clients);
          continue;
        }
        this.observer.count(SOURCE, 'error');
        throw this.closed ? closedError('Kafka history') : mapKafkaError(err, action);
      }
    }
  }

  /** Replace `old` admin and producer with fresh ones (once, however many callers ask). */
  private rebuild(old: Clients): Promise<void> {
    if (this.clients !== old) return this.rebuilding ?? Promise.resolve();
    this.rebuilding ??= (async () => {
      const fresh = await this.openClients();
      if (this.closed) {
        await this.closeClients(fresh);
        throw closedError('Kafka history');
      }
      this.clients = fresh;
      const p = this.closeClients(old).finally(() => this.background.delete(p));
      this.background.add(p);
    })().finally(() => (this.rebuilding = undefined));
    return this.rebuilding;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    await this.rebuilding?.catch(() => undefined);
    await Promise.allSettled([...this.background]);
    const clients = this.clients;
    this.clients = undefined;
    if (clients) await this.closeClients(clients);
  }

  private check(): void {
    if (this.closed) throw closedError('Kafka history');
  }

  private ready(): Clients {
    this.check();
    if (!this.clients) throw kafkaError('NOT_CONNECTED', 'call connect() first');
    return this.clients;
  }

  /** The current generation of `stream`; with `create`, generation 0 is created when there is none. */
  private async generation(stream: string, create: true): Promise<number>;
  private async generation(stream: string, create: false): Promise<number | null>;
  private async generation(stream: string, create: boolean): Promise<number | null> {
    const known = this.generations.get(stream);
    if (known !== undefined) return known;
    let lookup = this.lookups.get(stream);
    if (!lookup) {
      lookup = (async () => {
        const found = generationsOf(this.options.prefix, stream, await this.ready().admin.listTopics());
        return found[found.length - 1] ?? null;
      })().finally(() => this.lookups.delete(stream));
      this.lookups.set(stream, lookup);
    }
    const generation = await lookup;
    if (generation !== null) {
      this.generations.set(stream, generation);
      return generation;
    }
    if (!create) return null;
    // Two instances may create generation 0 at once: the broker keeps one, both use it.
    await this.createTopic(historyTopic(this.options.prefix, stream, 0));
    if (!this.generations.has(stream)) this.generations.set(stream, 0);
    return this.generations.get(stream) as number;
  }

  private createTopic(topic: string): Promise<void> {
    let p = this.creating.get(topic);
    if (!p) {
      const ageMs = this.options.history.maxAgeMs;
      p = ensureTopic(this.ready().admin, {
        topic,
        numPartitions: 1,
        replicationFactor: this.options.replicationFactor,
        configEntries: [
          // The broker's clock stamps entries, so age is judged by one clock.
          { name: 'message.timestamp.type', value: 'LogAppendTime' },
          { name: 'max.message.bytes', value: String(this.options.maxPayloadBytes + RECORD_OVERHEAD) },
          { name: 'retention.ms', value: String(ageMs > 0 ? ageMs : -1) },
          ...(ageMs > 0 ? [{ name: 'segment.ms', value: String(Math.max(ageMs, 60_000)) }] : []),
        ],
      })
        .then(() => undefined)
        .finally(() => this.creating.delete(topic));
      this.creating.set(topic, p);
    }
    return p;
  }

  /** Every `history.maxLength` appends, drop what retention by length no longer keeps from the log. */
  private maybeTrim(topic: string, offset: number): void {
    const max = this.options.history.maxLength;
    if (offset <= max || offset % max !== 0 || !this.clients) return;
    const p = this.clients.admin
      .deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(offset - max) }] })
      .catch((err: unknown) => this.log.debug({ err, topic }, 'history trim failed; retried at the next multiple'))
      .finally(() => this.background.delete(p));
    this.background.add(p);
  }
}
