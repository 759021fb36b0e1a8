import { randomId } from '@switchyard/core/adapter';
import { serviceUrl, TcpProxy } from '@switchyard/core/testing';
import { names } from '../node/ports.js';
import type { Bus, Fault, NodeBackend } from '../types.js';
import { cleanKafka, cleanNats, cleanPostgres, cleanRedis } from './cleanup.js';
import { missingBinaries, startPrivate, type PrivateService } from './private.js';

/** A scenario cannot run here (a service or binary is missing). Under `CI=true` callers fail instead of skipping. */
export class ScenarioSkipped extends Error {
  override readonly name = 'ScenarioSkipped';
}

export const inCi = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

/** The services of one scenario run: shared ones in a namespace of its own, a private one to restart, a proxy to partition. */
export interface Backend {
  readonly bus: Bus;
  readonly tag: string;
  /** Redis URL the driver may use itself (the replay fault reads and writes the bus channel). */
  readonly redisUrl: string | undefined;
  /** The proxy in front of the partitioned node's service (partition faults). */
  readonly proxy: TcpProxy | undefined;
  /** The restartable service (restart fault). */
  readonly private: PrivateService | undefined;
  /** What node `index` connects to (the partitioned node goes through the proxy). */
  forNode(index: number): NodeBackend;
  /** Remove the run's data from shared services; stop private services and the proxy. Never throws. */
  close(): Promise<void>;
}

export interface BackendOptions {
  /** The node whose service link goes through the proxy (partition faults). */
  partitioned?: number;
}

type ServiceName = 'redis' | 'nats' | 'postgres' | 'kafka';

/** A shared service URL, or a skip (a failure under CI, from `serviceUrl`). */
async function shared(name: ServiceName): Promise<string> {
  const url = await serviceUrl(name);
  if (!url) throw new ScenarioSkipped(`${name} is not available`);
  return url;
}

const portOf = (url: string): number => {
  const m = /:(\d+)(?:\/|$)/.exec(url.replace(/^[a-z]+:\/\//, ''));
  if (!m) throw new Error(`no port in ${url}`);
  return Number(m[1]);
};

const hostOf = (url: string): string => url.replace(/^[a-z]+:\/\//, '').replace(/^[^@]*@/, '').split(/[:/]/)[0] as string;

/** `url` with its port replaced (and host set to loopback, where the proxy listens). */
const viaProxy = (url: string, port: number): string => url.replace(/^([a-z]+:\/\/(?:[^@/]*@)?)[^:/]+:\d+/, `$1127.0.0.1:${port}`);

/** Prepare the services of one run of `fault` on `bus`. Throws ScenarioSkipped when something is missing. */
export async function prepareBackend(bus: Bus, fault: Fault, options: BackendOptions = {}): Promise<Backend> {
  const tag = `t${randomId(8).toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 12);
  names(tag); // validates
  if ((fault === 'partition-reset' || fault === 'partition-blackhole') && bus === 'kafka') {
    throw new Error('partition faults need one TCP service per bus; Kafka brokers advertise their own address (not supported)');
  }
  if (fault === 'replay' && bus !== 'redis') throw new Error('the replay fault reads the bus channel with a Redis client: Redis only');

  let priv: PrivateService | undefined;
  let proxy: TcpProxy | undefined;
  const base: NodeBackend = { bus, tag };
  const cleanups: Array<() => Promise<void>> = [];
  try {
    if (fault === 'restart') {
      const why = missingBinaries(bus);
      if (why) throw new ScenarioSkipped(`cannot run a private ${bus} to restart: ${why}`);
      priv = await startPrivate(bus);
    }
    switch (bus) {
      case 'redis':
        base.redisUrl = priv?.url ?? (await shared('redis'));
        if (!priv) cleanups.push(() => cleanRedis(base.redisUrl as string, names(tag).redisPrefix));
        break;
      case 'nats':
        base.natsUrl = priv?.url ?? (await shared('nats'));
        base.natsStorage = priv ? 'file' : 'memory';
        if (!priv) cleanups.push(() => cleanNats(base.natsUrl as string, tag));
        break;
      case 'postgres':
        base.postgresUrl = priv?.url ?? (await shared('postgres'));
        if (!priv) cleanups.push(() => cleanPostgres(base.postgresUrl as string, names(tag).pgSchema));
        break;
      case 'kafka':
        base.kafkaBrokers = [priv?.url ?? (await shared('kafka'))];
        base.redisUrl = await shared('redis');
        cleanups.push(() => cleanRedis(base.redisUrl as string, names(tag).redisPrefix));
        if (!priv) cleanups.push(() => cleanKafka(base.kafkaBrokers as string[], names(tag).kafkaPrefix));
        break;
    }
    if (fault === 'partition-reset' || fault === 'partition-blackhole') {
      const url = base.redisUrl ?? base.natsUrl ?? base.postgresUrl;
      if (!url) throw new Error(`no service URL to partition for ${bus}`);
      proxy = await TcpProxy.start({ target: { host: hostOf(url), port: portOf(url) } });
    }
  } catch (err) {
    await proxy?.close().catch(() => undefined);
    await priv?.destroy().catch(() => undefined);
    throw err;
  }

  const partitioned = options.partitioned;
  let closed = false;
  return {
    bus,
    tag,
    redisUrl: base.redisUrl,
    proxy,
    private: priv,
    forNode(index) {
      if (!proxy || index !== partitioned) return { ...base };
      const p = proxy.port;
      const b: NodeBackend = { ...base };
      if (bus === 'redis') b.redisUrl = viaProxy(base.redisUrl as string, p);
      if (bus === 'nats') b.natsUrl = viaProxy(base.natsUrl as string, p);
      if (bus === 'postgres') b.postgresUrl = viaProxy(base.postgresUrl as string, p);
      return b;
    },
    async close() {
      if (closed) return;
      closed = true;
      await proxy?.close().catch(() => undefined);
      await priv?.destroy().catch(() => undefined);
      for (const c of cleanups) await c().catch(() => undefined);
    },
  };
}
