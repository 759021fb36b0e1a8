/**
 * A chat node with the admin dashboard at /admin. Start several, each its own process, on the
 * same Redis: every one serves the dashboard (and answers the others' questions), so any of
 * them shows the whole cluster.
 *
 *   PORT=4001 ADMIN_PASSWORD=change-me node --conditions=@switchyard/source --import tsx examples/admin/server.ts
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { mountAdmin, type AdminPermissions } from '@switchyard/admin';
import { createNode } from '@switchyard/transport-ws';

const adminPassword = process.env.ADMIN_PASSWORD;
const readerPassword = process.env.READER_PASSWORD;
if (!adminPassword) throw new Error('set ADMIN_PASSWORD (user "admin" may drain nodes and disconnect clients; READER_PASSWORD for a read-only "reader")');

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** HTTP Basic: "admin" may view and act, "reader" may only view; anyone else nothing. */
function authorize(req: IncomingMessage): AdminPermissions | false {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const text = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const user = text.slice(0, text.indexOf(':'));
  const password = text.slice(text.indexOf(':') + 1);
  if (user === 'admin' && same(password, adminPassword as string)) return { read: true, act: true };
  if (user === 'reader' && readerPassword && same(password, readerPassword)) return { read: true, act: false };
  return false;
}

const adapter = createRedisAdapter({ url: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX });
const node = createNode({ adapter, port: Number(process.env.PORT ?? 4001), rooms: { history: true } });
node.on('connection', (conn) => void conn.join('lobby'));
await node.start();
const admin = mountAdmin(node, { path: '/admin', authorize, challenge: 'Basic realm="switchyard admin"' });
node.closeOnSignals({ exit: true, onClose: () => admin.close() });
console.log(`${node.id} listening on ${node.url}, admin dashboard at ${node.url.replace(/^ws/, 'http').replace(/\/ws$/, '')}/admin/`);
