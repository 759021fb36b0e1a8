/**
 * Frame handling of the client SDK against a tiny scripted server (ws on loopback): each test
 * says exactly what the server sends, so the SDK's reaction can be checked frame by frame.
 * The end-to-end behaviour against real nodes is in client-cluster.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import { WebSocket, WebSocketServer } from 'ws';
import { createClient, type ClientMessage, type GapInfo, type ClientOptions, type SubscribedInfo, type SwitchyardClient, type SwitchyardClientError } from '../src/client/index.js';

type Frame = Record<string, unknown> & { t: string };

/** A scripted node: records every frame, answers hello with a welcome unless told otherwise. */
class ScriptedNode {
  readonly frames: { conn: number; f: Frame }[] = [];
  readonly sockets: WebSocket[] = [];
  onHello: (ws: WebSocket, hello: Frame, n: number) => void = (ws, hello, n) => ws.send(JSON.stringify(welcome(`c${n}`, hello)));
  onFrame: (ws: WebSocket, f: Frame) => void = () => undefined;

  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {
    wss.on('connection', (ws) => {
      const n = this.sockets.push(ws) - 1;
      ws.on('message', (data) => {
        const f = JSON.parse(String(data)) as Frame;
        this.frames.push({ conn: n, f });
        if (f.t === 'hello') this.onHello(ws, f, n);
        else this.onFrame(ws, f);
      });
    });
  }

  static async start(): Promise<ScriptedNode> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('switchyard.v1') ? 'switchyard.v1' : false) });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const { port } = wss.address() as { port: number };
    return new ScriptedNode(wss, `ws://127.0.0.1:${port}/ws`);
  }

  hellos(): Frame[] {
    return this.frames.filter((x) => x.f.t === 'hello').map((x) => x.f);
  }
  of(t: string): Frame[] {
    return this.frames.filter((x) => x.f.t === t).map((x) => x.f);
  }
  get last(): WebSocket {
    return this.sockets[this.sockets.length - 1] as WebSocket;
  }
  send(frame: unknown, ws = this.last): void {
    ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }
  close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

const welcome = (conn: string, hello: Frame, extra: Record<string, unknown> = {}) => ({
  t: 'welcome',
  v: 1,
  session: (hello.session as string | undefined) ?? 's1',
  conn,
  node: 'n1',
  resumed: hello.session !== undefined,
  heartbeatMs: 25_000,
  maxPayload: 65_536,
  rooms: Object.fromEntries(Object.entries((hello.rooms as Record<string, { offset?: number; epoch?: string }>) ?? {}).map(([r, c]) => [r, { offset: c.offset ?? 0, epoch: 'e1', history: true, recovered: c.offset !== undefined, gap: false }])),
  ...extra,
});

const nodes: ScriptedNode[] = [];
const clients: SwitchyardClient[] = [];
const start = async () => {
  const n = await ScriptedNode.start();
  nodes.push(n);
  return n;
};
const client = (o: Partial<ClientOptions> & Pick<ClientOptions, 'url'> | Partial<ClientOptions> & Pick<ClientOptions, 'urls'>) => {
  const c = createClient({ WebSocket, reconnect: { baseMs: 20, maxMs: 100, firstRetryMaxMs: 20 }, ...o });
  clients.push(c);
  return c;
};

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

