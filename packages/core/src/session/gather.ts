/** How calls are gathered into batches. */
export interface GatherOptions {
  /** A busy gatherer sends at most this often, ms; an idle one at the end of the current turn (0: every turn). */
  lingerMs: number;
  /** Most items in one batch. */
  maxBatch: number;
}

interface Queued<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Calls made by clients arriving together, gathered into one store call per batch (the
 * DataLoader pattern): an idle gatherer sends at the end of the current event-loop turn, and
 * while calls keep coming (a connect storm, the clients of a dead node landing here) at most every
 * `lingerMs`, up to `maxBatch` items at a time. `many` answers a batch in one call, its results in
 * the order of the items (a failure fails every item of the batch); without `many`, or for a batch
 * of one, each item gets its own `one` call and its own answer.
 */
export class Gather<I, O> {
  private queue: Array<Queued<I, O>> = [];
  private scheduled: ReturnType<typeof setImmediate> | ReturnType<typeof setTimeout> | undefined;
  private immediate = false;
  /** When the last batch went out (performance.now()), -Infinity before the first. */
  private last = -Infinity;
  private readonly maxBatch: number;

  constructor(
    private readonly one: (item: I) => Promise<O>,
    private readonly many: ((items: I[]) => Promise<readonly O[]>) | undefined,
    private readonly options: GatherOptions,
  ) {
    this.maxBatch = Math.max(1, options.maxBatch);
  }

  /** Resolves with the item's answer (rejects with the store's error). */
  call(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
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
    const wait = this.last + this.options.lingerMs - performance.now();
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

  private send(batch: Array<Queued<I, O>>): void {
    this.last = performance.now();
    if (batch.length === 1 || !this.many) {
      for (const q of batch) this.one(q.item).then(q.resolve, q.reject);
      return;
    }
    this.many(batch.map((q) => q.item)).then(
      (results) => batch.forEach((q, i) => q.resolve(results[i] as O)),
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  }
}
