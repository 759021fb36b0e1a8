import type { ClusterAdapter } from '@switchyard/core';
import { composeAdapter } from '@switchyard/core/adapter';
import { KafkaBus } from './bus.js';
import { KafkaHistory } from './history.js';
import { parseKafkaOptions, type KafkaAdapterInput } from './options.js';

/**
 * What `createKafkaAdapter` returns: the bus and the history Kafka serves. Kafka has no node
 * registry and no session store of its own (`registry` and `sessions` are `undefined`,
 * `capabilities.registry`/`capabilities.sessions` false): pass Redis's or Postgres's beside it,
 * or leave them in memory for a single process.
 */
export interface KafkaAdapter extends ClusterAdapter<KafkaBus, undefined, undefined, KafkaHistory> {
  readonly capabilities: { readonly bus: true; readonly registry: false; readonly sessions: false; readonly history: true };
}

/**
 * Build the Kafka bus and history from one set of options. Validates the options (CONFIG_INVALID
 * on a bad value) and does no I/O: call `connect()`.
 */
export function createKafkaAdapter(input: KafkaAdapterInput): KafkaAdapter {
  const options = parseKafkaOptions(input);
  const bus = new KafkaBus(options);
  const history = new KafkaHistory(options);
  return composeAdapter({ bus, registry: undefined, sessions: undefined, history });
}
