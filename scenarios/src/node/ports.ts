import type { CreateClusterOptions } from '@switchyard/core';
import type { NodeBackend } from '../types.js';

/** Every name a run uses on its services, made from its tag (lowercase letters and digits). */
export function names(tag: string) {
  if (!/^[a-z0-9]{1,24}$/.test(tag)) throw new Error(`bad run tag ${JSON.stringify(tag)}: lowercase letters and digits only`);
  return {
    redisPrefix: `scn:${tag}:`,
    natsPrefix: `scn.${tag}`,
    natsStream: `SCN_${tag}_HISTORY`,
    natsBuckets: { epochs: `scn_${tag}_epochs`, registry: `scn_${tag}_registry`, sessions: `scn_${tag}_sessions` },
    pgSchema: `scn_${tag}`,
    kafkaPrefix: `scn.${tag}.`,
  };
}

export type Ports = Pick<CreateClusterOptions, 'bus' | 'registry' | 'sessions' | 'history'>;

const need = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new Error(`scenario backend: ${what} is missing`);
  return v;
};

/** The ports of one node on its backend, in the run's namespace. */
export async function portsFor(b: NodeBackend, nodeId: string, historyMaxLength: number): Promise<Ports> {
  const n = names(b.tag);
  const redis = async () => {
    const { createRedisAdapter } = await import('@switchyard/adapter-redis');
    return createRedisAdapter({ url: need(b.redisUrl, 'redisUrl'), keyPrefix: n.redisPrefix, registryReconcileMs: 500, history: { maxLength: historyMaxLength } });
  };
  switch (b.bus) {
    case 'redis': {
      const a = await redis();
      return { bus: a.bus, registry: a.registry, sessions: a.sessions, history: a.history };
    }
    case 'nats': {
      const { createNatsAdapter } = await import('@switchyard/adapter-nats');
      const storage = b.natsStorage ?? 'memory';
      const a = createNatsAdapter({
        servers: need(b.natsUrl, 'natsUrl'),
        name: `scenario-${nodeId}`,
        prefix: n.natsPrefix,
        history: { stream: n.natsStream, epochBucket: n.natsBuckets.epochs, storage, maxLength: historyMaxLength },
        registry: { bucket: n.natsBuckets.registry, storage },
        sessions: { bucket: n.natsBuckets.sessions, storage },
      });
      return { bus: a.bus, registry: a.registry, sessions: a.sessions, history: a.history };
    }
    case 'postgres': {
      const { createPostgresAdapter } = await import('@switchyard/store-postgres');
      const a = createPostgresAdapter({ connectionString: need(b.postgresUrl, 'postgresUrl'), schema: n.pgSchema, history: { maxLength: historyMaxLength } });
      return { bus: a.bus, registry: a.registry, sessions: a.sessions, history: a.history };
    }
    case 'kafka': {
      const { createKafkaAdapter } = await import('@switchyard/adapter-kafka');
      const k = createKafkaAdapter({ brokers: need(b.kafkaBrokers, 'kafkaBrokers'), prefix: n.kafkaPrefix, partitions: 1, clientId: `scn-${b.tag}-${nodeId}`, historyMaxLength });
      const r = await redis();
      return { bus: k.bus, history: k.history, registry: r.registry, sessions: r.sessions };
    }
  }
}
