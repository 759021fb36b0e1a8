import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeConnectFailure, type ConnectWords } from '../src/adapter.js';
import { isSwitchyardError } from '../src/index.js';

const words: ConnectWords = {
  backend: 'Demo',
  source: 'demo',
  options: 'the url option',
  tlsHow: 'demos://',
  isAuthFailure: (_c, t) => /bad password/i.test(t),
  closedWords: /demo hung up/i,
  otherCode: () => 'BACKEND_ERROR',
};

/** The error a real dial gets. */
function dial(host: string, port: number): Promise<Error> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(new Error('connected, expected a failure'));
    });
    socket.once('error', (err) => resolve(err));
  });
}

/** A port nobody listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('describeConnectFailure: the shared words of a connect failure', () => {
  it('a refused dial: BUS_UNAVAILABLE, where, why and what to check, with the backend named', async () => {
    const port = await closedPort();
    const err = describeConnectFailure(await dial('127.0.0.1', port), { target: `127.0.0.1:${port}` }, words);
    expect(isSwitchyardError(err, 'BUS_UNAVAILABLE')).toBe(true);
    expect(err.source).toBe('demo');
    expect(err.details).toEqual({ target: `127.0.0.1:${port}`, reason: 'refused' });
    expect(err.message).toMatch(/^\[switchyard\] \[demo\] cannot connect to Demo at 127\.0\.0\.1:\d+: connection refused/);
    expect(err.message).toContain(`Is Demo running on 127.0.0.1:${port}? Check the url option.`);
    expect((err.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('an unknown host: host not found, whatever code the resolver gave (ENOTFOUND or EAI_AGAIN)', async () => {
    const err = describeConnectFailure(await dial('switchyard-no-such-host.invalid', 1), { target: 'switchyard-no-such-host.invalid:1' }, words);
    expect(err.details).toMatchObject({ reason: 'dns' });
    expect(err.message).toContain('host not found');
    expect(err.message).toContain('Check the host name in the url option.');
  });

  it('the adapter decides the unreachable code and adds details', async () => {
    const port = await closedPort();
    const err = describeConnectFailure(await dial('127.0.0.1', port), { target: `127.0.0.1:${port}` }, { ...words, unreachableCode: 'NOT_FOUND', details: (code) => ({ retryable: code === 'NOT_FOUND' }) });
    expect(err.code).toBe('NOT_FOUND');
    expect(err.details).toEqual({ target: `127.0.0.1:${port}`, reason: 'refused', retryable: true });
  });

  it('a timeout names the deadline; credentials never reach the message; the backend recognises its own auth and close words', () => {
    const timedOut = describeConnectFailure(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), { target: 'h:1', tls: true, timeoutMs: 750 }, words);
    expect(timedOut.code).toBe('TIMEOUT');
    expect(timedOut.message).toContain('cannot connect to Demo at h:1: timed out after 750 ms');
    expect(timedOut.message).toContain('TLS to a server without it');
    expect(timedOut.message).toContain('If Demo is only slow, raise connectTimeoutMs.');

    const auth = describeConnectFailure(new Error('bad password for demos://app:s3cret@h:1'), { target: 'h:1' }, words);
    expect(auth.code).toBe('CONFIG_INVALID');
    expect(auth.details).toMatchObject({ reason: 'auth' });
    expect(auth.message).toContain('(bad password for demos://h:1)');
    expect(auth.message).not.toContain('s3cret');

    const closed = describeConnectFailure(new Error('outer', { cause: new Error('the demo hung up') }), { target: 'h:1' }, words);
    expect(closed.details).toMatchObject({ reason: 'closed' });
    expect(closed.message).toContain('the server closed the connection (the demo hung up). Is h:1 really Demo? Check the url option.');

    const tls = describeConnectFailure(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), { target: 'h:1' }, words);
    expect(tls.message).toContain('TLS handshake failed');
    expect(tls.message).toContain('expects TLS (demos://)');

    const other = describeConnectFailure(new Error('something else'), { target: 'h:1' }, words);
    expect(other.code).toBe('BACKEND_ERROR');
    expect(other.details).toMatchObject({ reason: 'other' });
  });
});
