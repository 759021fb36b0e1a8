import type { Envelope } from '../model/envelope.js';

/** What `SenderWindows.check` says of an envelope from the bus. */
export type SequenceVerdict =
  | { ok: true; /** The sender's previous envelope on this topic never arrived here. */ lost: boolean }
  | { ok: false; reason: 'duplicate' | 'expired' | 'unsequenced' };

export interface SenderWindowsOptions {
  /**
   * A cluster key is set: envelopes without a sender sequence are refused, and so are envelopes
   * whose timestamp is further than `windowMs` from this node's clock.
   */
  strict: boolean;
  /** Replay window, ms: how far a timestamp may be from now (both ways, for clock skew). */
  windowMs: number;
  /** Most (sender run, topic) pairs remembered; the least recently seen is forgotten first. */
  maxEntries: number;
  now?: () => number;
}

interface Seen {
  last: number;
  at: number;
}

/**
 * Replay protection and loss detection per sender and topic, with a bounded memory.
 *
 * Every bus keeps the order of one publisher's messages on one topic, so per (sender run, topic)
 * the sequence numbers arrive strictly increasing: anything at or below the last one seen is a
 * copy (a redelivery, or a replay by someone who can write to the bus) and is refused. An
 * envelope names the sequence of its sender's previous envelope on the topic; when that is newer
 * than the last one seen here, at least one envelope was lost in between.
 *
 * Memory: one entry per active (run, topic) pair, at most `maxEntries`. An entry idle for twice
 * the replay window is forgotten safely: with a cluster key any copy of what it covered is older
 * than the window and refused by its timestamp. Entries evicted early because of the bound are
 * counted (`evicted`): a copy of their last envelopes could pass until the window closes.
 */
export class SenderWindows {
  private readonly seen = new Map<string, Seen>();
  private readonly now: () => number;
  /** Entries forgotten before their time because of `maxEntries`. */
  evicted = 0;

  constructor(private readonly options: SenderWindowsOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.seen.size;
  }

  check(envelope: Envelope, topic: string): SequenceVerdict {
    const { run, seq } = envelope;
    const { strict, windowMs, maxEntries } = this.options;
    if (run === undefined || seq === undefined) return strict ? { ok: false, reason: 'unsequenced' } : { ok: true, lost: false };
    const now = this.now();
    if (strict && Math.abs(now - envelope.ts) > windowMs) return { ok: false, reason: 'expired' };
    const key = `${run}\n${topic}`;
    let entry = this.seen.get(key);
    if (entry && now - entry.at > 2 * windowMs) entry = undefined;
    if (entry && seq <= entry.last) return { ok: false, reason: 'duplicate' };
    const lost = entry !== undefined && (envelope.prevSeq ?? 0) > entry.last;
    this.seen.delete(key);
    this.seen.set(key, { last: seq, at: now });
    if (this.seen.size > maxEntries) {
      const [oldest, value] = this.seen.entries().next().value as [string, Seen];
      this.seen.delete(oldest);
      if (now - value.at <= 2 * windowMs) this.evicted++;
    }
    return { ok: true, lost };
  }
}
