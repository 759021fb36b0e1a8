import { isSwitchyardError } from '@switchyard/core';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisBus, RedisSessionStore } from '../src/index.js';

/** A loopback port with nothing listening on it (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A server that answers every command with `reply` (a RESP error line), like Redis refusing a password. */
async function replyingServer(reply: string): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', () => s.write(reply));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
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

describe('connect() failures say where, why and what to check', () => {
  it('a closed port: connection refused, host and port, is Redis running there', async () => {
    const port = await closedPort();
    for (const make of [() => new RedisBus({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 5000 }), () => new RedisSessionStore({ connection: { host: '127.0.0.1', port }, connectTimeoutMs: 5000 })]) {
      const p = make();
      cleanup.push(() => p.close());
      const err = await failure(p);
      expect(err.source).toBe('redis');
      expect(err.code).toBe('BUS_UNAVAILABLE');
      expect(err.details).toMatchObject({ target: `127.0.0.1:${port}`, reason: 'refused' });
      expect(err.message).toContain(`cannot connect to Redis at 127.0.0.1:${port}: connection refused`);
      expect(err.message).toContain(`Is Redis running on 127.0.0.1:${port}?`);
      expect((err.cause as { code?: string }).code).toBe('ECONNREFUSED');
    }
  });

  it('an unresolvable host: host not found, naming the host', async () => {
    const bus = new RedisBus({ url: 'redis://switchyard-no-such-host.invalid:6379', connectTimeoutMs: 5000 });
    cleanup.push(() => bus.close());
    const err = await failure(bus);
    expect(err.code).toBe('BUS_UNAVAILABLE');
    expect(err.details).toMatchObject({ target: 'switchyard-no-such-host.invalid:6379', reason: 'dns' });
    expect(err.message).toContain('cannot connect to Redis at switchyard-no-such-host.invalid:6379: host not found');
    expect(err.message).toContain('Check the host name');
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain((err.cause as { code?: string }).code);
  });

  it('a refused password: authentication failed (CONFIG_INVALID), and the password is never printed', async () => {
    const fake = await replyingServer('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    cleanup.push(() => new Promise((resolve) => {
      for (const s of fake.sockets) s.destroy();
      fake.server.close(resolve);
    }));
    const store = new RedisSessionStore({ url: `redis://app:s3cret-pw@127.0.0.1:${fake.port}`, connectTimeoutMs: 5000 });
    cleanup.push(() => store.close());
    const err = await failure(store);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details.reason).toBe('auth');
    expect(err.message).toContain(`cannot connect to Redis at 127.0.0.1:${fake.port}: authentication failed`);
    expect(err.message).toContain('Check the credentials (user name and password)');
    expect(err.message).not.toContain('s3cret-pw');
  });
});
