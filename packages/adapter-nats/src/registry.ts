import type { Lease, NodeInfo, NodeRegistry, RegistryEvent, Unsubscribe } from '@switchyard/core';
import { KvWatchInclude, type KV, type KvEntry } from '@nats-io/kv';
import { bucketKeys, type NatsConnector } from './connection.js';
import { isWrongLastSequence } from './errors.js';
import { checkTtl, encode, expired, openRecordBucket, readLive } from './kv-records.js';
import type { NatsAdapterConfig, NatsAdapterOptions } from './options.js';
import { NatsPort } from './base.js';
import { Keys, decodeToken } from './names.js';

/** A node record as stored: the node, its TTL, and whether this write joined or updated. */
interface NodeValue {
  node: NodeInfo;
  ttlMs: number;
  kind: 'joined' | 'updated';
}

/** A lease as stored. `token` is absent on the write that took the lease: that write's revision is the token. */
interface LeaseValue {
  holder: string;
  ttlMs: number;
  token?: number;
}

/** Times a lease operation re-reads after losing a compare-and-set race. */
const LEASE_ATTEMPTS = 5;

/**
 * The node registry on a JetStream KV bucket. NATS 2.9 has no per-key TTL (it came in 2.11),
 * so every record carries its TTL and expires at the server's write timestamp + TTL: `list()`
 * and `get()` hide expired records and purge them (a compare-and-set on the revision, so a
 * fresh heartbeat is never purged), which watchers see as `left` with reason `timeout`. The
 * bucket's `max_age` is a backstop that drops records nobody refreshed or listed.
 *
 * Leases use KV compare-and-set (`create`, `update` with the expected revision). The fencing
 * token is the revision of the write that took the lease; renewals carry it unchanged. KV
 * revisions are the bucket stream's sequence, which only grows (purges and `max_age` never
 * rewind it), so a token taken later is always greater. Deleting the bucket resets it: do not
 * delete a bucket while leases are in use.
 */
export class NatsRegistry extends NatsPort<KV> implements NodeRegistry {
  private readonly watchers = new Set<{ stop(): void }>();

  /** Pass options, or share a connector with the other ports (see `createNatsAdapter`). No I/O happens here. */
  constructor(options: NatsAdapterOptions | NatsAdapterConfig, connector?: NatsConnector) {
    super(options, connector, { port: 'registry', label: 'nats registry', scope: 'registry' });
  }

  protected override open(): Promise<KV> {
    return openRecordBucket(this.connector, this.config.registry);
  }

  protected override teardown(): void {
    for (const w of this.watchers) w.stop();
    this.watchers.clear();
  }

