import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { BackendConfig } from '../server/ports.js';
import type { Bus } from '../types.js';
import { answers, hostPort } from './probe.js';
import { LocalRedisCluster } from './redis-cluster.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

export const defaults = {
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(','),
  postgresUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
};

/** The services a plan needs, started or checked once per invocation; `stop()` undoes what we started. */
export class Backends {
  private cluster: LocalRedisCluster | undefined;
  readonly available = new Set<Bus>(['memory']);
  readonly skipped: Record<string, string> = {};

  /** Check (and where it is ours to do, start) the service behind each bus. */
  async prepare(buses: Iterable<Bus>, needRedis: boolean, log: (s: string) => void): Promise<void> {
    const want = new Set(buses);
    const up = (url: string) => answers(hostPort(url).host, hostPort(url).port);
    const redisUp = await up(defaults.redisUrl);
    if (needRedis && !redisUp) throw new Error(`Redis does not answer at ${defaults.redisUrl} (the Socket.IO baseline needs it)`);
    if (want.has('redis')) this.mark('redis', redisUp, `no Redis at ${defaults.redisUrl}`);
    if (want.has('nats')) this.mark('nats', await up(defaults.natsUrl), `no NATS at ${defaults.natsUrl}`);
    if (want.has('postgres')) this.mark('postgres', await up(defaults.postgresUrl), `no Postgres at ${defaults.postgresUrl}`);
    if (want.has('kafka')) {
      const b = hostPort(defaults.kafkaBrokers[0] as string);
      if (!(await answers(b.host, b.port))) {
        log('starting Kafka (scripts/kafka.sh start)...');
        spawnSync('bash', ['scripts/kafka.sh', 'start'], { cwd: REPO, stdio: 'ignore', timeout: 300_000 });
      }
      this.mark('kafka', (await answers(b.host, b.port)) && redisUp, 'no Kafka broker (or no Redis for its registry)');
    }
    if (want.has('redis-sharded')) {
      try {
        log('starting a private Redis Cluster (3 masters) on loopback...');
        this.cluster = new LocalRedisCluster();
        await this.cluster.start();
        this.available.add('redis-sharded');
      } catch (err) {
        this.skipped['redis-sharded'] = err instanceof Error ? err.message : String(err);
      }
    }
  }

  private mark(bus: Bus, ok: boolean, why: string): void {
    if (ok) this.available.add(bus);
    else this.skipped[bus] = why;
  }

  config(runId: string): BackendConfig {
    return { runId, ...defaults, redisClusterNodes: this.cluster?.seeds ?? [] };
  }

  /** Remove a run's keys from the shared Redis (sessions, registry, history), bounded. */
  async cleanRedis(runId: string): Promise<void> {
    const tag = runId.replace(/[^a-z0-9]/gi, '').toLowerCase();
    const r = new Redis(defaults.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await r.connect();
      for (const pattern of [`bench:${tag}:*`, `bench-sio-${runId}*`]) {
        let cursor = '0';
        for (let i = 0; i < 10_000; i++) {
          const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          if (keys.length) await r.unlink(...keys);
          cursor = next;
          if (cursor === '0') break;
        }
      }
    } catch {
      // best effort
    } finally {
      r.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.cluster?.stop();
  }
}

/** Drop a run's Postgres schema (tables, functions) so runs do not pile up. */
export async function cleanPostgres(runId: string): Promise<void> {
  const tag = runId.replace(/[^a-z0-9]/gi, '').toLowerCase();
  if (!/^[a-z0-9]+$/.test(tag)) return;
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: defaults.postgresUrl, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS bench_${tag} CASCADE`);
  } catch {
    // best effort
  } finally {
    await c.end().catch(() => undefined);
  }
}