describe('client SDK: handshake and frames', () => {
  it('sends hello with version, token and params, then becomes connected on welcome', async () => {
    const node = await start();
    const c = client({ url: node.url, token: 'tok', params: { region: 'eu' } });
    const states: string[] = [];
    c.on('state', (e) => states.push(e.to));
    const connected = new Promise((resolve) => c.once('connected', resolve));
    await c.ready();
    expect(node.hellos()[0]).toEqual({ t: 'hello', v: 1, rooms: {}, caps: ['msgs'], token: 'tok', params: { region: 'eu' } });
    expect(await connected).toMatchObject({ session: 's1', conn: 'c0', node: 'n1', resumed: false, recovered: true, url: node.url });
    expect(c.state).toBe('connected');
    expect(c.sessionId).toBe('s1');
    expect(states).toEqual(['connected']); // createClient already moved idle -> connecting
  });

  it('getToken is asked before every attempt; tokenInQuery puts it in the URL', async () => {
    const node = await start();
    let n = 0;
    const c = client({ url: node.url, getToken: async () => `t${++n}`, tokenInQuery: true });
    await c.ready();
    node.last.terminate();
    await waitFor(() => node.hellos().length === 2 && c.state === 'connected');
    expect(node.hellos().map((h) => h.token)).toEqual(['t1', 't2']);
  });

  it('answers pings, unpacks batches in order, and delivers non-room messages', async () => {
    const node = await start();
    const c = client({ url: node.url });
    const got: ClientMessage[] = [];
    c.on('message', (m) => got.push(m));
    await c.ready();
    node.send({ t: 'ping' });
    node.send({ t: 'batch', m: [{ t: 'msg', event: 'a', data: 1 }, { t: 'msg', event: 'b', data: 2 }, { t: 'msg', event: 'c', data: 3, from: 'x' }] });
    node.send({ t: 'msg', event: 'd', data: 4 });
    await waitFor(() => got.length === 4 && node.of('pong').length === 1);
    expect(got.map((m) => m.event)).toEqual(['a', 'b', 'c', 'd']);
    expect(got[2]).toEqual({ event: 'c', data: 3, from: 'x' });
  });

  it('reports a bad frame from the server as an error event and keeps going', async () => {
    const node = await start();
    const c = client({ url: node.url });
    const errors: SwitchyardClientError[] = [];
    c.on('error', (e) => errors.push(e));
    await c.ready();
    node.send('not json');
    node.send({ t: 'msg', o: 'x' });
    node.send({ t: 'error', code: 'rate_limited', message: 'slow down' });
    await waitFor(() => errors.length === 3);
    expect(errors.map((e) => e.code)).toEqual(['ENVELOPE_INVALID', 'ENVELOPE_INVALID', 'BACKEND_ERROR']);
    expect(errors[2]?.serverCode).toBe('rate_limited');
    expect(c.state).toBe('connected');
  });
});

/** A loopback port nothing listens on (bound then released). */
const closedPort = async (): Promise<number> => {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
};

