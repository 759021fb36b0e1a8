import type { AdapterObserver } from '@switchyard/core';
import { KafkaBus } from './bus.js';
import { KafkaHistory } from './history.js';
import { parseKafkaOptions, type KafkaAdapterInput } from './options.js';

/** What `createKafkaAdapter` returns: the ports Kafka serves. No registry or session store: use Redis or Postgres for those. */
export interface KafkaAdapter {
  bus: KafkaBus;
  history: KafkaHistory;
  /** Report both ports' events to one observer. */
  instrument(observer: AdapterObserver): void;
  /** Connect both ports. */
  connect(): Promise<void>;
  /** Close both ports; safe to call many times. */
  close(): Promise<void>;
}

/**
 * Build the Kafka bus and history from one set of options. Validates the options (CONFIG_INVALID
 * on a bad value) and does no I/O: call `connect()`.
 */
export function createKafkaAdapter(input: KafkaAdapterInput): KafkaAdapter {
  const options = parseKafkaOptions(input);
  const bus = new KafkaBus(options);
  const history = new KafkaHistory(options);
  return {
    bus,
    history,
    instrument: (observer) => {
      bus.instrument(observer);
      history.instrument(observer);
    },
    connect: async () => {
      await Promise.all([bus.connect(), history.connect()]);
    },
    close: async () => {
      await Promise.all([bus.close(), history.close()]);
    },
  };
}
