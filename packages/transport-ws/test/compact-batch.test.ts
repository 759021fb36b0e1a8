import { waitFor } from '@switchyard/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createClient, type SwitchyardClient } from '../src/client/index.js';
import type { SwitchyardNode } from '../src/index.js';
import { startNodes, TestClient, type Frame } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: Array<SwitchyardClient | TestClient> = [];
const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** The `t` of every frame an SDK client was sent. */
const recordingSocket = (types: string[]) =>
  class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.on('message', (d) => types.push((JSON.parse(String(d)) as Frame).t));
    }
  };

/** Messages of a frame as the protocol says they stand: a `msgs` frame unpacked with its offsets. */
function unpack(f: Frame): Array<{ o: number; po?: number; data: unknown }> {
  if (f.t === 'msg') return [{ o: f.o as number, data: f.data, ...(f.po !== undefined ? { po: f.po as number } : {}) }];
  if (f.t === 'batch') return (f.m as Frame[]).flatMap(unpack);
  if (f.t !== 'msgs') return [];
  let last: number | undefined;
  return (f.m as Frame[]).map((m) => {
    const o = (m.o as number | undefined) ?? (last === undefined ? (f.o as number) : last + 1);
    const prev = last ?? (f.po as number | undefined);
    last = o;
    return { o, data: m.data, ...(prev !== undefined && prev !== o - 1 ? { po: prev } : {}) };
  });
}

describe('compact room batches (msgs frames)', () => {
  it('go to clients whose hello asked for them, batch frames to the others; the SDK asks and unpacks them in order', async () => {
    nodes.push(...(await startNodes(['a'], { rooms: { history: true } })));
    const node = nodes[0] as SwitchyardNode;
    const url = node.url;

    const compact = (await TestClient.connect(url, { rooms: { r: {} }, caps: ['msgs', 'some-future-cap'] })).client;
    const plain = (await TestClient.connect(url, { rooms: { r: {} } })).client;
    clients.push(compact, plain);
    const types: string[] = [];
    const sdk = createClient({ url, WebSocket: recordingSocket(types) });
    clients.push(sdk);
    const got: Array<{ o: number | undefined; data: unknown }> = [];
    const gaps: unknown[] = [];
    const room = sdk.room('r');
    room.on('message', (m) => got.push({ o: m.offset, data: m.data }));
    room.on('gap', (g) => gaps.push(g));
    await new Promise<void>((resolve) => room.once('subscribed', () => resolve()));

    // a burst: the node gathers what arrives in one turn (or 5 ms under load) into one frame
    const N = 300;
    await Promise.all(Array.from({ length: N }, (_, i) => node.to('r').send('m', i)));
    await waitFor(() => got.length === N && unpackedCount(compact) >= N && unpackedCount(plain) >= N, 10_000);

    // the SDK: every message once, in offset order, with no gap, and it was sent msgs frames
    expect(gaps).toEqual([]);
    expect(got.map((m) => m.data)).toEqual(Array.from({ length: N }, (_, i) => i));
    const offsets = got.map((m) => m.o as number);
    expect(offsets).toEqual(offsets.map((_, i) => (offsets[0] as number) + i));
    expect(types).toContain('msgs');
    expect(types).not.toContain('batch');

    // on the wire: the client that asked gets msgs frames whose offsets chain; the other never one
    const compactFrames = compact.frames.filter((f) => f.t === 'msgs');
    expect(compactFrames.some((f) => (f.m as Frame[]).length > 1)).toBe(true);
    const wire = compact.frames.flatMap(unpack);
    expect(wire.map((m) => m.o)).toEqual(offsets);
    expect(wire.every((m) => m.po === undefined)).toBe(true);
    expect(plain.frames.some((f) => f.t === 'msgs')).toBe(false);
    expect(plain.frames.some((f) => f.t === 'batch')).toBe(true);
    expect(plain.frames.flatMap(unpack).map((m) => m.o)).toEqual(offsets);
    // the same messages, fewer bytes
    const bytes = (c: TestClient) => c.frames.filter((f) => f.t === 'msgs' || f.t === 'batch' || f.t === 'msg').reduce((a, f) => a + JSON.stringify(f).length, 0);
    expect(bytes(compact)).toBeLessThan(bytes(plain));
  });

  it('the SDK gives each element the offset and predecessor the frame says (an element with its own o follows the one before)', async () => {
    // a hand-written node: welcome at offset 42, then one msgs frame whose offsets skip (43, 44, 46)
    const sent: Frame[] = [];
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    servers.push(server);
    server.on('connection', (ws) => {
      ws.on('message', (d) => {
        const f = JSON.parse(String(d)) as Frame;
        sent.push(f);
        if (f.t !== 'hello') return;
        ws.send(JSON.stringify({ t: 'welcome', v: 1, session: 's', conn: 'c', node: 'n', resumed: false, heartbeatMs: 0, maxPayload: 65536, rooms: { r: { offset: 42, epoch: 'ab', history: true, recovered: false, gap: false } } }));
        ws.send(JSON.stringify({ t: 'msgs', room: 'r', e: 'ab', o: 43, m: [{ data: 'a' }, { data: 'b', from: 'x~1' }, { o: 46, data: 'c' }] }));
        ws.send(JSON.stringify({ t: 'msgs', room: 'r', e: 'ab', o: 48, po: 46, m: [{ data: 'd' }, { data: 'e' }] }));
      });
    });
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    const sdk = createClient({ url: `ws://127.0.0.1:${port}`, WebSocket, holeTimeoutMs: 200 });
    clients.push(sdk);
    const got: Array<{ o: number | undefined; data: unknown; from: string | undefined }> = [];
    const gaps: unknown[] = [];
    const room = sdk.room('r');
    room.on('message', (m) => got.push({ o: m.offset, data: m.data, from: m.from }));
    room.on('gap', (g) => gaps.push(g));
    await waitFor(() => got.length === 5, 5000);
    expect(got).toEqual([
      { o: 43, data: 'a', from: undefined },
      { o: 44, data: 'b', from: 'x~1' },
      { o: 46, data: 'c', from: undefined },
      { o: 48, data: 'd', from: undefined },
      { o: 49, data: 'e', from: undefined },
    ]);
    expect(sent.find((f) => f.t === 'hello')?.caps).toEqual(['msgs']);
    // no hole seen (a wrong predecessor would hold 46 until the hole is given up, with a gap): no replay asked, no gap
    expect(sent.filter((f) => f.t === 'join')).toEqual([]);
    expect(gaps).toEqual([]);
  });
});

function unpackedCount(c: TestClient): number {
  return c.frames.flatMap(unpack).length;
}
