import { PrivateBroker } from '../../../packages/adapter-kafka/test/private-broker.js';
import { hasNatsServer, PrivateNatsServer } from '../../../packages/adapter-nats/test/private-server.js';
import { hasRedisBinaries, PrivateRedis } from '../../../packages/adapter-redis/test/support/redis-process.js';
import { findPgBin, PrivatePostgres } from '../../../packages/store-postgres/test/private-postgres.js';
import type { Bus } from '../types.js';

/**
 * A service instance of the scenario's own, on free loopback ports and in a temp dir, for the
 * restart fault: the shared services others use are never restarted. Each wraps the helper the
 * adapter's own restart tests use, so there is one way to run a private server per backend.
 */
export interface PrivateService {
  /** redis://..., nats://..., postgres://... or host:port for Kafka. */
  readonly url: string;
  /** Stop the service, keep it down for `downMs`, start it again on the same port and data. */
  restart(downMs: number): Promise<{ stoppedAt: number; startedAt: number }>;
  destroy(): Promise<void>;
}

/** Why a private service cannot run here, or undefined when it can. */
export function missingBinaries(bus: Bus): string | undefined {
  switch (bus) {
    case 'redis':
      return hasRedisBinaries() ? undefined : 'redis-server is not installed';
    case 'nats':
      return hasNatsServer() ? undefined : 'nats-server is not installed';
    case 'postgres':
      return findPgBin() ? undefined : 'no PostgreSQL server binaries under /usr/lib/postgresql';
    case 'kafka':
      return undefined; // scripts/kafka.sh says what is missing when it fails
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function timed(stop: () => Promise<void>, start: () => Promise<void>, downMs: number) {
  await stop();
  const stoppedAt = Date.now();
  await pause(downMs);
  await start();
  return { stoppedAt, startedAt: Date.now() };
}

/**
 * Start a private instance for `bus`. Redis keeps an append-only file fsynced on every write, so
 * a restart loses nothing that was acknowledged (history, registry and sessions survive, as on a
 * production Redis with persistence); NATS keeps JetStream on disk (the node side asks for
 * `file` storage); Postgres and Kafka persist by nature.
 */
export async function startPrivate(bus: Bus): Promise<PrivateService> {
  switch (bus) {
    case 'redis': {
      const r = await PrivateRedis.start({ aof: true });
      return {
        url: r.url,
        restart: (downMs) => timed(() => r.kill('SIGTERM'), () => r.startProcess(), downMs),
        destroy: () => r.destroy(),
      };
    }
    case 'nats': {
      const s = await PrivateNatsServer.start();
      return { url: s.url, restart: (downMs) => timed(() => s.stop(), () => s.start(), downMs), destroy: () => s.dispose() };
    }
    case 'postgres': {
      const bin = findPgBin();
      if (!bin) throw new Error('no PostgreSQL server binaries');
      const pg = new PrivatePostgres(bin);
      try {
        await pg.init();
      } catch (err) {
        await pg.destroy();
        throw err;
      }
      return { url: pg.url, restart: (downMs) => timed(() => pg.stop('fast'), () => pg.start(), downMs), destroy: () => pg.destroy() };
    }
    case 'kafka': {
      const k = new PrivateBroker();
      try {
        await k.start();
      } catch (err) {
        await k.destroy();
        throw err;
      }
      return { url: k.brokers[0] as string, restart: (downMs) => timed(() => k.stop(), () => k.start(), downMs), destroy: () => k.destroy() };
    }
  }
}
