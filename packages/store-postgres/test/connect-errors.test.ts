import { isSwitchyardError } from '@switchyard/core';
import pg from 'pg';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresBus, PostgresSessionStore } from '../src/index.js';

/** A loopback port with nothing listening on it (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A server that answers the startup message as PostgreSQL does a wrong password: ErrorResponse 28P01. */
async function refusingServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const fields = ['SFATAL', 'VFATAL', 'C28P01', 'Mpassword authentication failed for user "app"'].map((f) => `${f}\0`).join('') + '\0';
  const body = Buffer.from(fields, 'utf8');
  const reply = Buffer.concat([Buffer.from('E'), Buffer.alloc(4), body]);
  reply.writeInt32BE(4 + body.length, 1);
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.once('data', () => s.end(reply));
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

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Bounded: one retry of a lost connection, a short first delay. */
const quick = { queryRetries: 1, queryRetryDelayMs: 10, connectTimeoutMs: 5000 };

describe('connect() failures say where, why and what to check', () => {
  it('a closed port: connection refused, host and port, is PostgreSQL running there; no password printed', async () => {
    const port = await closedPort();
    const connectionString = `postgres://app:s3cret-pw@127.0.0.1:${port}/test`;
    for (const [make, code] of [
      [() => new PostgresSessionStore({ connectionString, ...quick }), 'BUS_UNAVAILABLE'],
      [() => new PostgresBus({ connectionString, ...quick }), 'BUS_UNAVAILABLE'],
    ] as const) {
      const p = make();
      cleanup.push(() => p.close());
      const err = await failure(p);
      expect(err.source).toBe('postgres');
      expect(err.code).toBe(code);
      expect(err.details).toMatchObject({ target: `127.0.0.1:${port}`, reason: 'refused' });
      expect(err.message).toContain(`cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused`);
      expect(err.message).toContain(`Is PostgreSQL running on 127.0.0.1:${port}? Check the connectionString or poolConfig option.`);
      expect(err.message).not.toContain('s3cret-pw');
    }
  });

  it('an unresolvable host: host not found, naming the host', async () => {
    const store = new PostgresSessionStore({ poolConfig: { host: 'switchyard-no-such-host.invalid', port: 5432, user: 'app' }, ...quick });
    cleanup.push(() => store.close());
    const err = await failure(store);
    expect(err.code).toBe('BUS_UNAVAILABLE');
    expect(err.details).toMatchObject({ target: 'switchyard-no-such-host.invalid:5432', reason: 'dns' });
    expect(err.message).toContain('cannot connect to PostgreSQL at switchyard-no-such-host.invalid:5432: host not found');
    expect(err.message).toContain('Check the host name in the connectionString or poolConfig option');
  });

  it('a pool you pass in: the address comes from the socket error', async () => {
    const port = await closedPort();
    const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'app', connectionTimeoutMillis: 5000 });
    cleanup.push(() => pool.end());
    const store = new PostgresSessionStore({ pool, ...quick });
    cleanup.push(() => store.close());
    const err = await failure(store);
    expect(err.details).toMatchObject({ target: `127.0.0.1:${port}`, reason: 'refused' });
  });

  it('a refused password: authentication failed (CONFIG_INVALID), and the password is never printed', async () => {
    const fake = await refusingServer();
    cleanup.push(() => fake.stop());
    const store = new PostgresSessionStore({ connectionString: `postgres://app:s3cret-pw@127.0.0.1:${fake.port}/test`, ...quick });
    cleanup.push(() => store.close());
    const err = await failure(store);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details).toMatchObject({ target: `127.0.0.1:${fake.port}`, reason: 'auth' });
    expect(err.message).toContain(`cannot connect to PostgreSQL at 127.0.0.1:${fake.port}: authentication failed (password authentication failed for user "app")`);
    expect(err.message).toContain('Check the credentials');
    expect(err.message).not.toContain('s3cret-pw');
  });
});
