import { describe, expect, it } from 'vitest';
import { isSwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';
import { createClient, parseServerFrame, SwitchyardClientError, type ClientErrorCode } from '../src/client/index.js';
import { WebSocket } from 'ws';

// compile-time: every client error code is one of core's codes
const _codesAreCore: SwitchyardErrorCode = 'CLOSED' as ClientErrorCode;
void _codesAreCore;

describe('parseServerFrame', () => {
  it('accepts every frame type of the protocol', () => {
    const frames = [
      { t: 'msg', event: 'chat', data: { a: 1 }, room: 'lobby', o: 3, e: 'ab', from: 'n1~x' },
      { t: 'msg', data: null },
      { t: 'batch', m: [{ t: 'msg', data: 1 }, { data: 2, room: 'r', o: 0 }] },
      { t: 'msgs', room: 'lobby', e: 'ab', o: 43, po: 40, m: [{ event: 'chat', data: 'a', from: 'n1~x' }, { data: 'b' }, { o: 46, data: 'c' }] },
      { t: 'msgs', m: [{ data: 1 }, { data: 2 }] },
      { t: 'welcome', v: 1, session: 's', conn: 'c', node: 'n', resumed: true, heartbeatMs: 25000, maxPayload: 65536, rooms: { lobby: { offset: 1, epoch: 'e', history: true, recovered: true, gap: false } } },
      { t: 'ack', id: 1, ok: true, result: { x: 1 } },
      { t: 'ack', id: 2, ok: false, error: { code: 'forbidden', message: 'no' } },
      { t: 'error', code: 'bad_frame', message: 'x', id: 4 },
      { t: 'redirect', url: 'ws://127.0.0.1:1/ws', reason: 'affinity' },
      { t: 'ping' },
      { t: 'pong' },
      { t: 'future-frame', anything: true },
    ];
    for (const f of frames) expect(parseServerFrame(JSON.stringify(f)), JSON.stringify(f)).toMatchObject({ ok: true, frame: { t: f.t } });
  });

  it('fills welcome defaults', () => {
    const r = parseServerFrame('{"t":"welcome","v":1,"session":"s"}');
    expect(r).toEqual({ ok: true, frame: { t: 'welcome', v: 1, session: 's', rooms: {}, heartbeatMs: 0, maxPayload: 0, resumed: false } });
  });

  it('refuses malformed frames with a reason, never throws', () => {
    const bad: unknown[] = [
      'not json',
      '[1,2]',
      '{"no":"t"}',
      '{"t":5}',
      '{"t":"msg","o":-1}',
      '{"t":"msg","o":1.5}',
      '{"t":"msg","room":7}',
      '{"t":"batch","m":{}}',
      '{"t":"batch","m":[{"t":"ack"}]}',
      '{"t":"batch","m":[1]}',
      '{"t":"msgs","m":{}}',
      '{"t":"msgs","room":1,"m":[{"data":1}]}',
      '{"t":"msgs","o":-1,"m":[{"data":1}]}',
      '{"t":"msgs","o":1,"po":"x","m":[{"data":1}]}',
      '{"t":"msgs","m":[{"o":1.5}]}',
      '{"t":"msgs","m":[{"event":3}]}',
      '{"t":"msgs","m":[null]}',
      '{"t":"welcome","v":1}',
      '{"t":"welcome","v":1,"session":"s","rooms":{"r":{"offset":"x"}}}',
      '{"t":"ack","id":"1","ok":true}',
      '{"t":"ack","id":1}',
      '{"t":"ack","id":1,"ok":false,"error":"boom"}',
      '{"t":"error","message":"x"}',
      '{"t":"redirect"}',
      new Uint8Array([1, 2]),
    ];
    for (const b of bad) {
      const r = parseServerFrame(b);
      expect(r.ok, String(b)).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
    }
  });
});

describe('client options', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(isSwitchyardError(err)).toBe(true);
      return [(err as SwitchyardClientError).code, (err as Error).message];
    }
    return ['none', ''];
  };
  const WS = WebSocket;

  it('refuses bad values with CONFIG_INVALID naming the field', () => {
    expect(code(() => createClient({ WebSocket: WS, lazy: true }))).toEqual(['CONFIG_INVALID', expect.stringContaining('`url`')]);
    expect(code(() => createClient({ url: 'http://x', WebSocket: WS, lazy: true }))).toEqual(['CONFIG_INVALID', expect.stringContaining('`url`')]);
    expect(code(() => createClient({ urls: [], WebSocket: WS, lazy: true }))).toEqual(['CONFIG_INVALID', expect.stringContaining('`url`')]);
    expect(code(() => createClient({ url: 'ws://x', WebSocket: WS, bufferSize: -1, lazy: true }))).toEqual(['CONFIG_INVALID', expect.stringContaining('`bufferSize`')]);
    expect(code(() => createClient({ url: 'ws://x', WebSocket: WS, reconnect: { baseMs: 0 }, lazy: true }))).toEqual(['CONFIG_INVALID', expect.stringContaining('`baseMs`')]);
    expect(code(() => createClient({ url: 'ws://x', WebSocket: WS, reconnect: { baseMs: 100, maxMs: 10 }, lazy: true }))).toEqual(['CONFIG_INVALID', expect.stringContaining('maxMs')]);
    expect(code(() => createClient({ url: 'ws://x', WebSocket: WS, maxRedirects: 1.5, lazy: true }))).toEqual(['CONFIG_INVALID', expect.stringContaining('`maxRedirects`')]);
    expect(code(() => createClient({ url: 'ws://x', WebSocket: WS, isFatal: 3 as never, lazy: true }))).toEqual(['CONFIG_INVALID', expect.stringContaining('`isFatal`')]);
  });

  it('asks for a WebSocket constructor where there is no global one', () => {
    const had = (globalThis as { WebSocket?: unknown }).WebSocket;
    if (had !== undefined) return expect(typeof had).toBe('function'); // a runtime with a global WebSocket needs none
    expect(code(() => createClient({ url: 'ws://x', lazy: true }))).toEqual(['CONFIG_INVALID', expect.stringContaining('`WebSocket`')]);
  });

  it('a lazy client does nothing until used', () => {
    const c = createClient({ url: 'ws://127.0.0.1:1/ws', WebSocket: WS, lazy: true });
    expect(c.state).toBe('idle');
    c.close();
    expect(c.state).toBe('closed');
    expect(c.send('x', 1)).toBe(false);
  });
});
