import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpProxy, waitFor } from '../src/testing/index.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** An echo server on loopback. */
async function echo(): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { server, port: (server.address() as { port: number }).port };
}

function client(port: number): { socket: Socket; received: () => string; closed: () => boolean } {
  let data = '';
  let closed = false;
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('data', (d) => (data += d.toString()));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  closers.push(async () => void socket.destroy());
  return { socket, received: () => data, closed: () => closed };
}

describe('TcpProxy', () => {
  it('forwards, holds everything during a blackhole and delivers it after, and resets connections', async () => {
    const { port } = await echo();
    const proxy = await TcpProxy.start({ target: { port } });
    closers.push(() => proxy.close());
    const c = client(proxy.port);
    c.socket.write('one;');
    await waitFor(() => c.received() === 'one;');

    proxy.blackhole();
    c.socket.write('two;');
    const late = client(proxy.port);
    late.socket.write('late;');
    await waitFor(() => proxy.accepted === 2);
    // nothing comes back while the blackhole lasts (checked after the other side had every chance to answer)
    await new Promise((r) => setTimeout(r, 200));
    expect(c.received()).toBe('one;');
    expect(late.received()).toBe('');
    expect(c.closed()).toBe(false);

    proxy.pass();
    await waitFor(() => c.received() === 'one;two;' && late.received() === 'late;');

    proxy.reset();
    await waitFor(() => c.closed() && late.closed());
    const refused = client(proxy.port);
    await waitFor(() => refused.closed());
    expect(refused.received()).toBe('');

    proxy.pass();
    const again = client(proxy.port);
    again.socket.write('three;');
    await waitFor(() => again.received() === 'three;');
  });
});
