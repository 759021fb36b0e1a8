import { describe, expect, it } from 'vitest';
import type { Envelope } from '../src/index.js';
import { SenderWindows } from '../src/delivery/sender-windows.js';

const env = (seq: number | undefined, prevSeq = 0, ts = 1_000_000, run = 'r1'): Envelope =>
  ({ v: 1, id: `e${seq}`, from: 'n1', caps: [], ts, type: 'deliver', to: { kind: 'all' }, data: null, ...(seq !== undefined ? { run, seq, prevSeq } : {}) }) as Envelope;

describe('SenderWindows', () => {
  it('accepts a sender’s envelopes in order and refuses every copy, per topic', () => {
    const w = new SenderWindows({ strict: false, windowMs: 60_000, maxEntries: 100, now: () => 1_000_000 });
    expect(w.check(env(1), 'room.a')).toEqual({ ok: true, lost: false });
    expect(w.check(env(2, 1), 'room.a')).toEqual({ ok: true, lost: false });
    expect(w.check(env(2, 1), 'room.a')).toEqual({ ok: false, reason: 'duplicate' });
    expect(w.check(env(1), 'room.a')).toEqual({ ok: false, reason: 'duplicate' });
    // each topic has its own window
    expect(w.check(env(3, 0), 'room.b')).toEqual({ ok: true, lost: false });
    // another run of the same node (a restart) starts afresh
    expect(w.check(env(1, 0, 1_000_000, 'r2'), 'room.a')).toEqual({ ok: true, lost: false });
  });

  it('notices when the previous envelope on a topic never arrived', () => {
    const w = new SenderWindows({ strict: false, windowMs: 60_000, maxEntries: 100, now: () => 1_000_000 });
    expect(w.check(env(4, 0), 'room.a').ok).toBe(true);
    expect(w.check(env(9, 7), 'room.a')).toEqual({ ok: true, lost: true });
    expect(w.check(env(12, 9), 'room.a')).toEqual({ ok: true, lost: false });
    // prevSeq 0: the sender forgot the topic; no claim either way
    expect(w.check(env(20, 0), 'room.a')).toEqual({ ok: true, lost: false });
  });

  it('with a cluster key: refuses envelopes without a sequence and outside the replay window', () => {
    let now = 1_000_000;
    const w = new SenderWindows({ strict: true, windowMs: 30_000, maxEntries: 100, now: () => now });
    expect(w.check(env(undefined), 'all')).toEqual({ ok: false, reason: 'unsequenced' });
    expect(w.check(env(1, 0, now - 31_000), 'all')).toEqual({ ok: false, reason: 'expired' });
    expect(w.check(env(1, 0, now + 31_000), 'all')).toEqual({ ok: false, reason: 'expired' });
    expect(w.check(env(1, 0, now - 29_000), 'all')).toEqual({ ok: true, lost: false });
    // a copy made later is refused by its sequence while the window lasts, by its age after
    now += 20_000;
    expect(w.check(env(1, 0, now - 49_000), 'all')).toEqual({ ok: false, reason: 'expired' });
    expect(w.check(env(2, 1, now - 1_000), 'all')).toEqual({ ok: true, lost: false });
    expect(w.check(env(2, 1, now - 1_000), 'all')).toEqual({ ok: false, reason: 'duplicate' });
  });

  it('keeps at most maxEntries pairs and forgets idle ones; early evictions are counted', () => {
    let now = 0;
    const w = new SenderWindows({ strict: true, windowMs: 1_000, maxEntries: 3, now: () => now });
    for (let i = 1; i <= 5; i++) expect(w.check(env(i, 0, now), `t${i}`).ok).toBe(true);
    expect(w.size).toBe(3);
    expect(w.evicted).toBe(2);
    now = 10_000; // long idle: old entries are forgotten without counting
    for (let i = 6; i <= 8; i++) expect(w.check(env(i, 0, now), `t${i}`).ok).toBe(true);
    expect(w.evicted).toBe(2);
  });
});
