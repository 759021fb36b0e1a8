import type { NodeInfo } from '../model/node.js';
import type { Unsubscribe } from '../ports/lifecycle.js';
import type { Lease, NodeRegistry, RegistryEvent } from '../ports/registry.js';
import { Guard } from './guard.js';
import { getDefaultHub, type MemoryHub } from './hub.js';

const clone = <T>(v: T): T => structuredClone(v);

/** In-process registry with TTLs judged on read and leases with fencing tokens. */
export class MemoryRegistry implements NodeRegistry {
  readonly name = 'memory';
  private readonly hub: MemoryHub;
  private readonly guard = new Guard('memory registry');
  private readonly watchers = new Set<(e: RegistryEvent) => void>();

  constructor(options: { hub?: MemoryHub } = {}) {
    this.hub = options.hub ?? getDefaultHub();
  }

  async connect(): Promise<void> {
    this.guard.check();
  }

  async close(): Promise<void> {
    if (this.guard.closed) return;
    this.guard.closed = true;
    for (const w of this.watchers) this.hub.registryWatchers.delete(w);
    this.watchers.clear();
  }

  async register(node: NodeInfo, ttlMs: number): Promise<void> {
    this.guard.check();
    this.hub.sweepNodes();
    const existed = this.hub.nodes.has(node.id);
    this.hub.nodes.set(node.id, { value: clone(node), expiresAt: Date.now() + ttlMs });
    this.hub.emitRegistry({ type: existed ? 'updated' : 'joined', node: clone(node) });
  }

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    await this.register(node, ttlMs);
  }

  async deregister(nodeId: string): Promise<void> {
    this.guard.check();
    if (this.hub.nodes.delete(nodeId)) this.hub.emitRegistry({ type: 'left', nodeId, reason: 'shutdown' });
  }

  async list(): Promise<NodeInfo[]> {
    this.guard.check();
    this.hub.sweepNodes();
    return [...this.hub.nodes.values()].map((r) => clone(r.value));
  }

  async get(nodeId: string): Promise<NodeInfo | null> {
    this.guard.check();
    this.hub.sweepNodes();
    const r = this.hub.nodes.get(nodeId);
    return r ? clone(r.value) : null;
  }

  watch(listener: (event: RegistryEvent) => void): Unsubscribe {
    this.guard.check();
    const w = (e: RegistryEvent) => {
      if (!this.guard.closed) listener(e);
    };
    this.watchers.add(w);
    this.hub.registryWatchers.add(w);
    return () => {
      this.watchers.delete(w);
      this.hub.registryWatchers.delete(w);
    };
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    this.guard.check();
    const now = Date.now();
    const cur = this.hub.leases.get(name);
    if (cur && cur.expiresAt > now && cur.holder !== holder) return null;
    if (cur && cur.expiresAt > now && cur.holder === holder) {
      cur.expiresAt = now + ttlMs;
      return { name, holder, token: cur.token, expiresAt: cur.expiresAt };
    }
    const token = (this.hub.leaseTokens.get(name) ?? 0) + 1;
    this.hub.leaseTokens.set(name, token);
    const lease = { holder, token, expiresAt: now + ttlMs };
    this.hub.leases.set(name, lease);
    return { name, ...lease };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease | null> {
    this.guard.check();
    const cur = this.hub.leases.get(lease.name);
    const now = Date.now();
    if (!cur || cur.holder !== lease.holder || cur.token !== lease.token || cur.expiresAt <= now) return null;
    cur.expiresAt = now + ttlMs;
    return { ...lease, expiresAt: cur.expiresAt };
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.guard.check();
    const cur = this.hub.leases.get(lease.name);
    if (cur && cur.holder === lease.holder && cur.token === lease.token) this.hub.leases.delete(lease.name);
  }
}
