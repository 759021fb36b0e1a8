/** Kafka bus and history for Switchyard. */
export { createKafkaAdapter, type KafkaAdapter } from './adapter.js';
export { KafkaBus, TOPIC_HEADER } from './bus.js';
export { KafkaHistory } from './history.js';
export { kafkaOptionsSchema, parseKafkaOptions, type KafkaAdapterConfig, type KafkaAdapterInput, type KafkaAdapterOptions } from './options.js';