describe('client SDK: failed dials', () => {
  it('each failed dial emits error with the URL and the cause; ready({ timeoutMs }) rejects naming them; the client keeps retrying', async () => {
    const dead = `ws://127.0.0.1:${await closedPort()}/ws`;
    const c = client({ url: dead });
    const errors: SwitchyardClientError[] = [];
    c.on('error', (e) => errors.push(e));
    await waitFor(() => errors.length >= 1); // a dial has failed: the timeout below can name it, however slow the machine
    const err = await c.ready({ timeoutMs: 300 }).then(() => undefined, (e: unknown) => e as SwitchyardClientError);
    expect(err?.code).toBe('TIMEOUT');
    expect(err?.message).toContain(`tried ${dead} (connection refused`);
    await waitFor(() => errors.length >= 2);
    expect(errors[0]?.code).toBe('NOT_CONNECTED');
    expect(errors[0]?.message).toContain(`cannot connect to ${dead}: connection refused (is the server running on that port?) [ECONNREFUSED]`);
    expect(c.state).not.toBe('closed'); // a timeout stops the wait, not the client
  });

  it('a server that never welcomes is reported after handshakeTimeoutMs; without timeoutMs ready() waits for the welcome', async () => {
    const node = await start();
    let answer = false;
    node.onHello = (ws, hello, n) => {
      if (answer) ws.send(JSON.stringify(welcome(`c${n}`, hello)));
    };
    const c = client({ url: node.url, handshakeTimeoutMs: 500 });
    const errors: SwitchyardClientError[] = [];
    c.on('error', (e) => errors.push(e));
    const ready = c.ready();
    await waitFor(() => errors.length >= 1);
    expect(errors[0]?.message).toContain(`cannot connect to ${node.url}: no welcome within 500 ms`);
    answer = true;
    await ready;
    expect(c.state).toBe('connected');
  });

  it('close() rejects a pending ready({ timeoutMs }) with CLOSED and leaves no timer behind', async () => {
    const c = client({ url: `ws://127.0.0.1:${await closedPort()}/ws` });
    c.on('error', () => undefined);
    const ready = c.ready({ timeoutMs: 60_000 });
    c.close();
    await expect(ready).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('client SDK: requests and acks', () => {
  it('request resolves with the ack result, rejects with the server code, or times out', async () => {
    const node = await start();
    node.onFrame = (ws, f) => {
      if (f.t !== 'msg') return;
      if (f.event === 'echo') ws.send(JSON.stringify({ t: 'ack', id: f.id, ok: true, result: f.data }));
      if (f.event === 'deny') ws.send(JSON.stringify({ t: 'ack', id: f.id, ok: false, error: { code: 'forbidden', message: 'no' } }));
      if (f.event === 'bad') ws.send(JSON.stringify({ t: 'error', code: 'bad_frame', message: 'x', id: f.id }));
    };
    const c = client({ url: node.url });
    await c.ready();
    await expect(c.request('echo', { a: 1 })).resolves.toEqual({ a: 1 });
    await expect(c.request('deny', 1)).rejects.toMatchObject({ code: 'BACKEND_ERROR', serverCode: 'forbidden' });
    await expect(c.request('bad', 1)).rejects.toMatchObject({ code: 'BACKEND_ERROR', serverCode: 'bad_frame' });
    await expect(c.request('silence', 1, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(c.send('fire', 1)).toBe(true);
    await waitFor(() => node.of('msg').some((f) => f.event === 'fire' && f.id === undefined));
  });

  it('refuses a frame above the welcome maxPayload without sending it', async () => {
    const node = await start();
    node.onHello = (ws, hello) => ws.send(JSON.stringify(welcome('c0', hello, { maxPayload: 100 })));
    const c = client({ url: node.url });
    await c.ready();
    await expect(c.request('big', 'x'.repeat(200))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(node.of('msg')).toHaveLength(0);
  });
});

describe('client SDK: rooms', () => {
  it('room() is get-or-create, joins with an ack, and publish resolves with the offset', async () => {
    const node = await start();
    node.onFrame = (ws, f) => {
      if (f.t === 'join') ws.send(JSON.stringify({ t: 'ack', id: f.id, ok: true, result: { room: f.room, offset: 7, epoch: 'e1', history: true, recovered: false, gap: false } }));
      if (f.t === 'pub') ws.send(JSON.stringify({ t: 'ack', id: f.id, ok: true, result: { offset: 8, epoch: 'e1' } }));
      if (f.t === 'leave') ws.send(JSON.stringify({ t: 'ack', id: f.id, ok: true, result: { room: f.room } }));
    };
    const c = client({ url: node.url });
    await c.ready();
    const lobby = c.room('lobby');
    expect(c.room('lobby')).toBe(lobby);
    expect(lobby.state).toBe('subscribing');
    const sub = await new Promise<SubscribedInfo>((resolve) => lobby.once('subscribed', resolve));
    expect(sub).toMatchObject({ room: 'lobby', recovering: false, recovered: false, gap: false, offset: 7, epoch: 'e1', resubscribed: false });
    expect(lobby.state).toBe('subscribed');
    expect(node.of('join')).toHaveLength(1); // the second room() did not join again
    await expect(lobby.publish('chat', { text: 'hi' })).resolves.toEqual({ offset: 8, epoch: 'e1' });
    expect(node.of('pub')[0]).toMatchObject({ room: 'lobby', event: 'chat', data: { text: 'hi' } });
    await lobby.leave();
    expect(lobby.state).toBe('unsubscribed');
    expect(node.of('leave')).toHaveLength(1);
    expect(c.room('lobby')).toBe(lobby); // get-or-create re-subscribes the same object
    await waitFor(() => lobby.state === 'subscribed');
    expect(node.of('join')).toHaveLength(2);
  });

  it('a refused join makes the room unsubscribed with the server code', async () => {
    const node = await start();
    node.onFrame = (ws, f) => {
      if (f.t === 'join') ws.send(JSON.stringify({ t: 'ack', id: f.id, ok: false, error: { code: 'forbidden', message: 'no' } }));
    };
    const c = client({ url: node.url });
    await c.ready();
    const admin = c.room('admin');
    const err = await new Promise<SwitchyardClientError>((resolve) => admin.once('error', resolve));
    expect(err).toMatchObject({ code: 'BACKEND_ERROR', serverCode: 'forbidden' });
    expect(admin.state).toBe('unsubscribed');
  });

  it('drops duplicates by offset, routes room messages, and resumes with session and offsets', async () => {
    const node = await start();
    const c = client({ url: node.url });
    const lobby = c.room('lobby'); // before connecting: goes in the hello
    await c.ready();
    expect(node.hellos()[0]?.rooms).toEqual({ lobby: {} });
    await waitFor(() => lobby.state === 'subscribed');
    const got: number[] = [];
    lobby.on('message', (m) => got.push(m.offset as number));
    const all: ClientMessage[] = [];
    c.on('message', (m) => all.push(m));
    const m = (o: number) => ({ t: 'msg', event: 'chat', data: o, room: 'lobby', o, e: 'e1' });
    node.send(m(1));
    node.send({ t: 'batch', m: [m(2), m(2), m(1), m(3)] });
    node.send({ t: 'msg', room: 'other', data: 'x' });
    await waitFor(() => all.length === 4);
    expect(got).toEqual([1, 2, 3]);
    expect(lobby.duplicatesDropped).toBe(2);
    expect(all.map((x) => x.room)).toEqual(['lobby', 'lobby', 'lobby', 'other']);

    // the node dies: the client comes back with its session and the offset it saw
    const subs: SubscribedInfo[] = [];
    lobby.on('subscribed', (s) => subs.push(s));
    node.onHello = (ws, hello) => {
      ws.send(JSON.stringify(welcome('c1', hello)));
      for (const o of [2, 3, 4, 5]) ws.send(JSON.stringify(m(o))); // replay overlaps what we had
    };
    node.last.terminate();
    await waitFor(() => got.length === 5);
    expect(node.hellos()[1]).toMatchObject({ session: 's1', rooms: { lobby: { offset: 3, epoch: 'e1' } } });
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(subs).toEqual([expect.objectContaining({ recovering: true, recovered: true, gap: false, resubscribed: true })]);
  });

  it('reports a gap and resets offsets when the epoch changed', async () => {
    const node = await start();
    const c = client({ url: node.url });
    const lobby = c.room('lobby');
    await waitFor(() => lobby.state === 'subscribed');
    node.send({ t: 'msg', room: 'lobby', data: 1, o: 1, e: 'e1' });
    await waitFor(() => lobby.offset === 1);
    // a resume in another epoch: the server replays the new epoch from its start
    node.onHello = (ws, hello) => {
      ws.send(JSON.stringify(welcome('c1', hello, { rooms: { lobby: { offset: 3, epoch: 'e2', history: true, recovered: false, gap: true } } })));
      for (const o of [1, 2, 3]) ws.send(JSON.stringify({ t: 'msg', room: 'lobby', data: `new-${o}`, o, e: 'e2' }));
    };
    const sub = new Promise<SubscribedInfo>((resolve) => lobby.once('subscribed', resolve));
    const connected = new Promise<{ recovered: boolean }>((resolve) => c.once('connected', resolve));
    const gaps: GapInfo[] = [];
    lobby.on('gap', (g) => gaps.push(g));
    const msgs: ClientMessage[] = [];
    lobby.on('message', (m) => msgs.push(m));
    node.last.terminate();
    expect(await sub).toMatchObject({ recovering: true, recovered: false, gap: true, epoch: 'e2' });
    expect((await connected).recovered).toBe(false);
    await waitFor(() => msgs.length === 3);
    expect(msgs.map((m) => [m.data, m.offset, m.epoch])).toEqual([['new-1', 1, 'e2'], ['new-2', 2, 'e2'], ['new-3', 3, 'e2']]);
    // the rest of the old epoch is an explicit gap
    expect(gaps).toEqual([{ room: 'lobby', reason: 'epoch', epoch: 'e1', from: 1 }]);
  });

  it('a room the welcome refuses becomes unsubscribed', async () => {
    const node = await start();
    node.onHello = (ws, hello) => ws.send(JSON.stringify(welcome('c0', hello, { rooms: { vip: { offset: 0, history: false, recovered: false, gap: false, error: { code: 'forbidden', message: 'no' } } } })));
    const c = client({ url: node.url, lazy: true });
    const vip = c.room('vip');
    const unsub = await new Promise<{ error?: SwitchyardClientError }>((resolve) => vip.once('unsubscribed', resolve));
    expect(unsub.error?.serverCode).toBe('forbidden');
    expect(vip.state).toBe('unsubscribed');
  });
});

describe('client SDK: reconnecting', () => {
  it('close() called from a disconnected listener leaves no reconnect timer armed', async () => {
    const node = await start();
    const c = client({ url: node.url, reconnect: { baseMs: 20, maxMs: 40, firstRetryMaxMs: 20 } });
    await c.ready();
    const closedFromListener = new Promise<void>((resolve) =>
      c.once('disconnected', () => {
        c.close();
        resolve();
      }),
    );
    node.last.terminate();
    await closedFromListener;
    expect(c.state).toBe('closed');
    expect((c as unknown as { retryTimer: unknown }).retryTimer).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200)); // well past any retry delay
    expect(node.hellos()).toHaveLength(1);
  });

  it('buffers while reconnecting, flushes in order after welcome, and refuses beyond bufferSize', async () => {
    const node = await start();
    const c = client({ url: node.url, bufferSize: 3, reconnect: { baseMs: 200, maxMs: 400, firstRetryMaxMs: 200 } });
    await c.ready();
    const errors: SwitchyardClientError[] = [];
    c.on('error', (e) => errors.push(e));
    const gone = new Promise((resolve) => c.once('disconnected', resolve));
    node.last.terminate();
    await gone;
    expect(c.state).toBe('reconnecting');
    expect(c.send('a', 1)).toBe(true);
    expect(c.send('b', 2)).toBe(true);
    const req = c.request('c', 3);
    expect(c.send('d', 4)).toBe(false);
    await expect(c.request('e', 5)).rejects.toMatchObject({ code: 'BUFFER_FULL' });
    expect(errors.map((e) => e.code)).toEqual(['BUFFER_FULL', 'BUFFER_FULL']);
    expect(c.buffered).toBe(3);
    node.onFrame = (ws, f) => {
      if (f.id !== undefined) ws.send(JSON.stringify({ t: 'ack', id: f.id, ok: true, result: 'ok' }));
    };
    await expect(req).resolves.toBe('ok');
    const second = node.frames.filter((x) => x.conn === 1).map((x) => x.f);
    expect(second.map((f) => f.t === 'msg' ? f.event : f.t)).toEqual(['hello', 'a', 'b', 'c']);
    expect(c.buffered).toBe(0);
  });

  it('a lazy client connects on first use', async () => {
    const node = await start();
    const c = client({ url: node.url, lazy: true });
    expect(c.state).toBe('idle');
    expect(node.sockets).toHaveLength(0);
    const lobby = c.room('lobby');
    await waitFor(() => lobby.state === 'subscribed');
    expect(node.hellos()[0]?.rooms).toEqual({ lobby: {} });
  });

  it('leave() resolves when the connection is lost before its ack', async () => {
    const node = await start();
    const c = client({ url: node.url });
    const lobby = c.room('lobby');
    await waitFor(() => lobby.state === 'subscribed');
    const left = lobby.leave();
    await waitFor(() => node.of('leave').length === 1);
    node.last.terminate();
    await expect(left).resolves.toBeUndefined();
    await waitFor(() => c.state === 'connected' && node.hellos().length === 2);
    expect(node.hellos()[1]?.rooms).toEqual({}); // not re-joined
  });

  it('a request sent before the loss rejects with NOT_CONNECTED', async () => {
    const node = await start();
    const c = client({ url: node.url });
    await c.ready();
    const req = c.request('never-acked', 1);
    await waitFor(() => node.of('msg').length === 1);
    node.last.terminate();
    await expect(req).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
  });

  it('follows redirect frames and 4300 closes, then stays with noRedirect after maxRedirects', async () => {
    const a = await start();
    const b = await start();
    const c0 = await start();
    // a -> b (frame then close), b -> c (close reason only), c -> a ... loops
    a.onHello = (ws, hello) => {
      if (hello.noRedirect) return ws.send(JSON.stringify(welcome('ca', hello)));
      ws.send(JSON.stringify({ t: 'redirect', url: b.url, reason: 'affinity' }));
      ws.close(4300, b.url);
    };
    b.onHello = (ws) => ws.close(4300, c0.url);
    c0.onHello = (ws) => ws.close(4300, a.url);
    const c = client({ url: a.url, maxRedirects: 3 });
    const redirects: { url: string; reason: string; count: number }[] = [];
    c.on('redirect', (r) => redirects.push(r));
    await c.ready();
    expect(redirects).toEqual([
      { url: b.url, reason: 'affinity', count: 1 },
      { url: c0.url, reason: 'redirect', count: 2 },
      { url: a.url, reason: 'redirect', count: 3 },
    ]);
    // the fourth redirect (a -> b) is not followed: the client asks a to keep it
    expect(a.hellos().map((h) => h.noRedirect)).toEqual([undefined, undefined, true]);
    expect(c.url).toBe(a.url);
    expect(c.connection?.conn).toBe('ca');
  });

  it('goes to the hinted node after 1012, and to the next URL after an abnormal close', async () => {
    const a = await start();
    const b = await start();
    const hint = await start();
    const c = client({ urls: [a.url, b.url] });
    await c.ready();
    expect(c.url).toBe(a.url);
    a.last.close(1012, hint.url);
    await waitFor(() => c.state === 'connected' && c.url === hint.url);
    const quick = new Promise<{ code: number; delayMs?: number }>((resolve) => c.once('disconnected', resolve));
    hint.last.terminate();
    expect((await quick).code).toBe(1006);
    await waitFor(() => c.state === 'connected' && c.url !== hint.url);
    expect([a.url, b.url]).toContain(c.url);
  });

  it('after an abnormal close the first retry delay is within firstRetryMaxMs', async () => {
    const node = await start();
    const c = client({ url: node.url, reconnect: { baseMs: 5000, maxMs: 30000, firstRetryMaxMs: 40 } });
    await c.ready();
    const lost = new Promise<{ willReconnect: boolean; delayMs?: number }>((resolve) => c.once('disconnected', resolve));
    node.last.terminate();
    const d = await lost;
    expect(d.willReconnect).toBe(true);
    expect(d.delayMs).toBeLessThan(40);
    await waitFor(() => c.state === 'connected');
  });

  it('a fatal close stops reconnecting; isFatal can override', async () => {
    const node = await start();
    node.onHello = (ws) => ws.close(4001, 'bad token');
    const c = client({ url: node.url });
    await expect(c.ready()).rejects.toMatchObject({ code: 'CLOSED', closeCode: 4001 });
    expect(c.state).toBe('closed');
    expect(node.hellos()).toHaveLength(1);

    let n = 0;
    node.onHello = (ws, hello) => (++n === 1 ? ws.close(4001, 'expired') : ws.send(JSON.stringify(welcome('c', hello))));
    const retry = client({ url: node.url, isFatal: (e) => e.code === 4400 });
    await retry.ready();
    expect(n).toBe(2);
  });

  it('a server that goes silent for 2*heartbeatMs is treated as dead', async () => {
    const node = await start();
    node.onHello = (ws, hello) => ws.send(JSON.stringify(welcome(`c${node.sockets.length}`, hello, { heartbeatMs: 60 })));
    const c = client({ url: node.url });
    await c.ready();
    const d = await new Promise<{ code: number }>((resolve) => c.once('disconnected', resolve));
    expect(d.code).toBe(4010);
    await waitFor(() => c.state === 'connected' && node.hellos().length >= 2);
  });

  it('close() stops everything: pending requests reject, no reconnect, idempotent', async () => {
    const node = await start();
    const c = client({ url: node.url });
    const lobby = c.room('lobby');
    await c.ready();
    await waitFor(() => lobby.state === 'subscribed');
    const req = c.request('x', 1);
    const events: string[] = [];
    c.on('disconnected', (e) => events.push(`${e.code}:${e.willReconnect}`));
    c.close();
    c.close();
    await expect(req).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(c.ready()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(events).toEqual(['1000:false']);
    expect(lobby.state).toBe('unsubscribed');
    expect(c.room('lobby').state).toBe('unsubscribed'); // a closed client joins nothing
    await waitFor(() => node.last.readyState === WebSocket.CLOSED);
    expect(node.hellos()).toHaveLength(1);
    expect(c.send('y', 1)).toBe(false);
  });
});

describe('client SDK: rooms with history arrive in offset order, each once, or as a gap', () => {
  /** A node that welcomes room `r` with `result`, acks joins with it and runs `then` after the ack. */
  async function joined(result: Record<string, unknown>, then?: (ws: WebSocket, f: Frame) => void) {
    const node = await start();
    node.onHello = (ws, hello, n) => ws.send(JSON.stringify(welcome(`c${n}`, hello, { rooms: { r: result } })));
    node.onFrame = (ws, f) => {
      if (f.t !== 'join') return;
      ws.send(JSON.stringify({ t: 'ack', id: f.id, ok: true, result: { room: f.room, ...result } }));
      then?.(ws, f);
    };
    return node;
  }

  it('holds a message that arrives ahead of a missing one and delivers both in order', async () => {
    const node = await joined({ offset: 0, epoch: 'e1', history: true, recovered: false, gap: false });
    const c = client({ url: node.url });
    const room = c.room('r');
    const got: unknown[] = [];
    room.on('message', (m) => got.push(m.data));
    await waitFor(() => room.state === 'subscribed');
    node.send({ t: 'msg', room: 'r', data: 'two', o: 2, e: 'e1' });
    node.send({ t: 'batch', m: [{ t: 'msg', room: 'r', data: 'one', o: 1, e: 'e1' }, { t: 'msg', room: 'r', data: 'one again', o: 1, e: 'e1' }] });
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['one', 'two']);
    expect(room.duplicatesDropped).toBe(1);
    expect(room.offset).toBe(2);
  });

  it('asks the node to replay a hole that does not fill by itself (a join with its offset)', async () => {
    const node = await joined({ offset: 0, epoch: 'e1', history: true, recovered: false, gap: false }, (ws, f) => {
      // the replay request: send what was missed
      if (f.offset === 1) ws.send(JSON.stringify({ t: 'msg', room: 'r', data: 'two', o: 2, e: 'e1' }));
    });
    const c = client({ url: node.url, holeTimeoutMs: 20 });
    const room = c.room('r');
    const got: unknown[] = [];
    room.on('message', (m) => got.push(m.data));
    await waitFor(() => room.state === 'subscribed');
    node.send({ t: 'msg', room: 'r', data: 'one', o: 1, e: 'e1' });
    node.send({ t: 'msg', room: 'r', data: 'three', o: 3, e: 'e1' });
    await waitFor(() => got.length === 3);
    expect(got).toEqual(['one', 'two', 'three']);
    expect(node.of('join').map((f) => [f.room, f.offset, f.epoch])).toEqual([['r', 1, 'e1']]);
  });

  it('a hole the node cannot fill becomes a gap event, and the room goes on', async () => {
    const node = await joined({ offset: 0, epoch: 'e1', history: true, recovered: false, gap: false });
    const c = client({ url: node.url, holeTimeoutMs: 10 });
    const room = c.room('r');
    const got: unknown[] = [];
    const gaps: GapInfo[] = [];
    room.on('message', (m) => got.push(m.data));
    c.on('gap', (g) => gaps.push(g));
    await waitFor(() => room.state === 'subscribed');
    node.send({ t: 'msg', room: 'r', data: 'four', o: 4, e: 'e1' });
    await waitFor(() => got.length === 1, 5000);
    expect(got).toEqual(['four']);
    expect(gaps).toEqual([{ room: 'r', reason: 'unrecovered', epoch: 'e1', from: 0, to: 3 }]);
    expect(node.of('join').length).toBe(2); // two replay requests, then it gave up
  });

  it('gap frames become gap events in order with the messages; po chains a message on the last one this socket got', async () => {
    const node = await joined({ offset: 5, epoch: 'e1', history: true, recovered: false, gap: false });
    const c = client({ url: node.url });
    const room = c.room('r');
    const seen: string[] = [];
    room.on('message', (m) => seen.push(`msg ${m.offset}`));
    room.on('gap', (g) => seen.push(`gap ${g.from}-${g.to} ${g.reason}`));
    await waitFor(() => room.state === 'subscribed');
    node.send({ t: 'msg', room: 'r', data: 9, o: 9, e: 'e1' }); // ahead: waits for the gap notice
    node.send({ t: 'gap', room: 'r', reason: 'trimmed', e: 'e1', from: 5, to: 8 });
    node.send({ t: 'msg', room: 'r', data: 12, o: 12, po: 9, e: 'e1' }); // 10, 11 were not for this socket
    node.send({ t: 'gap', room: 'r', reason: 'lost' }); // a room without history would say this
    await waitFor(() => seen.length === 4);
    expect(seen).toEqual(['gap 5-8 trimmed', 'msg 9', 'msg 12', 'gap undefined-undefined lost']);
  });

  it('a resume refused as ahead of the room goes on from the head instead of dropping what follows as duplicates', async () => {
    const node = await start();
    node.onHello = (ws, hello) => ws.send(JSON.stringify(welcome('c0', hello, { rooms: { r: { offset: 40, epoch: 'e1', history: true, recovered: false, gap: false } } })));
    const c = client({ url: node.url });
    const room = c.room('r');
    await waitFor(() => room.state === 'subscribed' && room.offset === 40);
    // the room's history was rebuilt behind our back: its head is 3, below where we are
    node.onHello = (ws, hello) => ws.send(JSON.stringify(welcome('c1', hello, { rooms: { r: { offset: 3, epoch: 'e1', history: true, recovered: false, gap: true, reason: 'ahead' } } })));
    const info = new Promise<SubscribedInfo>((resolve) => room.once('subscribed', resolve));
    node.last.terminate();
    expect(await info).toMatchObject({ recovering: true, gap: true, reason: 'ahead', offset: 3 });
    expect(node.hellos()[1]).toMatchObject({ rooms: { r: { offset: 40, epoch: 'e1' } } });
    const got: unknown[] = [];
    room.on('message', (m) => got.push(m.data));
    node.send({ t: 'msg', room: 'r', data: 'four', o: 4, e: 'e1' });
    await waitFor(() => got.length === 1);
    expect(room.offset).toBe(4);
  });
});
