import { isSwitchyardError } from '@switchyard/core';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NatsBus, NatsSessionStore } from '../src/index.js';

/** A loopback port with nothing listening on it (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A server that speaks just enough NATS to refuse the client's credentials, as nats-server does. */
async function refusingServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.write('INFO {"server_id":"fake","version":"2.10.0","proto":1,"max_payload":1048576,"auth_required":true}\r\n');
    s.on('data', (chunk) => {
      if (chunk.toString().startsWith('CONNECT')) s.write("-ERR 'Authorization Violation'\r\n");
    });
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

/** The driver's error at the bottom of `err`'s causes. */
const rootCause = (err: unknown): { code?: string; message?: string } => {
  let e = err as { cause?: unknown };
  while (e.cause) e = e.cause as { cause?: unknown };
  return e as { code?: string };
};

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('connect() failures say where, why and what to check', () => {
  it('a closed port: connection refused, host and port, is NATS running there', async () => {
    const port = await closedPort();
    for (const make of [() => new NatsBus({ servers: `nats://127.0.0.1:${port}`, connectTimeoutMs: 5000 }), () => new NatsSessionStore({ servers: `127.0.0.1:${port}`, connectTimeoutMs: 5000 })]) {
      const p = make();
      cleanup.push(() => p.close());
      const err = await failure(p);
      expect(err.source).toBe('nats');
      expect(err.code).toBe('BUS_UNAVAILABLE');
      expect(err.details).toMatchObject({ target: `127.0.0.1:${port}`, reason: 'refused' });
      expect(err.message).toContain(`cannot connect to NATS at 127.0.0.1:${port}: connection refused`);
      expect(err.message).toContain(`Is NATS running on 127.0.0.1:${port}?`);
      expect(rootCause(err).code).toBe('ECONNREFUSED');
    }
  });

  it('an unresolvable host: host not found, naming the host', async () => {
    const bus = new NatsBus({ servers: 'nats://switchyard-no-such-host.invalid:4222', connectTimeoutMs: 5000 });
    cleanup.push(() => bus.close());
    const err = await failure(bus);
    expect(err.code).toBe('BUS_UNAVAILABLE');
    expect(err.details).toMatchObject({ target: 'switchyard-no-such-host.invalid:4222', reason: 'dns' });
    expect(err.message).toContain('cannot connect to NATS at switchyard-no-such-host.invalid:4222: host not found');
    expect(err.message).toContain('Check the host name in the servers option');
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(rootCause(err).code);
  });

  it('refused credentials: authentication failed (CONFIG_INVALID), and the password is never printed', async () => {
    const fake = await refusingServer();
    cleanup.push(() => fake.stop());
    const bus = new NatsBus({ servers: `nats://app:s3cret-pw@127.0.0.1:${fake.port}`, connectTimeoutMs: 5000 });
    cleanup.push(() => bus.close());
    const err = await failure(bus);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details).toMatchObject({ target: `127.0.0.1:${fake.port}`, reason: 'auth' });
    expect(err.message).toContain(`cannot connect to NATS at 127.0.0.1:${fake.port}: authentication failed`);
    expect(err.message).toContain('Check the credentials');
    expect(err.message).not.toContain('s3cret-pw');
  });
});