  async register(node: NodeInfo, ttlMs: number): Promise<void> {
    const kv = this.ready();
    this.checkTtl(ttlMs, 'node');
    return this.run('register', async () => {
      const key = Keys.node(node.id);
      const cur = await kv.get(key);
      const live = cur !== null && cur.operation === 'PUT' && !expired(cur, cur.json<NodeValue>().ttlMs);
      const value: NodeValue = { node, ttlMs, kind: live ? 'updated' : 'joined' };
      await kv.put(key, encode(value));
    });
  }

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    return this.register(node, ttlMs);
  }

  async deregister(nodeId: string): Promise<void> {
    const kv = this.ready();
    return this.run('deregister', async () => {
      const key = Keys.node(nodeId);
      const cur = await kv.get(key);
      if (!cur || cur.operation !== 'PUT') return;
      await kv.delete(key);
    });
  }

  async list(): Promise<NodeInfo[]> {
    const kv = this.ready();
    return this.run('list', async () => {
      const keys = await bucketKeys(await this.connector.jsm(), this.config.registry.bucket, Keys.nodes);
      const nodes = await Promise.all(keys.map((k) => this.read(kv, k)));
      return nodes.filter((n): n is NodeInfo => n !== null);
    });
  }

  async get(nodeId: string): Promise<NodeInfo | null> {
    const kv = this.ready();
    return this.run('get', () => this.read(kv, Keys.node(nodeId)));
  }

  /**
   * Report joins, updates and departures as they are written. The KV watch behind it is restarted
   * when it fails or ends while still wanted (a request that timed out while the server was silent,
   * a consumer lost in a reconnect), resuming after the last revision it reported, so a watcher
   * outlives any outage; each restart counts `resubscribe`, each failure `error`.
   */
  watch(listener: (event: RegistryEvent) => void): Unsubscribe {
    const kv = this.ready();
    let stopped = false;
    let iter: { stop(): void } | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    /** Revision of the next entry wanted; 0 until one was seen (then only new writes are asked for). */
    let next = 0;
    let starts = 0;
    const handle = {
      stop: () => {
        stopped = true;
        clearTimeout(retry);
        iter?.stop();
      },
    };
    this.watchers.add(handle);
    // Ids of hashed (very long) node names cannot be decoded from the key: remember them from PUTs.
    const ids = new Map<string, string>();
    const run = async () => {
      const it = await kv.watch({ key: Keys.nodes, include: KvWatchInclude.UpdatesOnly, ...(next > 0 ? { resumeFromRevision: next } : {}) });
      iter = it;
      if (stopped) return it.stop();
      if (starts++ > 0) this.count('resubscribe');
      for await (const e of it) {
        next = e.revision + 1;
        const event = this.toEvent(e, ids);
        if (!event || stopped || this.closed) continue;
        try {
          listener(event);
        } catch (err) {
          this.log.warn({ err }, 'registry watch listener threw');
        }
      }
    };
    const start = () => {
      run().then(
        () => again(undefined),
        (err: unknown) => again(err),
      );
    };
    const again = (err: unknown) => {
      if (stopped || this.closed) return;
      if (err !== undefined) {
        this.count('error');
        this.log.warn({ err }, 'registry watch failed; restarting it');
      } else {
        this.log.warn({}, 'registry watch ended; restarting it');
      }
      retry = setTimeout(start, this.config.reconnectTimeWaitMs);
      retry.unref();
    };
    start();
    return () => {
      handle.stop();
      this.watchers.delete(handle);
    };
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const kv = this.ready();
    this.checkTtl(ttlMs, 'lease');
    return this.run('acquireLease', async () => {
      const key = Keys.lease(name);
      for (let attempt = 0; attempt < LEASE_ATTEMPTS; attempt++) {
        const cur = await kv.get(key);
        try {
          if (!cur || cur.operation !== 'PUT') {
            const rev = await kv.create(key, encode({ holder, ttlMs } satisfies LeaseValue));
            return { name, holder, token: rev, expiresAt: Date.now() + ttlMs };
          }
          const v = cur.json<LeaseValue>();
          const live = !expired(cur, v.ttlMs);
          if (live && v.holder !== holder) return null;
          if (live) {
            const token = v.token ?? cur.revision;
            await kv.update(key, encode({ holder, ttlMs, token } satisfies LeaseValue), cur.revision);
            return { name, holder, token, expiresAt: Date.now() + ttlMs };
          }
          // Lapsed: take it over; this write's revision is the new, greater token.
          const rev = await kv.update(key, encode({ holder, ttlMs } satisfies LeaseValue), cur.revision);
          return { name, holder, token: rev, expiresAt: Date.now() + ttlMs };
        } catch (err) {
          if (!isWrongLastSequence(err)) throw err;
          // Someone wrote between our read and our write: read again and decide again.
        }
      }
      return null;
    });
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease | null> {
    const kv = this.ready();
    this.checkTtl(ttlMs, 'lease');
    return this.run('renewLease', async () => {
      const key = Keys.lease(lease.name);
      const cur = await kv.get(key);
      if (!cur || cur.operation !== 'PUT') return null;
      const v = cur.json<LeaseValue>();
      if (v.holder !== lease.holder || (v.token ?? cur.revision) !== lease.token || expired(cur, v.ttlMs)) return null;
      try {
        await kv.update(key, encode({ holder: lease.holder, ttlMs, token: lease.token } satisfies LeaseValue), cur.revision);
      } catch (err) {
        if (isWrongLastSequence(err)) return null;
        throw err;
      }
      return { ...lease, expiresAt: Date.now() + ttlMs };
    });
  }

  async releaseLease(lease: Lease): Promise<void> {
    const kv = this.ready();
    return this.run('releaseLease', async () => {
      const key = Keys.lease(lease.name);
      const cur = await kv.get(key);
      if (!cur || cur.operation !== 'PUT') return;
      const v = cur.json<LeaseValue>();
      if (v.holder !== lease.holder || (v.token ?? cur.revision) !== lease.token) return;
      await kv.delete(key, { previousSeq: cur.revision }).catch((err: unknown) => {
        if (!isWrongLastSequence(err)) throw err;
      });
    });
  }

  /** Read one node record; an expired one reads as null and is purged (only if nobody refreshed it meanwhile). */
  private async read(kv: KV, key: string): Promise<NodeInfo | null> {
    return (await readLive<NodeValue>(kv, key, this.log))?.value.node ?? null;
  }

  private toEvent(e: KvEntry, ids: Map<string, string>): RegistryEvent | null {
    const token = e.key.slice(2);
    if (e.operation === 'PUT') {
      const v = e.json<NodeValue>();
      ids.set(token, v.node.id);
      return { type: v.kind, node: v.node };
    }
    const nodeId = ids.get(token) ?? decodeToken(token);
    ids.delete(token);
    if (nodeId === null) return null;
    return { type: 'left', nodeId, reason: e.operation === 'DEL' ? 'shutdown' : 'timeout' };
  }

  private checkTtl(ttlMs: number, what: string): void {
    checkTtl(ttlMs, what, 'registry', this.config.registry.maxAgeMs);
  }
}
