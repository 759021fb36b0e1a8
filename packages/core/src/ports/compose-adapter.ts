import type { ClusterAdapter } from './adapter.js';
import type { MessageBus } from './bus.js';
import type { HistoryStore } from './history.js';
import type { Instrumentable } from './observer.js';
import type { NodeRegistry } from './registry.js';
import type { SessionStore } from './sessions.js';

/** A backend's ports; a port it lacks is `undefined`. */
export interface AdapterPorts<Bus extends MessageBus | undefined, Registry extends NodeRegistry | undefined, Sessions extends SessionStore | undefined, History extends HistoryStore | undefined> {
  bus: Bus;
  registry: Registry;
  sessions: Sessions;
  history: History;
}

/** `true` for a port a backend has, `false` for one it lacks (`undefined`). */
type Has<P> = [P] extends [undefined] ? false : true;

/** A composed adapter: its capabilities known from its port types. */
export type ComposedAdapter<Bus extends MessageBus | undefined, Registry extends NodeRegistry | undefined, Sessions extends SessionStore | undefined, History extends HistoryStore | undefined> = ClusterAdapter<Bus, Registry, Sessions, History> & {
  readonly capabilities: { readonly bus: Has<Bus>; readonly registry: Has<Registry>; readonly sessions: Has<Sessions>; readonly history: Has<History> };
};

export interface ComposeAdapterOptions {
  /**
   * Connect the ports one after another (bus, history, registry, sessions) and close them in
   * the reverse order, for ports that share one client the first `connect()` opens. Default:
   * side by side, and on close the stores before the bus.
   */
  oneByOne?: boolean;
}

/**
 * The {@link ClusterAdapter} of a backend's ports: `capabilities` say which are set,
 * `connect()` opens them, `close()` closes them with the bus last (so departures still go
 * out), `instrument()` hands the observer to every port that reports events. Every backend
 * factory returns this, with its own extras spread beside it (`{ ...composeAdapter(ports), migrate }`).
 */
export function composeAdapter<Bus extends MessageBus | undefined, Registry extends NodeRegistry | undefined, Sessions extends SessionStore | undefined, History extends HistoryStore | undefined>(
  ports: AdapterPorts<Bus, Registry, Sessions, History>,
  options: ComposeAdapterOptions = {},
): ComposedAdapter<Bus, Registry, Sessions, History> {
  const { bus, registry, sessions, history } = ports;
  const stores = [history, registry, sessions].filter((p) => p !== undefined);
  const all = [bus, ...stores].filter((p) => p !== undefined);
  return {
    bus,
    registry,
    sessions,
    history,
    capabilities: { bus: bus !== undefined, registry: registry !== undefined, sessions: sessions !== undefined, history: history !== undefined } as ComposedAdapter<Bus, Registry, Sessions, History>['capabilities'],
    async connect() {
      if (options.oneByOne) for (const p of all) await p.connect();
      else await Promise.all(all.map((p) => p.connect()));
    },
    async close() {
      if (options.oneByOne) for (const p of [...all].reverse()) await p.close();
      else {
        await Promise.all(stores.map((p) => p.close()));
        await bus?.close();
      }
    },
    instrument(observer) {
      for (const p of all) (p as Instrumentable).instrument?.(observer);
    },
  };
}
