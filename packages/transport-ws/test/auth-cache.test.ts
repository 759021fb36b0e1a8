import { afterEach, describe, expect, it, vi } from 'vitest';
import { VerifiedTokens } from '../src/server/auth.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('the verified-token cache of jwtAuth', () => {
  it('remembers a token until its TTL or its exp, whichever comes first, and keeps at most size entries', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const cache = new VerifiedTokens(2, 60_000);
    cache.set('a', { sub: 'u1', exp: 1_000_000 / 1000 + 10 }); // expires in 10 s
    cache.set('b', { sub: 'u2' }); // no exp: the TTL bounds it
    expect(cache.get('a')?.sub).toBe('u1');
    vi.setSystemTime(1_000_000 + 10_000);
    expect(cache.get('a')).toBeUndefined(); // past exp: verify again (and fail there)
    expect(cache.get('b')?.sub).toBe('u2');
    vi.setSystemTime(1_000_000 + 61_000);
    expect(cache.get('b')).toBeUndefined();
    cache.set('c', { sub: 'u3' });
    cache.set('d', { sub: 'u4' });
    cache.set('e', { sub: 'u5' });
    expect(cache.get('c')).toBeUndefined(); // the least recently used went
    expect(cache.get('e')?.sub).toBe('u5');
    const off = new VerifiedTokens(0, 60_000);
    off.set('x', { sub: 'u' });
    expect(off.get('x')).toBeUndefined();
  });
});
