/**
 * The `--bus` choice of the demo: which ports each node gets. Every node gets its OWN adapter
 * instances (as separate processes would), all pointing at the same backend, so stopping or
 * killing one node closes only that node's connections.
 */
import { MemoryHub, type CreateClusterOptions } from '@switchyard/core';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { createNatsAdapter } from '@switchyard/adapter-nats';
import { createPostgresAdapter } from '@switchyard/store-postgres';
import { createKafkaAdapter } from '@switchyard/adapter-kafka';

export type PortsOptions = Pick<CreateClusterOptions, 'bus' | 'registry' | 'sessions' | 'history' | 'hub'>;

export interface Backend {
  /** Short name for the dashboard: memory, redis, nats, postgres, kafka. */
  readonly name: string;
  /** Where it points, without credentials. */
  readonly where: string;
  /** The ports of one new node (no I/O: the cluster connects them on start). */
  portsFor(nodeId: string): PortsOptions;
}

/** Drops user and password from a URL before it is shown anywhere. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** Builds the backend for `--bus`. Names and prefixes are fixed so every node of the demo shares them. */
export function createBackend(bus: string): Backend {
  // Registry and sessions of buses that do not provide them (Kafka) stay in memory: one process.
  const hub = new MemoryHub();
  if (bus === 'memory') {
    return { name: 'memory', where: 'in-process MemoryHub', portsFor: () => ({ hub, history: true }) };
  }
  if (/^rediss?:\/\//.test(bus)) {
    return {
      name: 'redis',
      where: redact(bus),
      portsFor: () => {
        const a = createRedisAdapter({ url: bus, keyPrefix: 'sy-demo:' });
        return { bus: a.bus, registry: a.registry, sessions: a.sessions, history: a.history };
      },
    };
  }
  if (bus.startsWith('nats://')) {
    return {
      name: 'nats',
      where: redact(bus),
      portsFor: (nodeId) => {
        const a = createNatsAdapter({
          servers: bus,
          name: `switchyard-demo-${nodeId}`,
          prefix: 'sydemo',
          history: { stream: 'SYDEMO_HISTORY', epochBucket: 'sydemo_epochs' },
        });
        return { bus: a.bus, registry: a.registry, sessions: a.sessions, history: a.history };
      },
    };
  }
  if (/^postgres(ql)?:\/\//.test(bus)) {
    return {
      name: 'postgres',
      where: redact(bus),
      portsFor: () => {
        const a = createPostgresAdapter({ connectionString: bus, schema: 'switchyard_demo' });
        return { bus: a.bus, registry: a.registry, sessions: a.sessions, history: a.history };
      },
    };
  }
  if (bus.startsWith('kafka://')) {
    const brokers = bus.slice('kafka://'.length).split(',').map((b) => b.replace(/\/+$/, ''));
    return {
      name: 'kafka',
      where: brokers.join(','),
      portsFor: (nodeId) => {
        const a = createKafkaAdapter({ brokers, clientId: `switchyard-demo-${nodeId}` });
        return { bus: a.bus, history: a.history, hub };
      },
    };
  }
  throw new Error(`unknown bus ${bus}`);
}
