import { isSwitchyardError } from '../errors.js';
import { MemoryBus } from '../memory/bus.js';
import type { MemoryHub } from '../memory/hub.js';
import { MemoryRegistry } from '../memory/registry.js';
import type { BusHandler, MessageBus } from '../ports/bus.js';
import type { AdapterEvent, AdapterObserver } from '../ports/observer.js';
import type { NodeRegistry } from '../ports/registry.js';

/** An `AdapterObserver` that keeps counts, for assertions on what an adapter reported. */
export class CountingObserver implements AdapterObserver {
  readonly counts = new Map<AdapterEvent, number>();
  count(_adapter: string, event: AdapterEvent, n = 1): void {
    this.counts.set(event, (this.counts.get(event) ?? 0) + n);
  }
  get(event: AdapterEvent): number {
    return this.counts.get(event) ?? 0;
  }
}

/** How a call ended: `'ok'`, the SwitchyardError code it failed with, or `untyped: <message>` (which a test should refuse). */
export const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (err: unknown) => (isSwitchyardError(err) ? err.code : `untyped: ${(err as Error)?.message}`),
  );

/**
 * An in-memory bus that holds each publish for a random 0-4 ms, in its own order: the messages
 * of two publishers interleave at random, as they do over a network.
 */
export function jitteryBus(hub: MemoryHub): MessageBus {
  const bus = new MemoryBus({ hub });
  const queue: Array<[string, Uint8Array]> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pump = (): void => {
    timer = undefined;
    const next = queue.shift();
    if (next) void bus.publish(next[0], next[1]);
    if (queue.length > 0) timer = setTimeout(pump, Math.random() * 4);
  };
  return Object.assign(Object.create(bus) as MessageBus, {
    publish: async (topic: string, payload: Uint8Array) => {
      queue.push([topic, payload]);
      timer ??= setTimeout(pump, Math.random() * 4);
    },
    close: async () => {
      clearTimeout(timer);
      await bus.close();
    },
  });
}

/** An in-memory bus that can stop hearing (`deaf(true)`): what is published meanwhile never reaches its handlers. */
export function deafBus(hub: MemoryHub): { bus: MessageBus; deaf(on: boolean): void } {
  const bus = new MemoryBus({ hub });
  let deaf = false;
  const wrapped = Object.assign(Object.create(bus) as MessageBus, {
    subscribe: (topic: string, handler: BusHandler) => bus.subscribe(topic, (p, t) => (deaf ? undefined : handler(p, t))),
  });
  return { bus: wrapped, deaf: (on) => void (deaf = on) };
}

/** What a registry link does: answer (`ok`), never answer (`hang`, a blackhole), or fail at once (`fail`). */
export type LinkMode = 'ok' | 'hang' | 'fail';

/** An in-memory registry whose link to the shared state can hang or fail, for fencing tests. */
export function flakyRegistry(hub: MemoryHub): { registry: NodeRegistry; set(mode: LinkMode): void } {
  const inner = new MemoryRegistry({ hub });
  let mode: LinkMode = 'ok';
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> =>
      mode === 'ok' ? fn(...a) : mode === 'hang' ? new Promise<R>(() => undefined) : Promise.reject(new Error('connection refused'));
  const registry: NodeRegistry = Object.assign(Object.create(inner) as NodeRegistry, {
    register: wrap(inner.register.bind(inner)),
    heartbeat: wrap(inner.heartbeat.bind(inner)),
    list: wrap(inner.list.bind(inner)),
    acquireLease: wrap(inner.acquireLease.bind(inner)),
    renewLease: wrap(inner.renewLease.bind(inner)),
  });
  return { registry, set: (m) => void (mode = m) };
}
