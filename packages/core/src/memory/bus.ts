import { SwitchyardError } from '../errors.js';
import type { BusCapabilities, BusHandler, MessageBus, Subscription } from '../ports/bus.js';
import type { ConnectionStatus, Unsubscribe } from '../ports/lifecycle.js';
import { Guard } from './guard.js';
import { getDefaultHub, type MemoryHub } from './hub.js';

export interface MemoryBusOptions {
  hub?: MemoryHub;
  /** Largest payload in bytes (default 16 MiB). */
  maxPayloadBytes?: number;
  /** Publishes kept while the hub is offline (default 10,000); past it publish rejects with BUFFER_FULL. */
  bufferSize?: number;
  /** Called when a publish is buffered or refused, for metrics. */
  onBuffer?: (event: 'buffered' | 'dropped' | 'flushed', count: number) => void;
}

/**
 * In-process bus. Delivery is asynchronous (a microtask per message), so handlers never run
 * inside `publish`, just as with a network bus.
 */
export class MemoryBus implements MessageBus {
  readonly name = 'memory';
  readonly capabilities: BusCapabilities;
  private readonly hub: MemoryHub;
  private readonly guard = new Guard('memory bus');
  private readonly mine = new Set<{ topic: string; fn: (p: Uint8Array, t: string) => void }>();
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>();
  private readonly pending: Array<{ topic: string; payload: Uint8Array }> = [];
  private _status: ConnectionStatus = 'idle';
  private stopWatching: (() => void) | undefined;

  constructor(private readonly options: MemoryBusOptions = {}) {
    this.hub = options.hub ?? getDefaultHub();
    this.capabilities = {
      orderedPerTopic: true,
      sharded: false,
      durable: false,
      maxPayloadBytes: options.maxPayloadBytes ?? 16 * 1024 * 1024,
    };
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  async connect(): Promise<void> {
    this.guard.check();
    if (this.stopWatching) return;
    this.stopWatching = this.hub.onOnlineChange((online) => {
      this.setStatus(online ? 'connected' : 'reconnecting');
      if (online) this.flush();
    });
    this.setStatus(this.hub.online ? 'connected' : 'reconnecting');
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    this.guard.check();
    if (payload.byteLength > this.capabilities.maxPayloadBytes) {
      throw new SwitchyardError('PAYLOAD_TOO_LARGE', `payload of ${payload.byteLength} bytes exceeds ${this.capabilities.maxPayloadBytes}`, { source: 'memory' });
    }
    if (!this.hub.online) {
      if (this.pending.length >= (this.options.bufferSize ?? 10_000)) {
        this.options.onBuffer?.('dropped', 1);
        throw new SwitchyardError('BUFFER_FULL', 'bus offline and publish buffer full', { source: 'memory' });
      }
      this.pending.push({ topic, payload });
      this.options.onBuffer?.('buffered', 1);
      return;
    }
    this.dispatch(topic, payload);
  }

  async subscribe(topic: string, handler: BusHandler): Promise<Subscription> {
    this.guard.check();
    const entry = {
      topic,
      fn: (payload: Uint8Array, t: string) => {
        if (!this.guard.closed && this.mine.has(entry)) handler(payload, t);
      },
    };
    this.mine.add(entry);
    let set = this.hub.topics.get(topic);
    if (!set) this.hub.topics.set(topic, (set = new Set()));
    set.add(entry.fn);
    return {
      topic,
      unsubscribe: async () => this.remove(entry),
    };
  }

  onStatus(listener: (status: ConnectionStatus) => void): Unsubscribe {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.guard.closed) return;
    this.guard.closed = true;
    this.stopWatching?.();
    for (const entry of [...this.mine]) this.remove(entry);
    this.pending.length = 0;
    this.setStatus('closed');
    this.statusListeners.clear();
  }

  private remove(entry: { topic: string; fn: (p: Uint8Array, t: string) => void }): void {
    this.mine.delete(entry);
    const set = this.hub.topics.get(entry.topic);
    if (!set) return;
    set.delete(entry.fn);
    if (set.size === 0) this.hub.topics.delete(entry.topic);
  }

  private dispatch(topic: string, payload: Uint8Array): void {
    const set = this.hub.topics.get(topic);
    if (!set || set.size === 0) return;
    const copy = payload.slice();
    const handlers = [...set];
    queueMicrotask(() => {
      for (const fn of handlers) fn(copy, topic);
    });
  }

  private flush(): void {
    const n = this.pending.length;
    for (const { topic, payload } of this.pending.splice(0)) this.dispatch(topic, payload);
    if (n > 0) this.options.onBuffer?.('flushed', n);
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this._status) return;
    this._status = status;
    for (const l of [...this.statusListeners]) l(status);
  }
}
