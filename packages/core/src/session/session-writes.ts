import type { SessionRecord } from '../model/session.js';
import type { SessionStore } from '../ports/sessions.js';

/** How session writes are gathered. */
export interface SessionWritesOptions {
  /** Session TTL in the store, ms (read at each flush). */
  ttlMs: () => number;
  /** A busy writer sends at most this often, ms; an idle one at the end of the current turn. */
  lingerMs?: number;
  /** Most sessions in one store call. */
  maxBatch?: number;
}

interface Queued {
  record: SessionRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The session records written as clients open, gathered into one store call per batch
 * (`putMany`: one pipeline on Redis, one statement on Postgres) instead of one round trip per
 * client. Nobody waits for these writes to answer a client, so gathering costs no latency: an
 * idle writer sends at the end of the current event-loop turn, and while clients keep arriving
 * (a connect storm, the clients of a dead node landing here) it sends at most every `lingerMs`,
 * up to `maxBatch` records at a time. A store without `putMany` gets one `put` each, as before.
 */
export class SessionWrites {
  private queue: Queued[] = [];
  private scheduled: ReturnType<typeof setImmediate> | ReturnType<typeof setTimeout> | undefined;
  private immediate = false;
  /** When the last batch went out (performance.now()), -Infinity before the first. */
  private last = -Infinity;
  private readonly lingerMs: number;
  private readonly maxBatch: number;

  constructor(
    private readonly store: Pick<SessionStore, 'put' | 'putMany'>,
    private readonly options: SessionWritesOptions,
  ) {
    this.lingerMs = options.lingerMs ?? 5;
    this.maxBatch = Math.max(1, options.maxBatch ?? 64);
  }

  /** Write `record`; resolves once the store has it (rejects with the store's error). */
  put(record: SessionRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  /** Send what is queued now (a node about to close). */
  flush = (): void => {
    this.cancel();
    while (this.queue.length > 0) this.send(this.queue.splice(0, this.maxBatch));
  };

  private schedule(): void {
    if (this.scheduled !== undefined) return;
    const wait = this.last + this.lingerMs - performance.now();
    if (wait <= 0) {
      this.immediate = true;
      this.scheduled = setImmediate(this.flush);
    } else {
      this.immediate = false;
      this.scheduled = setTimeout(this.flush, Math.ceil(wait));
    }
  }

  private cancel(): void {
    if (this.scheduled === undefined) return;
    if (this.immediate) clearImmediate(this.scheduled as ReturnType<typeof setImmediate>);
    else clearTimeout(this.scheduled as ReturnType<typeof setTimeout>);
    this.scheduled = undefined;
  }

  private send(batch: Queued[]): void {
    this.last = performance.now();
    const ttl = this.options.ttlMs();
    if (batch.length === 1 || !this.store.putMany) {
      for (const q of batch) this.store.put(q.record, ttl).then(q.resolve, q.reject);
      return;
    }
    this.store.putMany(
      batch.map((q) => q.record),
      ttl,
    ).then(
      () => {
        for (const q of batch) q.resolve();
      },
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  }
}
