/** Redis bus, registry, session store and history for Switchyard. */
export { createRedisAdapter, type RedisAdapter } from './adapter.js';
export { RedisBus } from './bus.js';
export { RedisHistory } from './history.js';
export { RedisRegistry } from './registry.js';
export { RedisSessionStore } from './sessions.js';
export { KeySpace } from './names.js';
export { mapRedisError } from './errors.js';
export {
  KEY_PREFIX_PATTERN,
  parseRedisOptions,
  redisOptionsSchema,
  type RedisAdapterConfig,
  type RedisAdapterOptions,
  type RedisClient,
} from './options.js';
