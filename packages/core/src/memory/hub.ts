import type { NodeInfo } from '../model/node.js';
import type { SessionRecord } from '../model/session.js';
import type { HistoryEntry } from '../ports/history.js';
import type { RegistryEvent } from '../ports/registry.js';

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/**
 * The shared state behind the in-memory adapters. One hub is one "backend": every bus,
 * registry, session store and history created on the same hub sees the same data, so several
 * cluster nodes can run in one process. `setOnline(false)` simulates losing the backend.
 */
export class MemoryHub {
  readonly topics = new Map<string, Set<(payload: Uint8Array, topic: string) => void>>();
  readonly nodes = new Map<string, Expiring<NodeInfo>>();
  readonly leases = new Map<string, { holder: string; token: number; expiresAt: number }>();
  readonly leaseTokens = new Map<string, number>();
  readonly registryWatchers = new Set<(e: RegistryEvent) => void>();
  readonly sessions = new Map<string, Expiring<SessionRecord>>();
  readonly affinity = new Map<string, Expiring<string>>();
  readonly streams = new Map<string, { epoch: string; entries: HistoryEntry[]; next: number; trimmedUpTo: number }>();
  private readonly onlineListeners = new Set<(online: boolean) => void>();
  private _online = true;

  get online(): boolean {
    return this._online;
  }

  /** Simulate the backend going away (false) and coming back (true). */
  setOnline(online: boolean): void {
    if (online === this._online) return;
    this._online = online;
    for (const l of [...this.onlineListeners]) l(online);
  }

  onOnlineChange(listener: (online: boolean) => void): () => void {
    this.onlineListeners.add(listener);
    return () => this.onlineListeners.delete(listener);
  }

  emitRegistry(event: RegistryEvent): void {
    for (const w of [...this.registryWatchers]) queueMicrotask(() => w(event));
  }

  /** Drop expired node records, telling watchers they left on timeout. */
  sweepNodes(now = Date.now()): void {
    for (const [id, rec] of this.nodes) {
      if (rec.expiresAt <= now) {
        this.nodes.delete(id);
        this.emitRegistry({ type: 'left', nodeId: id, reason: 'timeout' });
      }
    }
  }
}

/** The hub used when none is given: one per process, like an embedded server. */
let defaultHub: MemoryHub | undefined;
export const getDefaultHub = (): MemoryHub => (defaultHub ??= new MemoryHub());
