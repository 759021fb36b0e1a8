import type { SessionRecord } from '../model/session.js';
import type { SessionStore } from '../ports/sessions.js';
import { Gather } from './gather.js';

/** How session writes are gathered. */
export interface SessionWritesOptions {
  /** Session TTL in the store, ms (read at each flush). */
  ttlMs: () => number;
  /** A busy writer sends at most this often, ms; an idle one at the end of the current turn. */
  lingerMs?: number;
  /** Most sessions in one store call. */
  maxBatch?: number;
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
  private readonly gather: Gather<SessionRecord, void>;

  constructor(store: Pick<SessionStore, 'put' | 'putMany'>, options: SessionWritesOptions) {
    const putMany = store.putMany?.bind(store);
    this.gather = new Gather<SessionRecord, void>(
      (record) => store.put(record, options.ttlMs()),
      putMany ? async (records) => (await putMany(records, options.ttlMs()), []) : undefined,
      { lingerMs: options.lingerMs ?? 5, maxBatch: options.maxBatch ?? 64 },
    );
  }

  /** Write `record`; resolves once the store has it (rejects with the store's error). */
  put(record: SessionRecord): Promise<void> {
    return this.gather.call(record);
  }

  /** Send what is queued now (a node about to close). */
  flush(): void {
    this.gather.flush();
  }
}
