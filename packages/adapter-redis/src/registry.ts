import type { Lease, NodeInfo, NodeRegistry, RegistryEvent, Unsubscribe } from '@switchyard/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { RedisPort } from './base.js';
import { createClient, ensureReady, releaseClient, type ClientHandle } from './connection.js';
import { withDeadline } from './deadline.js';
import { SOURCE } from './errors.js';
import { KeySpace } from './names.js';
import type { LivenessCheck } from './liveness.js';
import type { RedisAdapterConfig, RedisAdapterOptions, RedisClient } from './options.js';
import { DEREGISTER, LEASE_ACQUIRE, LEASE_RELEASE, LEASE_RENEW, LIST_NODES, REGISTER } from './scripts.js';

/** A node record as other nodes publish it: checked before it reaches a watcher. */
const nodeSchema = z.looseObject({ id: z.string().min(1), url: z.string(), state: z.string(), load: z.looseObject({}) });
const noticeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('joined'), node: nodeSchema }),
  z.object({ type: z.literal('updated'), node: nodeSchema }),
  z.object({ type: z.literal('left'), nodeId: z.string().min(1), reason: z.enum(['shutdown', 'timeout']) }),
]);

/**
 * Node registry on Redis. Each record is a key with a PX TTL that `heartbeat` refreshes, listed
 * through a sorted set scored by expiry (expired ids are pruned on `list`). Joins, updates and
 * clean departures are published on `<prefix>registry`; an active `watch` also reconciles with
 * `list()` every `registryReconcileMs` to report timeouts and anything it missed. Leases are
 * `SET NX PX` with a fencing token from `INCR`; renew and release are compare-and-set in Lua.
 */
export class RedisRegistry extends RedisPort implements NodeRegistry {
  private readonly keys: KeySpace;
  private readonly watchers = new Set<(e: RegistryEvent) => void>();
  /** Node ids a watcher has been told about, for reconciliation. */
  private readonly known = new Set<string>();
  private sub: ClientHandle | undefined;
  private subDetach: (() => void) | undefined;
  private reconcileTimer: ReturnType<typeof setInterval> | undefined;
  private subEverReady = false;
  private subLiveness: LivenessCheck | undefined;

  constructor(options: RedisAdapterOptions | RedisAdapterConfig = {}) {
    super(options, 'redis registry');
    this.keys = new KeySpace(this.cfg.keyPrefix);
  }

  protected override async afterConnect(_client: RedisClient): Promise<void> {
    const handle = createClient(this.cfg, 'subscriber');
    const client = handle.client as Redis;
    const channel = this.keys.registryChannel;
    const onMessage = (ch: string, message: string) => {
      if (ch === channel) this.onNotice(message);
    };
    const onError = (err: Error) => {
      this.observer.count(SOURCE, 'error');
      this.log.debug({ err: err.message }, 'registry subscriber error');
    };
    const onReady = () => {
      if (!this.subEverReady || this.closed) return;
      // Our clients do not auto-resubscribe: do it, then catch up on what we missed.
      this.deadline(client.subscribe(channel), 'watcher subscribe').then(
        () => {
          this.observer.count(SOURCE, 'resubscribe');
          void this.reconcile();
        },
        (err: unknown) => onError(err as Error),
      );
    };
    client.on('message', onMessage);
    client.on('error', onError);
    client.on('ready', onReady);
    this.subDetach = () => {
      client.off('message', onMessage);
      client.off('error', onError);
      client.off('ready', onReady);
    };
    this.sub = handle;
    try {
      await ensureReady(client, this.cfg.connectTimeoutMs);
      await this.deadline(client.subscribe(channel), 'watcher subscribe');
      this.subEverReady = true;
      // A silent watcher connection is reconnected; `onReady` then subscribes and reconciles.
      this.subLiveness = this.watchLiveness(client, 'registry watcher');
    } catch (err) {
      await this.beforeClose();
      throw err;
    }
  }

  protected override async beforeClose(): Promise<void> {
    this.subLiveness?.stop();
    this.subLiveness = undefined;
    this.stopReconcile();
    this.watchers.clear();
    const sub = this.sub;
    this.sub = undefined;
    if (!sub) return;
    if (!sub.owned && sub.client.status === 'ready') {
      await this.deadline((sub.client as Redis).unsubscribe(this.keys.registryChannel), 'watcher unsubscribe').catch(() => undefined);
    }
    await releaseClient(sub);
    this.subDetach?.();
  }

