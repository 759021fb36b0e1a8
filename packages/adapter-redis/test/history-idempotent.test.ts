import { serviceUrl, unique } from '@switchyard/core/testing';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { KeySpace } from '../src/index.js';
import { HISTORY_APPEND } from '../src/scripts.js';

const url = await serviceUrl('redis');
const keys = new KeySpace(`sy-idem-${randomBytes(4).toString('hex')}:`);

describe.skipIf(!url)('redis history appends are applied once', () => {
  const redis = new Redis(url ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
  afterAll(async () => {
    const found = await redis.keys(`${keys.prefix}*`);
    if (found.length) await redis.del(...found);
    await redis.quit();
  });

  it('an append sent again after its reply was lost (what a reconnect does) gets the same position, and nothing is added twice', async () => {
    await redis.connect();
    const s = unique('room');
    const run = (writer: string, wseq: number, payload: string) =>
      HISTORY_APPEND.run(redis, [keys.stream(s), keys.streamMeta(s), keys.streamWriter(s, writer)], [payload, 1000, 0, 'e-new', wseq]) as Promise<[number, string]>;
    const first = await run('w1', 1, 'one');
    expect(first[0]).toBe(1);
    expect(await run('w1', 1, 'one')).toEqual(first); // the resend
    expect((await run('w2', 1, 'other writer'))[0]).toBe(2);
    expect((await run('w1', 2, 'two'))[0]).toBe(3);
    // several commands resent after a reconnect: each gets its own position back
    expect(await run('w1', 1, 'one')).toEqual(first);
    expect((await run('w1', 2, 'two'))[0]).toBe(3);
    expect(await redis.xlen(keys.stream(s))).toBe(3);
    // the window keeps a writer's last 64 appends; an older one resent is refused, not appended
    for (let w = 3; w <= 200; w++) await run('w1', w, `m${w}`);
    expect(await redis.hlen(keys.streamWriter(s, 'w1'))).toBeLessThanOrEqual(130);
    expect((await run('w1', 150, 'm150'))[0]).toBe(150 + 1);
    expect((await run('w1', 5, 'm5'))[0]).toBe(-1);
    expect(await redis.xlen(keys.stream(s))).toBe(200 + 1);
  });
});
