import type { Logger } from '@switchyard/core';
import { StorageType } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';
import type { NatsConnector } from './connection.js';
import { isWrongLastSequence, natsError } from './errors.js';

/**
 * Records with a TTL in a JetStream KV bucket. NATS 2.9 has no per-key TTL, so each value
 * carries its own `ttlMs` and expires at the server's write timestamp + TTL; the bucket's
 * `max_age` is only a backstop.
 */

/** A bucket's storage option as JetStream's enum. */
export const storageType = (storage: 'file' | 'memory'): StorageType => (storage === 'file' ? StorageType.File : StorageType.Memory);

/** Create (if missing) and open a bucket of TTL records, keeping one revision per key. */
export function openRecordBucket(
  connector: NatsConnector,
  c: { bucket: string; maxAgeMs: number; storage: 'file' | 'memory'; replicas: number },
): Promise<KV> {
  return connector.bucket(c.bucket, { history: 1, ttl: c.maxAgeMs, storage: storageType(c.storage), replicas: c.replicas });
}

/** JSON bytes of a stored value. */
export const encode = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

/** Expiry is judged against the server's write timestamp, so writers' clocks do not matter. */
export const expired = (e: KvEntry, ttlMs: number): boolean => e.created.getTime() + ttlMs <= Date.now();

/** Purge a key unless someone rewrote it since `e` was read (compare-and-set on the revision). */
export async function purgeIfUnchanged(kv: KV, e: KvEntry, log: Logger): Promise<void> {
  await kv.purge(e.key, { previousSeq: e.revision }).catch((err: unknown) => {
    if (!isWrongLastSequence(err)) log.debug({ err, key: e.key }, 'purging an expired or stale key failed');
  });
}

/** The value at `key` and its entry while its TTL lasts; a deleted one reads as null, an expired one too (and is purged). */
export async function readLive<T extends { ttlMs: number }>(kv: KV, key: string, log: Logger): Promise<{ value: T; entry: KvEntry } | null> {
  const entry = await kv.get(key);
  if (!entry || entry.operation !== 'PUT') return null;
  const value = entry.json<T>();
  if (!expired(entry, value.ttlMs)) return { value, entry };
  await purgeIfUnchanged(kv, entry, log);
  return null;
}

/** A TTL must be positive and at most the bucket's `max_age` (`<section>.maxAgeMs`, 0 for none): CONFIG_INVALID otherwise. */
export function checkTtl(ttlMs: number, what: string, section: string, maxAgeMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw natsError('CONFIG_INVALID', `${what} TTL must be a positive number of ms, got ${ttlMs}`);
  if (maxAgeMs > 0 && ttlMs > maxAgeMs) {
    throw natsError('CONFIG_INVALID', `${what} TTL of ${ttlMs} ms exceeds ${section}.maxAgeMs (${maxAgeMs} ms), the bucket's max_age: raise ${section}.maxAgeMs`);
  }
}
