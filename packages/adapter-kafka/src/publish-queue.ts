import { isUnreachable, kafkaError, mapKafkaError } from './errors.js';

/** One publish waiting to be sent. `done` is absent once the publish was answered as buffered. */
export interface Pending {
  topic: string;
  payload: Uint8Array;
  done?: { resolve: () => void; reject: (err: unknown) => void };
}

export interface PublishQueueOptions {
  /** Send a batch, in order, as one produce request; throws on failure. */
  send: (batch: Pending[]) => Promise<void>;
  /** Publishes kept while the broker is unreachable. */
  bufferSize: number;
  /** Most bytes of payload in one produce request (a partition's record batch must fit `message.max.bytes`). */
  maxBatchBytes: number;
  maxReconnectDelayMs: number;
  /** Counters and status changes, for the bus. */
  onEvent: (event: 'buffered' | 'dropped' | 'flushed' | 'offline' | 'online', count: number, cause?: unknown) => void;
}

/**
 * Sends publishes in order, one produce request in flight at a time: whatever arrives while a
 * request is out goes in the next one (batching without any linger). When the broker is
 * unreachable, publishes are kept up to `bufferSize` and a retry loop with backoff flushes
 * them, in order, once it answers again.
 */
export class PublishQueue {
  private readonly queue: Pending[] = [];
  private sending = false;
  private online = true;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 50;
  private buffered = 0;
  /** Buffered publishes taken out of the queue by a retry in flight; they still count against the bound. */
  private retrying = 0;

  constructor(private readonly options: PublishQueueOptions) {}

  get isOnline(): boolean {
    return this.online;
  }

  /** Resolves once the broker acknowledged it, or once it was buffered while offline. */
  publish(topic: string, payload: Uint8Array): Promise<void> {
    if (!this.online) {
      if (this.queue.length + this.retrying >= this.options.bufferSize) {
        this.options.onEvent('dropped', 1);
        return Promise.reject(kafkaError('BUFFER_FULL', `broker unreachable and the publish buffer is full (${this.options.bufferSize})`));
      }
      this.queue.push({ topic, payload });
      this.buffered++;
      this.options.onEvent('buffered', 1);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, payload, done: { resolve, reject } });
      void this.pump();
    });
  }

  /** Drop everything; waiting publishes reject with `err`. */
  close(err: unknown): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const p of this.queue.splice(0)) p.done?.reject(err);
  }

  private async pump(): Promise<void> {
    if (this.sending || !this.online || this.closed) return;
    this.sending = true;
    try {
      while (this.queue.length > 0 && this.online && !this.closed) {
        const batch = this.take();
        try {
          await this.options.send(batch);
        } catch (err) {
          this.failed(batch, err);
          continue;
        }
        const flushed = batch.filter((p) => !p.done).length;
        if (flushed > 0) {
          this.buffered -= flushed;
          this.options.onEvent('flushed', flushed);
        }
        for (const p of batch) p.done?.resolve();
      }
    } finally {
      this.sending = false;
    }
  }

  private take(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < 1000) {
      const size = (this.queue[n] as Pending).payload.byteLength;
      if (n > 0 && bytes + size > this.options.maxBatchBytes) break;
      bytes += size;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private failed(batch: Pending[], err: unknown): void {
    if (this.closed) {
      for (const p of batch) p.done?.reject(err);
      return;
    }
    if (!isUnreachable(err)) {
      // The broker answered and refused: no point in keeping these.
      const mapped = mapKafkaError(err, 'publish');
      const dropped = batch.filter((p) => !p.done).length;
      if (dropped > 0) {
        this.buffered -= dropped;
        this.options.onEvent('dropped', dropped, err);
      }
      for (const p of batch) p.done?.reject(mapped);
      return;
    }
    // Unreachable: keep the batch at the front, answer its waiters as buffered, and retry later.
    const wasOnline = this.online;
    this.online = false;
    const fresh = batch.filter((p) => p.done);
    let room = this.options.bufferSize - (this.queue.length + (batch.length - fresh.length));
    const keep: Pending[] = [];
    for (const p of batch) {
      if (!p.done) {
        keep.push(p);
      } else if (room > 0) {
        room--;
        p.done.resolve();
        keep.push({ topic: p.topic, payload: p.payload });
        this.buffered++;
        this.options.onEvent('buffered', 1);
      } else {
        this.options.onEvent('dropped', 1);
        p.done.reject(kafkaError('BUFFER_FULL', `broker unreachable and the publish buffer is full (${this.options.bufferSize})`, err));
      }
    }
    // Waiters still queued behind the batch are buffered too.
    for (const p of this.queue) {
      if (p.done) {
        p.done.resolve();
        delete p.done;
        this.buffered++;
        this.options.onEvent('buffered', 1);
      }
    }
    this.queue.unshift(...keep);
    if (wasOnline) this.options.onEvent('offline', this.queue.length, err);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.options.maxReconnectDelayMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retry();
    }, delay);
  }

  private async retry(): Promise<void> {
    if (this.closed || this.online) return;
    if (this.queue.length === 0) {
      // Nothing to prove the broker is back with: assume it is; the next failure says otherwise.
      this.online = true;
      this.retryDelay = 50;
      this.options.onEvent('online', 0);
      return;
    }
    const batch = this.take();
    this.retrying = batch.length;
    try {
      await this.options.send(batch);
    } catch (err) {
      this.retrying = 0;
      this.queue.unshift(...batch);
      if (!isUnreachable(err)) {
        // Refused, not unreachable: drop this batch so it cannot block the rest forever.
        this.queue.splice(0, batch.length);
        this.buffered -= batch.length;
        this.options.onEvent('dropped', batch.length, err);
      }
      this.scheduleRetry();
      return;
    }
    this.retrying = 0;
    this.buffered -= batch.length;
    this.options.onEvent('flushed', batch.length);
    this.online = true;
    this.retryDelay = 50;
    this.options.onEvent('online', this.queue.length);
    void this.pump();
  }
}
