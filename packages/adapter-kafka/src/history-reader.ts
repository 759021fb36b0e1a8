import { randomId } from '@switchyard/core/adapter';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { withTimeout } from './connection.js';
import { kafkaError } from './errors.js';

export interface ReadRangeOptions {
  kafka: Kafka;
  prefix: string;
  topic: string;
  /** First Kafka offset to read. */
  from: number;
  /** Kafka offset to stop before. */
  to: number;
  maxWaitTimeMs: number;
  timeoutMs: number;
}

/**
 * Read Kafka offsets `[from, to)` of partition 0 of `topic`. kafkajs has no fetch without a
 * consumer group, so this joins a throwaway group of its own (no offsets are committed, so
 * the broker forgets it), seeks, collects and leaves. Each read costs a group join: tens of ms
 * with `group.initial.rebalance.delay.ms=0` on the broker, that delay (3 s by default) otherwise.
 */
export async function readRange(o: ReadRangeOptions): Promise<KafkaMessage[]> {
  const out: KafkaMessage[] = [];
  if (o.to <= o.from) return out;
  const consumer = o.kafka.consumer({
    groupId: `${o.prefix}hr-${randomId(9)}`,
    maxWaitTimeInMs: o.maxWaitTimeMs,
    minBytes: 1,
    allowAutoTopicCreation: false,
    retry: { initialRetryTime: 100, retries: 3 },
  });
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  try {
    await withTimeout(
      (async () => {
        consumer.on(consumer.events.GROUP_JOIN, () => consumer.seek({ topic: o.topic, partition: 0, offset: String(o.from) }));
        await consumer.connect();
        await consumer.subscribe({ topics: [o.topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              const offset = Number(m.offset);
              if (offset >= o.from && offset < o.to && (out.length === 0 || offset > Number(out[out.length - 1]?.offset))) out.push(m);
              if (offset >= o.to - 1) finish();
            }
          },
        });
        await done;
      })(),
      o.timeoutMs,
      () => kafkaError('TIMEOUT', `history read of ${o.topic} took longer than ${o.timeoutMs} ms`),
    );
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return out;
}
