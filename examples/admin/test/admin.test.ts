/**
 * What the admin example's README says: two node processes on Redis, each serving the dashboard;
 * node 1's dashboard shows both nodes and the clients of node 2; the admin drains node 2 from
 * node 1's API and its clients move to node 1; a reader views but gets 403 on actions; no
 * password, 401 with the Basic challenge; both processes exit 0 on SIGTERM.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { serviceUrl } from '@switchyard/core/testing';
import type { ClusterSnapshot } from '@switchyard/admin';
import { createClient, type SwitchyardClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { freePort, Program, runId, waitFor } from '../../test/helpers.js';

const redisUrl = await serviceUrl('redis');
const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });

describe.skipIf(!redisUrl)('examples/admin on Redis', () => {
  const programs: Program[] = [];
  const clients: SwitchyardClient[] = [];

  afterAll(async () => {
    for (const c of clients) c.close();
    const codes = await Promise.all(programs.map((p) => p.stop()));
    expect(codes.every((c) => c === 0), programs.map((p) => p.output).join('\n---\n')).toBe(true);
  });

  it('the dashboard of node 1 shows both nodes, drains node 2 (its clients move), and keeps readers and strangers out', async () => {
    const env = { REDIS_URL: redisUrl as string, KEY_PREFIX: `admin-test-${runId()}:`, ADMIN_PASSWORD: 'admin-pw', READER_PASSWORD: 'reader-pw' };
    const nodes: Array<{ id: string; url: string; admin: string }> = [];
    for (const port of [await freePort(), await freePort()]) {
      const program = new Program('examples/admin/server.ts', [], { ...env, PORT: String(port) });
      programs.push(program);
      const [, id, url, admin] = await program.match(/(\S+) listening on (ws:\/\/\S+), admin dashboard at (http:\/\/\S+)/, 'a node listening');
      nodes.push({ id: id as string, url: url as string, admin: admin as string });
    }
    const [one, two] = nodes as [(typeof nodes)[number], (typeof nodes)[number]];
    for (let i = 0; i < 3; i++) {
      const c = createClient({ url: two.url, maxRedirects: 0, WebSocket: WebSocket as unknown as WebSocketConstructor, reconnect: { baseMs: 50, maxMs: 300, firstRetryMaxMs: 50 } });
      c.on('error', () => undefined);
      clients.push(c);
      await c.ready();
    }
    const snapshot = async () => (await (await fetch(`${one.admin}api/snapshot`, { headers: basic('reader', 'reader-pw') })).json()) as ClusterSnapshot;
    const s = await waitFor(async () => {
      const v = await snapshot();
      return v.nodes.length === 2 && v.nodes.find((n) => n.id === two.id)?.connections === 3 && v.rooms.find((r) => r.name === 'lobby')?.members === 3 ? v : undefined;
    }, 'both nodes and node 2 clients in the snapshot', 20_000);
    expect(s.nodes.every((n) => n.reporting && n.state === 'ready')).toBe(true);

    const page = await fetch(one.admin);
    expect(page.status).toBe(401);
    expect(page.headers.get('www-authenticate')).toBe('Basic realm="switchyard admin"');
    expect((await fetch(one.admin, { headers: basic('admin', 'wrong') })).status).toBe(401);
    expect((await fetch(one.admin, { headers: basic('reader', 'reader-pw') })).status).toBe(200);

    const drain = `${one.admin}api/nodes/${encodeURIComponent(two.id)}/drain`;
    const headers = { 'x-switchyard-admin': '1', 'content-type': 'application/json' };
    const refused = await fetch(drain, { method: 'POST', headers: { ...basic('reader', 'reader-pw'), ...headers } });
    expect(refused.status).toBe(403);
    const done = await fetch(drain, { method: 'POST', headers: { ...basic('admin', 'admin-pw'), ...headers } });
    expect(done.status).toBe(202);
    await waitFor(() => clients.every((c) => c.state === 'connected' && c.connection?.node === one.id), 'the three clients moved to node 1', 20_000);
    await waitFor(async () => (await snapshot()).nodes.find((n) => n.id === two.id)?.state === 'draining', 'node 2 shown draining', 20_000);
  });
});
