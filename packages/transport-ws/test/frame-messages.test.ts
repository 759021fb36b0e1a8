/** What a node says about a bad field: the field's path once, then plain words. No services. */
import { describe, expect, it } from 'vitest';
import { clientFrame, parseClientFrame } from '../src/protocol/client-frames.js';

describe('bad_frame messages name the field once', () => {
  it('a bad or reserved room name', () => {
    expect(parseClientFrame('{"t":"join","id":7,"room":"has space"}')).toEqual({ ok: false, code: 'bad_frame', reason: 'bad_fields', message: 'room: 1 to 128 characters from A-Z a-z 0-9 _ - . : @ /', id: 7 });
    expect(parseClientFrame('{"t":"pub","room":"constructor","data":1}')).toMatchObject({ ok: false, message: 'room: __proto__, constructor and prototype are reserved' });
    expect(parseClientFrame(`{"t":"leave","room":"${'r'.repeat(129)}"}`)).toMatchObject({ ok: false, message: 'room: 1 to 128 characters from A-Z a-z 0-9 _ - . : @ /' });
  });
});

describe('parseClientFrame: the written-out checks agree with the schemas', () => {
  // deterministic pseudo-random frames from pools of good and bad field values
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)] as T;
  const absent = undefined;
  const pools: Record<string, readonly unknown[]> = {
    t: ['hello', 'join', 'leave', 'pub', 'msg', 'ping', 'pong'],
    v: [1, 2, 1.5, '1', absent, -3],
    id: [absent, 0, 7, -1, 1.5, '3', Number.MAX_SAFE_INTEGER, 2 ** 60],
    room: [absent, 'lobby', 'a/b:c@d.e-f_g', '', 'has space', '__proto__', 'constructor', 'x'.repeat(128), 'x'.repeat(129), 5, null],
    event: [absent, 'chat', '', 'e'.repeat(128), 'e'.repeat(129), 3],
    data: [absent, null, 1, 'x', { a: [1, 2] }],
    offset: [absent, 0, 12, -1, 2.5, '3'],
    epoch: [absent, '', 'e1', 'x'.repeat(128), 'x'.repeat(129), 4],
    session: [absent, 's1', '', 'x'.repeat(129), 9],
    token: [absent, 'tok', '', 't'.repeat(8193)],
    rooms: [absent, {}, { a: {} }, { a: { offset: 3, epoch: 'e' }, b: { offset: 0 } }, { a: { offset: -1 } }, { a: [] }, [], { a: { epoch: 5 } }, { a: { offset: 1, extra: true } }, null],
    params: [absent, {}, { region: 'eu', n: 1 }, [], 'x', null],
    noRedirect: [absent, true, false, 'yes'],
    lost: [absent, 'n1', '', 'x'.repeat(129)],
    caps: [absent, [], ['msgs'], ['msgs', 'x'.repeat(32)], ['x'.repeat(33)], [3], 'msgs', Array.from({ length: 17 }, () => 'c'), null],
    extra: [absent, 'ignored'],
  };
  it('gives the same verdict and the same frame as zod for 20,000 generated frames', () => {
    let ok = 0;
    for (let i = 0; i < 20_000; i++) {
      const f: Record<string, unknown> = {};
      for (const [k, pool] of Object.entries(pools)) {
        const v = pick(pool);
        if (v !== undefined) f[k] = v;
      }
      const text = JSON.stringify(f);
      const ours = parseClientFrame(text);
      const theirs = clientFrame.safeParse(JSON.parse(text));
      expect(ours.ok, text).toBe(theirs.success);
      if (ours.ok && theirs.success) {
        ok++;
        const want = { ...theirs.data } as Record<string, unknown>;
        // the hello's rooms come back as sent, in a null-prototype object
        if (want.t === 'hello' && want.rooms) want.rooms = { ...(want.rooms as object) };
        const got = { ...ours.frame } as Record<string, unknown>;
        if (got.t === 'hello' && got.rooms) got.rooms = { ...(got.rooms as object) };
        expect(got, text).toEqual(want);
      }
    }
    // the pools make both outcomes common
    expect(ok).toBeGreaterThan(1000);
    expect(ok).toBeLessThan(19_000);
  });
});
