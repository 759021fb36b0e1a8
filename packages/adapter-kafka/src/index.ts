export { KafkaBus, TOPIC_HEADER } from './bus.js';
export { kafkaOptionsSchema, parseKafkaOptions, type KafkaAdapterInput, type KafkaAdapterOptions } from './options.js';
