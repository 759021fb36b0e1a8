import { createConnection } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** `http://host:port` of a listening Fastify app. */
export function baseUrl(app: FastifyInstance): string {
  const a = app.server.address() as AddressInfo;
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}

/** GET over real HTTP. */
export async function get(app: FastifyInstance, path: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(baseUrl(app) + path);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** Resolves true when a TCP connection to `port` is refused (nothing listens any more). */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}
