import { isSwitchyardError } from '@switchyard/core';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaBus, KafkaHistory } from '../src/index.js';

/** A loopback port with nothing listening on it (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A server that accepts connections and never answers: a broker gone silent. */
async function silentServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface ConnectFailure {
  code: string;
  source: string;
  message: string;
  cause: unknown;
  details: { target: string; reason: string };
}

/** The error `connect()` rejects with (the test fails if it connects). */
async function failure(port: { connect(): Promise<void> }): Promise<ConnectFailure> {
  const err = await port.connect().then(() => null, (e: unknown) => e);
  expect(isSwitchyardError(err)).toBe(true);
  return err as ConnectFailure;
}

/** The socket error codes anywhere in `err`'s causes. */
const causeCodes = (err: unknown): unknown[] => {
  const out: unknown[] = [];
  for (let e = err as { cause?: unknown; code?: unknown } | undefined; e; e = e.cause as typeof e) out.push(e.code);
  return out;
};

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const quick = { connectTimeoutMs: 10_000, maxReconnectDelayMs: 100 };

describe('connect() failures say where, why and what to check', () => {
  it('a closed port: connection refused, the broker, is Kafka running there', async () => {
    const port = await closedPort();
    for (const make of [() => new KafkaBus({ brokers: [`127.0.0.1:${port}`], ...quick }), () => new KafkaHistory({ brokers: [`127.0.0.1:${port}`], ...quick })]) {
      const p = make();
      cleanup.push(() => p.close());
      const err = await failure(p);
      expect(err.source).toBe('kafka');
      expect(err.code).toBe('BUS_UNAVAILABLE');
      expect(err.details).toMatchObject({ target: `127.0.0.1:${port}`, reason: 'refused' });
      expect(err.message).toContain(`cannot connect to Kafka at 127.0.0.1:${port}: connection refused`);
      expect(err.message).toContain(`Is Kafka running on 127.0.0.1:${port}? Check the brokers option.`);
      expect(causeCodes(err)).toContain('ECONNREFUSED');
    }
  });

  it('an unresolvable host: host not found, naming the host', async () => {
    const bus = new KafkaBus({ brokers: ['switchyard-no-such-host.invalid:9092'], ...quick });
    cleanup.push(() => bus.close());
    const err = await failure(bus);
    expect(err.code).toBe('BUS_UNAVAILABLE');
    expect(err.details).toMatchObject({ target: 'switchyard-no-such-host.invalid:9092', reason: 'dns' });
    expect(err.message).toContain('cannot connect to Kafka at switchyard-no-such-host.invalid:9092: host not found');
    expect(err.message).toContain('Check the host name in the brokers option');
  });

  it('a broker that never answers: TIMEOUT after connectTimeoutMs, naming the broker', async () => {
    const silent = await silentServer();
    cleanup.push(() => silent.stop());
    const history = new KafkaHistory({ brokers: [`127.0.0.1:${silent.port}`], connectTimeoutMs: 500 });
    cleanup.push(() => history.close());
    const err = await failure(history);
    expect(err.code).toBe('TIMEOUT');
    expect(err.details).toMatchObject({ target: `127.0.0.1:${silent.port}`, reason: 'timeout' });
    expect(err.message).toContain(`cannot connect to Kafka at 127.0.0.1:${silent.port}: timed out after 500 ms`);
    expect(err.message).toContain('raise connectTimeoutMs');
  });
});
