import { connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import WebSocket, { WebSocketServer } from 'ws';
import { createClient, type ClientOptions, type SwitchyardClient } from '../src/client/index.js';
import { EARLY_HELLO_MAX_LENGTH, EARLY_SUBPROTOCOL, earlyHelloCarrier, offeredSubprotocols } from '../src/protocol/early-hello.js';
import type { SwitchyardNode } from '../src/index.js';
import { httpGet, metric, startNodes, TestClient, type Frame } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: SwitchyardClient[] = [];
const raws: TestClient[] = [];
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(raws.splice(0).map((c) => c.close()));
  for (const c of closers.splice(0)) await c();
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

async function node(): Promise<SwitchyardNode> {
  const [n] = await startNodes(['n1']);
  nodes.push(n as SwitchyardNode);
  return n as SwitchyardNode;
}

function client(url: string, o: Partial<ClientOptions> = {}): SwitchyardClient {
  const c = createClient({ WebSocket, url, reconnect: { baseMs: 20, maxMs: 100 }, ...o });
  clients.push(c);
  return c;
}

const scrape = async (n: SwitchyardNode, name: string, labels = ''): Promise<number> => metric((await httpGet(n.url, '/metrics')).text, name, labels);

/** A raw upgrade request offering `protocols`; resolves with the first bytes the node sends back. */
function rawUpgrade(url: string, protocols: string[]): Promise<{ first: Buffer; close: () => void }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(u.port), u.hostname, () => {
      socket.write(
        `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocols.join(', ')}\r\n\r\n`,
      );
    });
    socket.once('data', (first) => resolve({ first, close: () => socket.destroy() }));
    socket.once('error', reject);
  });
}

describe('early hello: the hello in the upgrade request', () => {
  it('the SDK sends its hello in the upgrade: the node welcomes it without a hello frame, rooms joined, and a resume works the same way', async () => {
    const n = await node();
    const c = client(n.url);
    const lobby = c.room('lobby'); // asked for before the dial: goes in the early hello
    await c.ready();
    await waitFor(() => lobby.state === 'subscribed');
    expect(await scrape(n, 'switchyard_ws_early_hellos_total')).toBe(1);
    expect(await scrape(n, 'switchyard_ws_messages_received_total')).toBe(0); // no hello frame, no join frame
    const got: unknown[] = [];
    lobby.on('message', (m) => got.push(m.data));
    await n.to('lobby').send('news', { x: 1 });
    await waitFor(() => got.length === 1);

    // a second client resumes the first one's session through the early hello
    const session = c.sessionId as string;
    c.close();
    const again = client(n.url, { session });
    await again.ready();
    expect(again.sessionId).toBe(session);
    expect(await scrape(n, 'switchyard_ws_early_hellos_total')).toBe(2);
    expect(await scrape(n, 'switchyard_ws_messages_received_total')).toBe(0);
  });

  it('answers the upgrade and the welcome in one write', async () => {
    const n = await node();
    const hello = earlyHelloCarrier(JSON.stringify({ t: 'hello', v: 1 })) as string;
    const { first, close } = await rawUpgrade(n.url, ['switchyard.v1', EARLY_SUBPROTOCOL, hello]);
    closers.push(close);
    const text = first.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 101 /);
    expect(text).toContain(`Sec-WebSocket-Protocol: ${EARLY_SUBPROTOCOL}\r\n`);
    // the same chunk goes on past the headers with a text frame holding the welcome
    const body = first.subarray(first.indexOf('\r\n\r\n') + 4);
    expect(body[0]).toBe(0x81);
    expect(body.toString('utf8')).toContain('"t":"welcome"');
  });

  it('a client offering only switchyard.v1 (an older SDK) sends its hello as a frame, as before', async () => {
    const n = await node();
    const { client: raw, welcome } = await TestClient.connect(n.url);
    raws.push(raw);
    expect(raw.ws.protocol).toBe('switchyard.v1');
    expect(welcome.t).toBe('welcome');
    expect(await scrape(n, 'switchyard_ws_early_hellos_total')).toBe(0);
  });

  it('a carried hello that does not parse is counted and the client falls back to a hello frame', async () => {
    const n = await node();
    for (const bad of ['switchyard.early.not_json', earlyHelloCarrier(JSON.stringify({ t: 'join', room: 'x' })) as string, earlyHelloCarrier(JSON.stringify({ t: 'hello' })) as string]) {
      const ws = new WebSocket(n.url, ['switchyard.v1', EARLY_SUBPROTOCOL, bad]);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      expect(ws.protocol).toBe('switchyard.v1'); // "send your hello as a frame"
      const frames: Frame[] = [];
      ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
      ws.send(JSON.stringify({ t: 'hello', v: 1 }));
      await waitFor(() => frames.find((f) => f.t === 'welcome'));
      ws.close();
    }
    expect(await scrape(n, 'switchyard_ws_bad_frames_total', 'reason="early_hello"')).toBe(3);
    expect(await scrape(n, 'switchyard_ws_early_hellos_total')).toBe(0);
  });

  it('a hello over the size limit, or earlyHello: false, goes as a frame', async () => {
    const n = await node();
    const many = client(n.url);
    const rooms = Array.from({ length: 200 }, (_, i) => many.room(`room-with-a-long-name-${i}`));
    await many.ready();
    await waitFor(() => rooms.every((r) => r.state === 'subscribed'));
    const plain = client(n.url, { earlyHello: false });
    await plain.ready();
    expect(await scrape(n, 'switchyard_ws_early_hellos_total')).toBe(0);
    expect(await scrape(n, 'switchyard_ws_messages_received_total')).toBeGreaterThanOrEqual(2); // the two hello frames
    expect(offeredSubprotocols('switchyard.v1', 'x'.repeat(EARLY_HELLO_MAX_LENGTH))).toEqual(['switchyard.v1']);
  });

  it('against a node that does not take the early hello, the SDK sends the hello frame after the upgrade', async () => {
    const offered: string[][] = [];
    const hellos: Frame[] = [];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('switchyard.v1') ? 'switchyard.v1' : false) });
    closers.push(() => new Promise<void>((r) => wss.close(() => r())));
    wss.on('connection', (ws, req) => {
      offered.push(String(req.headers['sec-websocket-protocol']).split(/, */));
      ws.on('message', (d) => {
        const f = JSON.parse(String(d)) as Frame;
        if (f.t !== 'hello') return;
        hellos.push(f);
        ws.send(JSON.stringify({ t: 'welcome', v: 1, session: 's1', conn: 'c1', node: 'old', resumed: false, heartbeatMs: 30_000, maxPayload: 65_536, rooms: {} }));
      });
    });
    await new Promise((r) => wss.once('listening', r));
    const { port } = wss.address() as { port: number };
    const c = client(`ws://127.0.0.1:${port}`, { token: 't0k' });
    await c.ready();
    expect(offered[0]?.slice(0, 2)).toEqual(['switchyard.v1', EARLY_SUBPROTOCOL]);
    expect(hellos).toHaveLength(1);
    expect(hellos[0]).toMatchObject({ t: 'hello', v: 1, token: 't0k' });
  });
});
