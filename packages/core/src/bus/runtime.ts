import { SwitchyardError, type SwitchyardErrorCode } from '../errors.js';
import { noopLogger, type Logger } from '../logger.js';
import type { BusCapabilities, BusHandler, MessageBus, Subscription } from '../ports/bus.js';
import type { ConnectionStatus, Unsubscribe } from '../ports/lifecycle.js';
import { noopObserver, type AdapterEvent, type AdapterObserver } from '../ports/observer.js';
import type { BusDriver, BusDriverEvents, BusPart } from './driver.js';

export interface BusRuntimeOptions {
  /** Publishes kept while the backend is unreachable; past it publish rejects with BUFFER_FULL. */
  bufferSize: number;
  /** Bytes of payload kept while unreachable (default: no byte bound). */
  bufferBytes?: number;
  /** Which calls reject with NOT_CONNECTED before `connect()` (default `both`). */
  connectFirst?: 'both' | 'publish' | 'none';
  /**
   * For a driver that never reports its send part up by itself (it has no connection of its
   * own to watch): while the send part is down because a send failed, the first buffered
   * publish is sent again after `firstDelayMs`, then after twice as long each time, up to
   * `maxDelayMs`. Once the backend answers (the publish went out, or was refused and is
   * dropped) the send part is up and the rest is flushed. Without it only `up()` brings it back.
   */
  resend?: { firstDelayMs: number; maxDelayMs: number };
  logger?: Logger;
}

interface Entry {
  readonly handler: BusHandler;
  active: boolean;
}

interface Waiting {
  topic: string;
  payload: Uint8Array;
}

/** Sent at once (in order) while flushing; the driver may pipeline them. */
const FLUSH_BATCH = 500;

/** Mutable state, in one object so that a bus wrapped with `Object.create` shares it. */
interface State {
  status: ConnectionStatus;
  phase: 'idle' | 'opening' | 'open';
  closed: boolean;
  dead: SwitchyardError | undefined;
  opening: Promise<void> | undefined;
  sendUp: boolean;
  listenUp: boolean;
  /** Every listen is back on the current listen connection. */
  restored: boolean;
  /** Parts reported down while `open()` ran. */
  downAtOpen: { send: boolean; listen: boolean };
  flushing: boolean;
  bufferBytes: number;
  /** Publishes put back at the front of the buffer by failed sends since the last flush began. */
  requeued: number;
  restoring: Promise<void> | undefined;
  /** The next resend of the first buffered publish (`resend` option), and the wait after it. */
  resendTimer: ReturnType<typeof setTimeout> | undefined;
  resendDelay: number;
  observer: AdapterObserver;
}

/**
 * The reliability every bus needs, written once: handlers per topic, the status machine
 * (`idle`, `connecting`, `connected`, `reconnecting`, `closed`) and its listeners, a bounded
 * ordered publish buffer while the backend is unreachable and its in-order flush once it is
 * back (after this instance's own listens, so its handlers see its buffered publishes), every
 * topic listened to again after a reconnect, the payload limit from the driver's capabilities,
 * the closed checks and an idempotent `close()`. A backend supplies a `BusDriver`.
 */
export class BusRuntime implements MessageBus {
  readonly name: string;
  protected readonly log: Logger;
  private readonly topics = new Map<string, Entry[]>();
  /** Topics the driver listens on now. */
  private readonly listening = new Set<string>();
  private readonly locks = new Map<string, Promise<void>>();
  private readonly pending: Waiting[] = [];
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>();
  private readonly s: State;
  private readonly events: BusDriverEvents;

