import type { ClusterAdapter } from '../ports/adapter.js';
import { composeAdapter } from '../ports/compose-adapter.js';
import { MemoryBus } from './bus.js';
import { MemoryHistory } from './history.js';
import { getDefaultHub, type MemoryHub } from './hub.js';
import { MemoryRegistry } from './registry.js';
import { MemorySessionStore } from './sessions.js';

/** Options of `createMemoryAdapter`, in the words every adapter uses. */
export interface MemoryAdapterOptions {
  /** The in-process backend the nodes share (default: one per process). Nodes on one hub form a cluster. */
  hub?: MemoryHub;
  /** Publishes kept while the hub is offline (default 10,000); past it publish rejects with BUFFER_FULL. */
  publishBufferSize?: number;
  /** Largest payload in bytes (default 16 MiB). */
  maxPayloadBytes?: number;
  /** Room history retention and read page size. */
  history?: {
    /** Keep at most this many entries per room (default 1000). */
    maxLength?: number;
    /** Drop entries older than this, milliseconds (default 0: kept regardless of age). */
    maxAgeMs?: number;
    /** Default and largest page size of a read (default 1000). */
    readLimit?: number;
  };
}

/** What `createMemoryAdapter` returns: every port, in this process. */
export type MemoryAdapter = ClusterAdapter<MemoryBus, MemoryRegistry, MemorySessionStore, MemoryHistory>;

/**
 * Every port in memory on one hub: the embedded backend for one process (tests, a demo, a
 * single-process deployment). Does no I/O. `createCluster()` without ports uses the same
 * backend; this factory is for passing it whole, like any other adapter.
 */
export function createMemoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  const hub = options.hub ?? getDefaultHub();
  const bus = new MemoryBus({ hub, bufferSize: options.publishBufferSize, maxPayloadBytes: options.maxPayloadBytes });
  const registry = new MemoryRegistry({ hub });
  const sessions = new MemorySessionStore({ hub });
  const history = new MemoryHistory({ hub, ...options.history });
  return composeAdapter({ bus, registry, sessions, history });
}
