import type { BusDriver, BusDriverEvents } from '../bus/driver.js';
import { BusRuntime } from '../bus/runtime.js';
import { SwitchyardError } from '../errors.js';
import type { BusCapabilities } from '../ports/bus.js';
import type { AdapterEvent } from '../ports/observer.js';
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

type Receiver = (payload: Uint8Array, topic: string) => void;

/** The hub as a bus backend: a listen is one receiver in the hub's set for that topic. */
class MemoryBusDriver implements BusDriver {
  readonly name = 'memory';
  readonly label = 'memory bus';
  /** The hub keeps every listen while it is offline. */
  readonly keepsListens = true;
  readonly capabilities: BusCapabilities;
  private receive: Receiver | undefined;
  private stopWatching: (() => void) | undefined;

  constructor(
    private readonly hub: MemoryHub,
    maxPayloadBytes: number,
  ) {
    this.capabilities = { orderedPerTopic: true, sharded: false, durable: false, maxPayloadBytes };
  }

  async open(events: BusDriverEvents): Promise<void> {
    this.receive = (payload, topic) => events.message(topic, payload);
    this.stopWatching = this.hub.onOnlineChange((online) => (online ? events.up() : events.down('hub offline')));
    if (!this.hub.online) events.down('hub offline');
  }

  /** Delivery is asynchronous (a microtask per message), so handlers never run inside `publish`. */
  send(topic: string, payload: Uint8Array): void {
    const set = this.hub.topics.get(topic);
    if (!set || set.size === 0) return;
    const copy = payload.slice();
    const receivers = [...set];
    queueMicrotask(() => {
      for (const fn of receivers) fn(copy, topic);
    });
  }

  listen(topic: string): void {
    let set = this.hub.topics.get(topic);
    if (!set) this.hub.topics.set(topic, (set = new Set()));
    set.add(this.receive as Receiver);
  }

  unlisten(topic: string): void {
    const set = this.hub.topics.get(topic);
    if (!set) return;
    set.delete(this.receive as Receiver);
    if (set.size === 0) this.hub.topics.delete(topic);
  }

  async close(listening: readonly string[]): Promise<void> {
    this.stopWatching?.();
    for (const topic of listening) this.unlisten(topic);
  }

  mapError(err: unknown, what: string): SwitchyardError {
    return new SwitchyardError('BACKEND_ERROR', `${what} failed`, { source: 'memory', cause: err });
  }
}

/**
 * In-process bus over a `MemoryHub`. Delivery is asynchronous (a microtask per message), so
 * handlers never run inside `publish`, just as with a network bus.
 */
export class MemoryBus extends BusRuntime {
  constructor(private readonly options: MemoryBusOptions = {}) {
    super(new MemoryBusDriver(options.hub ?? getDefaultHub(), options.maxPayloadBytes ?? 16 * 1024 * 1024), {
      bufferSize: options.bufferSize ?? 10_000,
      connectFirst: 'none',
    });
  }

  protected override count(event: AdapterEvent, n = 1): void {
    super.count(event, n);
    if (event === 'publish_buffered') this.options.onBuffer?.('buffered', n);
    else if (event === 'publish_dropped') this.options.onBuffer?.('dropped', n);
    else if (event === 'publish_flushed') this.options.onBuffer?.('flushed', n);
  }
}