  async register(node: NodeInfo, ttlMs: number): Promise<void> {
    const existed = await this.op('register', (c) =>
      REGISTER.run(c, [this.keys.node(node.id), this.keys.nodeIndex], [JSON.stringify(node), Math.max(1, Math.round(ttlMs)), node.id]),
    );
    await this.notify({ type: existed === 1 ? 'updated' : 'joined', node });
  }

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    await this.register(node, ttlMs);
  }

  async deregister(nodeId: string): Promise<void> {
    const n = await this.op('deregister', (c) => DEREGISTER.run(c, [this.keys.node(nodeId), this.keys.nodeIndex], [nodeId]));
    if (n === 1) await this.notify({ type: 'left', nodeId, reason: 'shutdown' });
  }

  async list(): Promise<NodeInfo[]> {
    return this.op('list', async (c) => {
      const ids = (await LIST_NODES.run(c, [this.keys.nodeIndex], [])) as string[];
      if (ids.length === 0) return [];
      const out: NodeInfo[] = [];
      // MGET in chunks; every key shares the {reg} slot.
      for (let i = 0; i < ids.length; i += 500) {
        const values = await c.mget(...ids.slice(i, i + 500).map((id) => this.keys.node(id)));
        for (const v of values) {
          const node = v === null ? null : this.parse(v);
          if (node) out.push(node);
        }
      }
      return out;
    });
  }

  async get(nodeId: string): Promise<NodeInfo | null> {
    return this.op('get', async (c) => {
      const v = await c.get(this.keys.node(nodeId));
      return v === null ? null : this.parse(v);
    });
  }

  watch(listener: (event: RegistryEvent) => void): Unsubscribe {
    this.check();
    const w = (e: RegistryEvent) => {
      if (!this.closed) listener(e);
    };
    this.watchers.add(w);
    this.startReconcile();
    return () => {
      this.watchers.delete(w);
      if (this.watchers.size === 0) this.stopReconcile();
    };
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const r = (await this.op('acquireLease', (c) =>
      LEASE_ACQUIRE.run(c, [this.keys.lease(name), this.keys.leaseFence(name)], [holder, Math.max(1, Math.round(ttlMs))]),
    )) as [number, number] | null;
    return r ? { name, holder, token: Number(r[0]), expiresAt: Number(r[1]) } : null;
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease | null> {
    const r = await this.op('renewLease', (c) =>
      LEASE_RENEW.run(c, [this.keys.lease(lease.name)], [`${lease.token}:${lease.holder}`, Math.max(1, Math.round(ttlMs))]),
    );
    return r === null ? null : { ...lease, expiresAt: Number(r) };
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.op('releaseLease', (c) => LEASE_RELEASE.run(c, [this.keys.lease(lease.name)], [`${lease.token}:${lease.holder}`]));
  }

  private async notify(event: RegistryEvent): Promise<void> {
    try {
      await this.deadline(this.client.publish(this.keys.registryChannel, JSON.stringify(event)), 'notice');
    } catch (err) {
      // Notices are best effort; list() stays the truth.
      this.observer.count(SOURCE, 'error');
      this.log.warn({ err: (err as Error).message }, 'registry notice not published');
    }
  }

  private deadline<T>(work: Promise<T>, what: string): Promise<T> {
    return withDeadline(work, this.cfg.commandTimeoutMs, `${this.what} ${what}`);
  }

  private parse(raw: string): NodeInfo | null {
    try {
      const v = nodeSchema.safeParse(JSON.parse(raw));
      if (v.success) return v.data as unknown as NodeInfo;
    } catch {
      // fall through
    }
    this.observer.count(SOURCE, 'malformed');
    return null;
  }

  private onNotice(message: string): void {
    if (this.closed || this.watchers.size === 0) return;
    let parsed;
    try {
      parsed = noticeSchema.safeParse(JSON.parse(message));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      this.observer.count(SOURCE, 'malformed');
      this.log.warn({}, 'malformed registry notice dropped');
      return;
    }
    const event = parsed.data as unknown as RegistryEvent;
    if (event.type === 'left') this.known.delete(event.nodeId);
    else this.known.add(event.node.id);
    this.emit(event);
  }

  private emit(event: RegistryEvent): void {
    for (const w of [...this.watchers]) {
      try {
        w(event);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'registry watcher threw');
      }
    }
  }

  private startReconcile(): void {
    if (this.reconcileTimer || this.cfg.registryReconcileMs === 0) return;
    this.reconcileTimer = setInterval(() => void this.reconcile(), this.cfg.registryReconcileMs);
    this.reconcileTimer.unref();
  }

  private stopReconcile(): void {
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.reconcileTimer = undefined;
  }

  /** Compare `list()` with what watchers were told: report new nodes and timed-out ones. */
  private async reconcile(): Promise<void> {
    if (this.closed || this.watchers.size === 0) return;
    let nodes: NodeInfo[];
    try {
      nodes = await this.list();
    } catch {
      return;
    }
    const live = new Set(nodes.map((n) => n.id));
    for (const n of nodes) {
      if (!this.known.has(n.id)) {
        this.known.add(n.id);
        this.emit({ type: 'joined', node: n });
      }
    }
    for (const id of [...this.known]) {
      if (!live.has(id)) {
        this.known.delete(id);
        this.emit({ type: 'left', nodeId: id, reason: 'timeout' });
      }
    }
  }
}
