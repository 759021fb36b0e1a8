import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import type { Connection, SwitchyardNode } from '../src/index.js';
import { startNodes, TestClient } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

describe('what a connection holds', () => {
  it('the upgrade request is there for the connection event, then let go (unless keepRequest); room state is made on first join', async () => {
    for (const keepRequest of [false, true]) {
      const [a] = await startNodes(['a'], { keepRequest });
      nodes.push(a as SwitchyardNode);
      const seen: Array<{ conn: Connection; headers: unknown }> = [];
      a!.on('connection', (conn) => seen.push({ conn, headers: conn.request?.headers['user-agent'] ?? conn.request?.headers.host }));
      const c = await TestClient.connect(a!.url, { noRedirect: true });
      clients.push(c.client);
      await waitFor(() => seen.length === 1);
      const { conn, headers } = seen[0]!;
      expect(headers).toBeDefined();
      expect(conn.request === undefined).toBe(!keepRequest);
      expect(conn.rooms).toEqual([]);
      expect((conn as unknown as { _cursors?: unknown })._cursors).toBeUndefined();
      expect((conn as unknown as { _data?: unknown })._data).toBeUndefined();
      await c.client.request({ t: 'join', room: 'r' });
      expect(conn.rooms).toEqual(['r']);
    }
  });
});
