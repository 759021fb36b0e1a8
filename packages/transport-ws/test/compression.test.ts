import { afterEach, describe, expect, it } from 'vitest';
import type { SwitchyardNode } from '../src/index.js';
import { startNodes, TestClient, type Frame } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

/** Bytes the client's TCP socket has read so far (compressed size on the wire). */
const bytesRead = (c: TestClient): number => (c.ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;

/** Send `text` to the client's connection and return the wire bytes it took and the frame it became. */
async function roundTrip(node: SwitchyardNode, c: TestClient, conn: string, text: string): Promise<{ wire: number; frame: Frame }> {
  const before = bytesRead(c);
  const seen = c.msgs.length;
  await node.toConnection(conn).send('blob', text);
  await c.waitMsgs(seen + 1);
  return { wire: bytesRead(c) - before, frame: c.msgs[seen] as Frame };
}

describe('permessage-deflate', () => {
  it('is off unless opted in, even when the client offers it', async () => {
    nodes.push(...(await startNodes(['a'])));
    const { client, welcome } = await TestClient.connect(nodes[0]!.url);
    clients.push(client);
    expect(client.ws.extensions).toBe('');
    const big = await roundTrip(nodes[0]!, client, String(welcome.conn), 'abc'.repeat(4000));
    expect(big.wire).toBeGreaterThan(12_000);
  });

  it('opted in: negotiated; a message from the threshold up is compressed, a smaller one is not', async () => {
    nodes.push(...(await startNodes(['a'], { perMessageDeflate: { threshold: 1024 } })));
    const [a] = nodes as [SwitchyardNode];
    const { client, welcome } = await TestClient.connect(a.url);
    clients.push(client);
    expect(client.ws.extensions).toContain('permessage-deflate');
    const conn = String(welcome.conn);

    const bigText = 'abc'.repeat(4000); // 12 KB, very compressible
    const big = await roundTrip(a, client, conn, bigText);
    expect(big.frame.data).toBe(bigText);
    expect(big.wire).toBeLessThan(1000);

    const smallText = 'x'.repeat(600); // compressible too, but under the threshold: sent as is
    const small = await roundTrip(a, client, conn, smallText);
    expect(small.frame.data).toBe(smallText);
    expect(small.wire).toBeGreaterThan(600);

    // a client that does not offer the extension still works, uncompressed
    const plain = await TestClient.open(a.url, { perMessageDeflate: false });
    clients.push(plain);
    expect(plain.ws.extensions).toBe('');
    plain.send({ t: 'hello', v: 1 });
    const w = await plain.waitFrame((f) => f.t === 'welcome');
    const raw = await roundTrip(a, plain, String(w.conn), bigText);
    expect(raw.wire).toBeGreaterThan(12_000);
  });
});
