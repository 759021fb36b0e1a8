import type { CreateClusterOptions } from '@switchyard/core';
import type { Bus } from '../types.js';

/** Where the backing services are, and the run's namespace (prefix) on them. */
export interface BackendConfig {
  runId: string;
  redisUrl: string;
  redisClusterNodes: string[];
  natsUrl: string;
  kafkaBrokers: string[];
  postgresUrl: string;
}

type Ports = Pick<CreateClusterOptions, 'bus' | 'registry' | 'sessions' | 'history'>;

/**
 * The ports of one Switchyard node on `bus`, under a per-run prefix so runs never see each
 * other. Each backend serves bus, registry, sessions and history itself, except Kafka (bus
 * and history only: registry and sessions come from Redis, as the Kafka adapter documents).
 */
export async function portsFor(bus: Exclude<Bus, 'memory'>, cfg: BackendConfig): Promise<Ports> {
  const tag = cfg.runId.replace(/[^a-z0-9]/gi, '').toLowerCase();
  switch (bus) {
    case 'redis': {
      const { createRedisAdapter } = await import('@switchyard/adapter-redis');
      const a = createRedisAdapter({ url: cfg.redisUrl, keyPrefix: `bench:${tag}:`, registryReconcileMs: 500 });
      return { bus: a.bus, registry: a.registry, sessions: a.sessions, history: a.history };
    }
    case 'redis-sharded': {
      const { createRedisAdapter } = await import('@switchyard/adapter-redis');
      const seeds = cfg.redisClusterNodes.map((hp) => {
        const [host, port] = hp.split(':');
        return { host: host as string, port: Number(port) };
      });
      const a = createRedisAdapter({ mode: 'sharded', nodes: seeds, keyPrefix: `bench:${tag}:`, registryReconcileMs: 500 } as never);
      return { bus: a.bus, registry: a.registry, sessions: a.sessions, history: a.history };
    }
    case 'nats': {
      const { createNatsAdapter } = await import('@switchyard/adapter-nats');
      const a = createNatsAdapter({
        servers: cfg.natsUrl,
        prefix: `bench.${tag}`,
        history: { stream: 'BENCH_HISTORY', epochBucket: 'bench_epochs', storage: 'memory', maxAgeMs: 600_000 },
        registry: { bucket: 'bench_registry', storage: 'memory', maxAgeMs: 600_000 },
        sessions: { bucket: 'bench_sessions', storage: 'memory', maxAgeMs: 600_000 },
      });
      return { bus: a.bus, registry: a.registry, sessions: a.sessions, history: a.history };
    }
    case 'kafka': {
      const { createKafkaAdapter } = await import('@switchyard/adapter-kafka');
      const { createRedisAdapter } = await import('@switchyard/adapter-redis');
      const k = createKafkaAdapter({ brokers: cfg.kafkaBrokers, prefix: `bench.${tag}.`, partitions: 1, clientId: `bench-${tag}` });
      const r = createRedisAdapter({ url: cfg.redisUrl, keyPrefix: `bench:${tag}:`, registryReconcileMs: 500 });
      return { bus: k.bus, history: k.history, registry: r.registry, sessions: r.sessions };
    }
    case 'postgres': {
      const { createPostgresAdapter } = await import('@switchyard/store-postgres');
      const a = createPostgresAdapter({ connectionString: cfg.postgresUrl, schema: `bench_${tag}` } as never);
      return { bus: a.bus, registry: a.registry, sessions: a.sessions, history: a.history };
    }
  }
}
