import type { Message, Producer } from 'kafkajs';
import { withTimeout } from './connection.js';
import { closedError, isUnreachable, kafkaError } from './errors.js';
import type { KafkaAdapterConfig } from './options.js';

/** Header carrying the Switchyard topic name of a bus message. */
export const TOPIC_HEADER = 'sy-topic';

/** Publishes sent as one produce request; they share one promise. */
interface Batch {
  readonly messages: Message[];
  bytes: number;
  readonly done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Most publishes in one produce request. */
const MAX_BATCH = 1000;

/**
 * The bus's sending side: one produce request in flight at a time, and whatever is sent while
 * it is out goes in the next (batching without any linger), up to 1000 publishes and
 * `maxBatchBytes` of payload (a partition's record batch must fit `message.max.bytes`).
 * A request that finds the broker unreachable fails every batch still waiting behind it too,
 * so nothing overtakes what the bus buffers again; a refused one fails its own batch only.
 */
export class BusOutbox {
  private readonly waiting: Batch[] = [];
  private sending = false;
  private readonly maxBatchBytes: number;

  constructor(
    private readonly options: KafkaAdapterConfig,
    private readonly busTopic: string,
    private readonly producer: () => Producer | undefined,
  ) {
    this.maxBatchBytes = Math.max(options.maxPayloadBytes, 64 * 1024);
  }

  /** Resolves once the broker acknowledged the request that carried it. */
  send(topic: string, payload: Uint8Array): Promise<void> {
    let batch = this.waiting.at(-1);
    if (batch === undefined || batch.messages.length >= MAX_BATCH || batch.bytes + payload.byteLength > this.maxBatchBytes) {
      batch = newBatch();
      this.waiting.push(batch);
    }
    batch.messages.push({ key: topic, value: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), headers: { [TOPIC_HEADER]: topic } });
    batch.bytes += payload.byteLength;
    void this.pump();
    return batch.done;
  }

  /** Fail every batch not sent yet with `err`. */
  clear(err: unknown): void {
    for (const b of this.waiting.splice(0)) b.reject(err);
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      for (let batch = this.waiting.shift(); batch !== undefined; batch = this.waiting.shift()) {
        try {
          await this.produce(batch.messages);
          batch.resolve();
        } catch (err) {
          batch.reject(err);
          if (isUnreachable(err)) this.clear(err);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /**
   * One produce request, bounded by `requestTimeoutMs` as a whole (kafkajs' retries included):
   * past it the send fails with TIMEOUT, which the bus treats as an unreachable broker. A send
   * cut off this way may still land later, so after such an outage a message can arrive twice.
   */
  private async produce(messages: Message[]): Promise<void> {
    const producer = this.producer();
    if (!producer) throw closedError('Kafka bus');
    const ms = this.options.requestTimeoutMs;
    const sent = producer.send({ topic: this.busTopic, acks: this.options.busAcks, messages });
    await withTimeout(sent, ms, () => kafkaError('TIMEOUT', `the broker did not acknowledge ${messages.length} publishes within ${ms} ms`));
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => ([resolve, reject] = [res, rej]));
  return { messages: [], bytes: 0, done, resolve, reject };
}
