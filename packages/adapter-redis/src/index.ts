import { RedisBus } from './bus.js';
import { RedisHistory } from './history.js';
import { parseRedisOptions, type RedisAdapterOptions } from './options.js';
import { RedisRegistry } from './registry.js';
import { RedisSessionStore } from './sessions.js';

export { RedisBus } from './bus.js';
export { RedisHistory } from './history.js';
export { RedisRegistry } from './registry.js';
export { RedisSessionStore } from './sessions.js';
export { KeySpace } from './keys.js';
export { mapRedisError } from './errors.js';
export {
  KEY_PREFIX_PATTERN,
  parseRedisOptions,
  redisOptionsSchema,
  type RedisAdapterConfig,
  type RedisAdapterOptions,
  type RedisClient,
} from './options.js';

/** Every port Redis provides, built from one set of options. */
export interface RedisAdapter {
  bus: RedisBus;
  registry: RedisRegistry;
  sessions: RedisSessionStore;
  history: RedisHistory;
  /** Connect every port. */
  connect(): Promise<void>;
  /** Close every port (bus last, so departures still go out). Idempotent. */
  close(): Promise<void>;
}

/**
 * Build the Redis bus, registry, session store and history from one set of options. Validates
 * the options (CONFIG_INVALID names the field) and does no I/O: call `connect()` or connect each
 * port yourself.
 */
export function createRedisAdapter(options: RedisAdapterOptions = {}): RedisAdapter {
  const cfg = parseRedisOptions(options);
  const bus = new RedisBus(cfg);
  const registry = new RedisRegistry(cfg);
  const sessions = new RedisSessionStore(cfg);
  const history = new RedisHistory(cfg);
  return {
    bus,
    registry,
    sessions,
    history,
    async connect() {
      await Promise.all([bus.connect(), registry.connect(), sessions.connect(), history.connect()]);
    },
    async close() {
      await Promise.all([registry.close(), sessions.close(), history.close()]);
      await bus.close();
    },
  };
}
