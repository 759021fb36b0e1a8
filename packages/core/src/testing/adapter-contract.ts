import { describe, expect, it } from 'vitest';
import { createCluster } from '../create-cluster.js';
import { MemoryHub } from '../memory/hub.js';
import type { AdapterCapabilities, ClusterAdapter } from '../ports/adapter.js';
import type { AdapterEvent, AdapterObserver } from '../ports/observer.js';
import { CountingObserver } from './faults.js';
import { bytes, text, unique, waitFor } from './helpers.js';
import { TcpProxy } from './tcp-proxy.js';

type PortName = keyof AdapterCapabilities;
const PORTS: readonly PortName[] = ['bus', 'registry', 'sessions', 'history'];

/** The keys of every `ClusterAdapter`, sorted. */
export const CLUSTER_ADAPTER_KEYS: readonly string[] = ['bus', 'capabilities', 'close', 'connect', 'history', 'instrument', 'registry', 'sessions'];

export interface AdapterContractOptions<A extends ClusterAdapter = ClusterAdapter> {
  /** A new, unconnected adapter on the shared backend (a unique prefix per call is best). */
  create: () => A | Promise<A>;
  /** The ports this backend lacks (`undefined` on the adapter, false in `capabilities`). */
  lacks?: readonly PortName[];
  /** Keys a backend adds to the shape (e.g. `migrate`); every other key is the shape's. */
  extraKeys?: readonly string[];
  /**
   * Make one of the connected adapter's ports report `event` to its observer (a malformed
   * record, a dropped connection): proves `instrument()` reaches the ports.
   */
  provoke: (adapter: A) => Promise<void>;
  /** The event `provoke` causes. */
  event: AdapterEvent;
  /** Deadline for deliveries and the event, ms (default 15,000). */
  timeoutMs?: number;
}

/**
 * The contract every adapter factory result passes: the same keys whatever the backend, a
 * port it lacks stated in `capabilities`, `connect()`/`close()` (idempotent) over every port,
 * `instrument()` reaching the ports, and `createCluster({ adapter })` starting and stopping
 * the node through the adapter's own lifecycle.
 */
export function adapterContract<A extends ClusterAdapter>(name: string, options: AdapterContractOptions<A>): void {
  const timeout = options.timeoutMs ?? 15_000;
  const lacks = new Set(options.lacks ?? []);

  describe(`ClusterAdapter contract: ${name}`, () => {
    it('returns the ClusterAdapter shape, stating what the backend lacks', async () => {
      const adapter = await options.create();
      try {
        expect(Object.keys(adapter).sort()).toEqual([...CLUSTER_ADAPTER_KEYS, ...(options.extraKeys ?? [])].sort());
        for (const port of PORTS) {
          expect(adapter.capabilities[port], `capabilities.${port}`).toBe(!lacks.has(port));
          expect(adapter[port] === undefined, `${port} is undefined`).toBe(lacks.has(port));
        }
        for (const method of ['connect', 'close', 'instrument'] as const) expect(typeof adapter[method]).toBe('function');
      } finally {
        await adapter.close();
      }
    });

    it('connect() opens every port it has, close() releases them and can be called again', async () => {
      const adapter = await options.create();
      try {
        await adapter.connect();
        await adapter.connect();
        const { bus } = adapter;
        if (bus) {
          const topic = unique('room.adapter');
          const got: string[] = [];
          const sub = await bus.subscribe(topic, (payload) => got.push(text(payload)));
          await waitFor(async () => {
            await bus.publish(topic, bytes('hello'));
            return got.length > 0;
          }, timeout, 200);
          expect(got[0]).toBe('hello');
          await sub.unsubscribe();
        }
        if (adapter.history) expect((await adapter.history.append(unique('room.adapter'), bytes('kept'))).offset).toBeGreaterThan(0);
        if (adapter.registry) await adapter.registry.list();
        if (adapter.sessions) await adapter.sessions.get(unique('session'));
      } finally {
        await adapter.close();
        await adapter.close();
      }
      if (adapter.bus) expect(adapter.bus.status).toBe('closed');
    });

    it('instrument() hands the observer to the ports', async () => {
      const adapter = await options.create();
      const counts = new CountingObserver();
      adapter.instrument(counts);
      try {
        await adapter.connect();
        await options.provoke(adapter);
        await waitFor(() => counts.get(options.event) > 0, timeout, 50);
      } finally {
        await adapter.close();
      }
    });

    it('createCluster({ adapter }) takes it whole: the node starts and stops through its lifecycle', async () => {
      const adapter = await options.create();
      const calls: string[] = [];
      const observers: AdapterObserver[] = [];
      const spied: ClusterAdapter = {
        bus: adapter.bus,
        registry: adapter.registry,
        sessions: adapter.sessions,
        history: adapter.history,
        capabilities: adapter.capabilities,
        connect: () => (calls.push('connect'), adapter.connect()),
        close: () => (calls.push('close'), adapter.close()),
        instrument: (o) => (calls.push('instrument'), observers.push(o), adapter.instrument(o)),
      };
      const node = createCluster({ adapter: spied, hub: new MemoryHub(), heartbeatIntervalMs: 200, nodeTimeoutMs: 2000, logLevel: 'silent' });
      try {
        await node.start();
        for (const port of PORTS) if (!lacks.has(port)) expect(node[port], port).toBe(adapter[port]);
        expect(calls).toEqual(['instrument', 'connect']);
        expect(observers[0]).toBe(node.metrics.observer);
        expect(node.phase).toBe('running');
        expect(node.health().registry).toBe(true);
      } finally {
        await node.stop();
        await adapter.close();
      }
      expect(calls).toEqual(['instrument', 'connect', 'close']);
    });
  });
}

/**
 * The `create`/`event`/`provoke` of {@link adapterContract} for a backend reached over TCP: each
 * adapter dials `target` through a {@link TcpProxy} of its own (`make` gets the proxy's port),
 * and `provoke` cuts that proxy's connections until the bus notices, then lets them through
 * again (the ports report `disconnect`). `close()` ends the proxies; call it after the adapters.
 */
export function throughProxy<A extends ClusterAdapter>(
  target: { host: string; port: number },
  make: (port: number) => A,
): Pick<AdapterContractOptions<A>, 'create' | 'event' | 'provoke'> & { close(): Promise<void> } {
  const proxies = new Map<A, TcpProxy>();
  return {
    create: async () => {
      const proxy = await TcpProxy.start({ target });
      const adapter = make(proxy.port);
      proxies.set(adapter, proxy);
      return adapter;
    },
    event: 'disconnect',
    provoke: async (adapter) => {
      const proxy = proxies.get(adapter) as TcpProxy;
      proxy.reset();
      await waitFor(() => adapter.bus?.status !== 'connected', 15_000);
      proxy.pass();
    },
    close: async () => {
      await Promise.all([...proxies.values()].map((p) => p.close()));
    },
  };
}