  constructor(
    protected readonly driver: BusDriver,
    private readonly rtOptions: BusRuntimeOptions,
  ) {
    this.name = driver.name;
    this.log = rtOptions.logger ?? noopLogger;
    this.s = {
      status: 'idle',
      phase: 'idle',
      closed: false,
      dead: undefined,
      opening: undefined,
      sendUp: false,
      listenUp: false,
      restored: false,
      downAtOpen: { send: false, listen: false },
      flushing: false,
      bufferBytes: 0,
      requeued: 0,
      restoring: undefined,
      resendTimer: undefined,
      resendDelay: 0,
      observer: noopObserver,
    };
    this.events = {
      message: (topic, payload) => this.deliver(topic, payload),
      up: (part) => this.up(part ?? 'both'),
      down: (reason, part) => this.down(reason, part ?? 'both'),
      failed: (err) => this.failed(err),
      count: (event, n) => this.count(event, n),
    };
  }

  get capabilities(): BusCapabilities {
    return this.driver.capabilities;
  }

  get status(): ConnectionStatus {
    return this.s.status;
  }

  /** Publishes waiting for the backend to come back. */
  get buffered(): number {
    return this.pending.length;
  }

  instrument(observer: AdapterObserver): void {
    this.s.observer = observer;
  }

  onStatus(listener: (status: ConnectionStatus) => void): Unsubscribe {
    this.statusListeners.add(listener);
    return () => void this.statusListeners.delete(listener);
  }

  async connect(): Promise<void> {
    if (this.s.closed) throw this.error('CLOSED', `${this.driver.label} is closed`);
    if (this.s.phase === 'open') return;
    this.s.opening ??= this.open().catch((err: unknown) => {
      this.s.opening = undefined;
      throw err;
    });
    return this.s.opening;
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    this.check(this.rtOptions.connectFirst !== 'none');
    const max = this.driver.capabilities.maxPayloadBytes;
    if (payload.byteLength > max) throw this.error('PAYLOAD_TOO_LARGE', `payload of ${payload.byteLength} bytes exceeds ${max}`);
    const s = this.s;
    if (s.sendUp && !s.flushing && this.pending.length === 0) {
      try {
        await this.driver.send(topic, payload);
      } catch (err) {
        if (s.closed) throw this.error('CLOSED', `${this.driver.label} is closed`);
        if (!this.driver.isUnreachable?.(err)) throw this.driver.mapError(err, `publish ${topic}`);
        // Sent into a connection that was going away: it waits with the others, ahead of later publishes.
        this.pending.splice(s.requeued++, 0, { topic, payload: payload.slice() });
        s.bufferBytes += payload.byteLength;
        this.count('publish_buffered');
        this.sendFailed();
      }
      return;
    }
    const { bufferSize, bufferBytes = Number.POSITIVE_INFINITY } = this.rtOptions;
    if (this.pending.length >= bufferSize || s.bufferBytes + payload.byteLength > bufferBytes) {
      this.count('publish_dropped');
      throw this.error('BUFFER_FULL', `${this.driver.name} is unreachable and the publish buffer is full (${this.pending.length} messages, ${s.bufferBytes} bytes)`, {
        size: bufferSize,
        bytes: bufferBytes,
      });
    }
    // A copy: the caller may reuse its buffer before the flush.
    this.pending.push({ topic, payload: payload.slice() });
    s.bufferBytes += payload.byteLength;
    this.count('publish_buffered');
  }

  async subscribe(topic: string, handler: BusHandler): Promise<Subscription> {
    this.check(this.rtOptions.connectFirst === undefined || this.rtOptions.connectFirst === 'both');
    // An entry per call, so one function subscribed twice runs twice.
    const entry: Entry = { handler, active: true };
    const list = this.topics.get(topic);
    // Copy on write: a delivery in progress keeps looping over the list it started with.
    this.topics.set(topic, list ? [...list, entry] : [entry]);
    if (this.canListen()) {
      try {
        await this.sync(topic, false);
      } catch (err) {
        this.remove(topic, entry);
        if (this.s.closed) throw this.error('CLOSED', `${this.driver.label} is closed`);
        throw this.driver.mapError(err, `subscribe ${topic}`);
      }
    }
    // Otherwise the topic is listened to as soon as the connection is back.
    return {
      topic,
      unsubscribe: async () => {
        if (!this.remove(topic, entry) || this.s.closed || !this.canListen()) return;
        await this.sync(topic, false).catch((err: unknown) => {
          this.count('error');
          this.log.warn({ topic, err: (err as Error).message }, `${this.driver.label} unsubscribe failed`);
        });
      },
    };
  }

