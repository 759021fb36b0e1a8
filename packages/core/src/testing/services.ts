import { createConnection } from 'node:net';

export type ServiceName = 'redis' | 'postgres' | 'nats' | 'kafka';

interface ServiceSpec {
  env: string;
  /** Default loopback URL probed when the variable is unset. */
  local: string;
  host: string;
  port: number;
  /** Container image and port, when a container runtime exists. */
  image: string;
  containerPort: number;
  toUrl: (host: string, port: number) => string;
  containerEnv?: Record<string, string>;
}

const SPECS: Record<ServiceName, ServiceSpec> = {
  redis: { env: 'REDIS_URL', local: 'redis://127.0.0.1:6379', host: '127.0.0.1', port: 6379, image: 'redis:7-alpine', containerPort: 6379, toUrl: (h, p) => `redis://${h}:${p}` },
  postgres: {
    env: 'DATABASE_URL', local: 'postgres://postgres@127.0.0.1:5432/test', host: '127.0.0.1', port: 5432, image: 'postgres:15-alpine', containerPort: 5432,
    toUrl: (h, p) => `postgres://postgres:postgres@${h}:${p}/postgres`, containerEnv: { POSTGRES_PASSWORD: 'postgres' },
  },
  nats: { env: 'NATS_URL', local: 'nats://127.0.0.1:4222', host: '127.0.0.1', port: 4222, image: 'nats:2.10-alpine', containerPort: 4222, toUrl: (h, p) => `nats://${h}:${p}` },
  kafka: { env: 'KAFKA_BROKERS', local: '127.0.0.1:19092', host: '127.0.0.1', port: 19092, image: 'apache/kafka:3.9.0', containerPort: 9092, toUrl: (h, p) => `${h}:${p}` },
};

const cache = new Map<ServiceName, Promise<string | undefined>>();

function answers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

let runtime: Promise<boolean> | undefined;
/** One cached probe: is there a container runtime testcontainers can use? */
function containerRuntime(): Promise<boolean> {
  runtime ??= (async () => {
    try {
      const tc = (await import('testcontainers')) as { getContainerRuntimeClient: () => Promise<unknown> };
      await tc.getContainerRuntimeClient();
      return true;
    } catch {
      return false;
    }
  })();
  return runtime;
}

async function resolveService(name: ServiceName): Promise<string | undefined> {
  const spec = SPECS[name];
  const fromEnv = process.env[spec.env];
  if (fromEnv) return fromEnv;
  if (await answers(spec.host, spec.port)) return spec.local;
  if ((await containerRuntime()) && name === 'kafka') {
    // A plain container would advertise its internal address; the Kafka module maps listeners right.
    const mod = (await import('@testcontainers/kafka')) as unknown as {
      KafkaContainer: new (image: string) => { withKraft(): { start(): Promise<{ getHost(): string; getMappedPort(p: number): number }> } };
    };
    const started = await new mod.KafkaContainer('confluentinc/cp-kafka:7.6.1').withKraft().start();
    return `${started.getHost()}:${started.getMappedPort(9093)}`;
  }
  if (await containerRuntime()) {
    const tc = (await import('testcontainers')) as unknown as {
      GenericContainer: new (image: string) => {
        withExposedPorts(p: number): unknown;
        withEnvironment(e: Record<string, string>): unknown;
        start(): Promise<{ getHost(): string; getMappedPort(p: number): number }>;
      };
    };
    let c = new tc.GenericContainer(spec.image);
    c = c.withExposedPorts(spec.containerPort) as typeof c;
    if (spec.containerEnv) c = c.withEnvironment(spec.containerEnv) as typeof c;
    const started = await c.start();
    return spec.toUrl(started.getHost(), started.getMappedPort(spec.containerPort));
  }
  return undefined;
}

/**
 * The URL of a real service for integration tests: from its environment variable
 * (`REDIS_URL`, `DATABASE_URL`, `NATS_URL`, `KAFKA_BROKERS`), else the default loopback port if
 * it answers, else a container where a runtime exists. When none is found the suite should
 * skip and say so; with `CI=true` this throws instead, so a missing service fails CI.
 */
export async function serviceUrl(name: ServiceName): Promise<string | undefined> {
  let p = cache.get(name);
  if (!p) cache.set(name, (p = resolveService(name)));
  const url = await p;
  if (!url) {
    const msg = `${name} is not available: set ${SPECS[name].env} or start it on ${SPECS[name].host}:${SPECS[name].port}`;
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`[switchyard] [testing] ${msg} (CI requires it)`);
    process.stderr.write(`[switchyard] skipping ${name} tests: ${msg}\n`);
  }
  return url;
}