  async close(): Promise<void> {
    const s = this.s;
    if (s.closed) return;
    s.closed = true;
    this.stopResend();
    await s.opening?.catch(() => undefined);
    if (this.pending.length > 0) {
      this.count('publish_dropped', this.pending.length);
      this.log.warn({ dropped: this.pending.length }, `${this.driver.label} closed with buffered publishes; they are dropped`);
    }
    this.pending.length = 0;
    s.bufferBytes = 0;
    for (const list of this.topics.values()) for (const e of list) e.active = false;
    this.topics.clear();
    const listening = [...this.listening];
    this.listening.clear();
    if (s.phase === 'open') {
      await this.driver.close(listening).catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message }, `${this.driver.label} did not close cleanly`);
      });
    }
    this.setStatus('closed');
    this.statusListeners.clear();
  }

  /** Tell the observer; one that throws is logged, never breaks the bus. Override to keep counters of your own. */
  protected count(event: AdapterEvent, n = 1): void {
    try {
      this.s.observer.count(this.driver.name, event, n);
    } catch (err) {
      this.log.warn({ err }, 'adapter observer threw');
    }
  }

  private async open(): Promise<void> {
    const s = this.s;
    s.phase = 'opening';
    s.downAtOpen = { send: false, listen: false };
    this.setStatus('connecting');
    try {
      await this.driver.open(this.events);
    } catch (err) {
      s.phase = 'idle';
      if (!s.closed) this.setStatus('idle');
      throw err;
    }
    s.phase = 'open';
    if (s.closed) throw this.error('CLOSED', `${this.driver.label} is closed`);
    s.sendUp = !s.downAtOpen.send;
    s.listenUp = !s.downAtOpen.listen;
    s.restored = s.listenUp;
    this.updateStatus();
    // Topics subscribed while connecting.
    await this.restore(false);
  }

  /** Hot path: a Map lookup and a loop over the topic's handlers; nothing allocated. */
  private deliver(topic: string, payload: Uint8Array): void {
    if (this.s.closed) return;
    const list = this.topics.get(topic);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      const entry = list[i] as Entry;
      if (!entry.active) continue;
      try {
        entry.handler(payload, topic);
      } catch (err) {
        this.count('error');
        this.log.error({ topic, err: (err as Error).message }, 'bus handler threw');
      }
    }
  }

  private up(part: BusPart): void {
    const s = this.s;
    if (s.closed || s.phase === 'idle') return;
    if (s.phase === 'opening') {
      if (part !== 'listen') s.downAtOpen.send = false;
      if (part !== 'send') s.downAtOpen.listen = false;
      return;
    }
    const send = part !== 'listen' && !s.sendUp;
    const listen = part !== 'send' && !s.listenUp;
    if (!send && !listen) return;
    if (send) {
      s.sendUp = true;
      this.stopResend();
    }
    if (listen) s.listenUp = true;
    this.count('reconnect');
    this.log.info({ part }, `${this.driver.label} reconnected`);
    if (listen) {
      void this.restore(true);
    } else {
      this.updateStatus();
      void this.flush();
    }
  }

  private down(reason: string, part: BusPart): void {
    const s = this.s;
    if (s.closed || s.phase === 'idle') return;
    if (s.phase === 'opening') {
      if (part !== 'listen') s.downAtOpen.send = true;
      if (part !== 'send') s.downAtOpen.listen = true;
      return;
    }
    const send = part !== 'listen' && s.sendUp;
    const listen = part !== 'send' && s.listenUp;
    if (!send && !listen) return;
    if (send) s.sendUp = false;
    if (listen) {
      s.listenUp = false;
      s.restored = false;
      // Whatever the backend knew of this connection is gone with it.
      if (!this.driver.keepsListens) this.listening.clear();
    }
    this.count('disconnect');
    this.log.warn({ part, reason }, `${this.driver.label} lost its connection; publishes are buffered`);
    this.updateStatus();
  }

  private failed(err: SwitchyardError): void {
    if (this.s.closed) return;
    this.stopResend();
    this.s.dead = err;
    this.s.sendUp = false;
    this.s.listenUp = false;
    this.log.error({ err: err.message }, `${this.driver.label} connection closed for good`);
    this.setStatus('closed');
  }

  /** Listen again to every topic that has a handler; then flush what waited. One pass at a time. */
  private restore(counted: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      const wanted = [...this.topics.keys()];
      const results = await Promise.allSettled(wanted.map((t) => this.sync(t, counted)));
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (counted && wanted.length - failed > 0) this.count('resubscribe', wanted.length - failed);
      if (failed > 0) {
        this.count('error', failed);
        this.log.error({ failed }, `${this.driver.label} could not restore some subscriptions; retrying on the next reconnect`);
      }
      const s = this.s;
      if (!s.listenUp || s.closed) return;
      s.restored = true;
      if (counted) this.log.info({ topics: wanted.length }, `${this.driver.label} subscriptions restored`);
      this.updateStatus();
      void this.flush();
    };
    const p = (this.s.restoring ?? Promise.resolve()).then(run, run);
    this.s.restoring = p.catch(() => undefined);
    return p;
  }

  private canListen(): boolean {
    return this.s.phase === 'open' && (this.s.listenUp || this.driver.keepsListens === true);
  }

  /**
   * Make the driver's listens on `topic` match the handlers (one operation per topic at a
   * time). `again`: a restore pass, where a driver that keeps its listens checks each one.
   */
  private sync(topic: string, again: boolean): Promise<void> {
    const work = async (): Promise<void> => {
      if (this.s.closed || this.s.phase !== 'open') return;
      const want = this.topics.has(topic);
      const have = this.listening.has(topic);
      if (want && (!have || (again && this.driver.keepsListens))) {
        await this.driver.listen(topic);
        // A connection lost in between cleared `listening`; the restore pass will listen again.
        if (this.canListen()) this.listening.add(topic);
      } else if (!want && have) {
        this.listening.delete(topic);
        await this.driver.unlisten(topic);
      }
    };
    const prev = this.locks.get(topic) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.catch(() => undefined);
    this.locks.set(topic, tail);
    void tail.then(() => {
      if (this.locks.get(topic) === tail) this.locks.delete(topic);
    });
    return next;
  }

  private remove(topic: string, entry: Entry): boolean {
    const list = this.topics.get(topic);
    if (!entry.active || !list) return false;
    entry.active = false;
    const rest = list.filter((e) => e !== entry);
    if (rest.length === 0) this.topics.delete(topic);
    else this.topics.set(topic, rest);
    return true;
  }

  /** Send buffered publishes in order, in batches, while the connection holds. */
  private async flush(): Promise<void> {
    const s = this.s;
    if (s.flushing || s.closed) return;
    // Wait for our own listens too, so this instance's handlers see its buffered publishes.
    if (!s.sendUp || (!s.restored && this.topics.size > 0)) return;
    s.flushing = true;
    s.requeued = 0;
    try {
      while (this.pending.length > 0 && s.sendUp && !s.closed) {
        const batch = this.pending.splice(0, FLUSH_BATCH);
        for (const w of batch) s.bufferBytes -= w.payload.byteLength;
        const results = await Promise.allSettled(batch.map((w) => this.sendOne(w)));
        // Unreachable again: what did not go out waits, in order, for the next up().
        const back = batch.filter((w, i) => results[i]?.status === 'rejected' && this.driver.isUnreachable?.((results[i] as PromiseRejectedResult).reason));
        if (back.length > 0 && !s.closed) {
          this.pending.unshift(...back);
          for (const w of back) s.bufferBytes += w.payload.byteLength;
          this.sendFailed();
        }
        const failed = results.filter((r) => r.status === 'rejected').length - back.length;
        if (batch.length - failed - back.length > 0) this.count('publish_flushed', batch.length - failed - back.length);
        if (failed > 0) {
          this.count('publish_dropped', failed);
          this.log.error({ failed }, `${this.driver.label} dropped buffered publishes that could not be sent`);
        }
      }
    } finally {
      s.flushing = false;
    }
    if (this.pending.length > 0 && s.sendUp && !s.closed) void this.flush();
  }

  /** A send found the backend unreachable: the send part is down until `up()`, or until a resend is answered. */
  private sendFailed(): void {
    this.down('send failed', 'send');
    this.scheduleResend();
  }

  private scheduleResend(): void {
    const s = this.s;
    const resend = this.rtOptions.resend;
    if (!resend || s.resendTimer || s.sendUp || s.closed || s.dead) return;
    const delay = s.resendDelay || resend.firstDelayMs;
    s.resendDelay = Math.min(delay * 2, resend.maxDelayMs);
    s.resendTimer = setTimeout(() => void this.resend(), delay);
  }

  private stopResend(): void {
    clearTimeout(this.s.resendTimer);
    this.s.resendTimer = undefined;
    this.s.resendDelay = 0;
  }

  /** Send the first buffered publish again, in order (nothing else is sent meanwhile); an answer brings the send part up. */
  private async resend(): Promise<void> {
    const s = this.s;
    s.resendTimer = undefined;
    if (s.closed || s.dead || s.sendUp) return;
    const head = this.pending[0];
    if (head === undefined) return this.up('send');
    // A flush still settling, or our own listens not back yet (the flush waits for them too): later.
    if (s.flushing || (!s.restored && this.topics.size > 0)) return this.scheduleResend();
    s.flushing = true;
    let failure: unknown;
    let sent = true;
    try {
      await this.driver.send(head.topic, head.payload);
    } catch (err) {
      [sent, failure] = [false, err];
    } finally {
      s.flushing = false;
    }
    if (s.closed) return;
    if (!sent && this.driver.isUnreachable?.(failure)) return this.scheduleResend();
    if (this.pending[0] === head) {
      this.pending.shift();
      s.bufferBytes -= head.payload.byteLength;
      this.count(sent ? 'publish_flushed' : 'publish_dropped');
      if (!sent) this.log.error({ err: (failure as Error).message }, `${this.driver.label} dropped a buffered publish that could not be sent`);
    }
    if (s.sendUp) void this.flush();
    else this.up('send');
  }

  private async sendOne(w: Waiting): Promise<void> {
    await this.driver.send(w.topic, w.payload);
  }

  private check(connectFirst: boolean): void {
    const s = this.s;
    if (s.closed) throw this.error('CLOSED', `${this.driver.label} is closed`);
    if (s.dead) throw s.dead;
    if (connectFirst && s.phase === 'idle') throw this.error('NOT_CONNECTED', `${this.driver.label} is not connected: call connect() first`);
  }

  private error(code: SwitchyardErrorCode, message: string, details?: Record<string, unknown>): SwitchyardError {
    return new SwitchyardError(code, message, { source: this.driver.name, details });
  }

  private updateStatus(): void {
    const s = this.s;
    if (s.closed || s.dead || s.phase !== 'open') return;
    this.setStatus(s.sendUp && s.listenUp && s.restored ? 'connected' : 'reconnecting');
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.s.status) return;
    this.s.status = status;
    for (const l of [...this.statusListeners]) {
      try {
        l(status);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'status listener threw');
      }
    }
  }
}

/** A `MessageBus` over `driver`, for adapter authors. */
export const createBusRuntime = (driver: BusDriver, options: BusRuntimeOptions): BusRuntime => new BusRuntime(driver, options);
