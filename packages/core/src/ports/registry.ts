import type { NodeInfo, NodeLoad, NodeState } from '../model/node.js';
import type { Lifecycle, Unsubscribe } from './lifecycle.js';

export type LeftReason = 'shutdown' | 'timeout';

export type RegistryEvent =
  | { type: 'joined'; node: NodeInfo }
  | { type: 'updated'; node: NodeInfo }
  | { type: 'left'; nodeId: string; reason: LeftReason };

/** Exclusive right to coordinate, held until it expires or is released. */
export interface Lease {
  name: string;
  holder: string;
  /**
   * Fencing token: strictly greater every time the lease changes hands (or is taken again
   * after it lapsed). Work done under a lease carries its token so stale holders are refused.
   */
  token: number;
  /** Milliseconds since epoch, by the clock of whoever judges expiry (the backend). */
  expiresAt: number;
}

/**
 * Who is in the cluster. Each node registers itself with a TTL and refreshes it with every
 * heartbeat; a record whose TTL ran out is gone from `list()`. Core's membership compares
 * successive lists (and the `watch` events, which only make it faster) to tell joins, updates,
 * departures and deaths apart, so a backend needs no failure detector of its own.
 */
export interface NodeRegistry extends Lifecycle {
  readonly name: string;
  /** Add or replace this node's record, alive for `ttlMs`. */
  register(node: NodeInfo, ttlMs: number): Promise<void>;
  /** Refresh the record's TTL and update its load and state. Re-registers when the record had expired. */
  heartbeat(node: NodeInfo, ttlMs: number): Promise<void>;
  /** Remove the record now (a clean shutdown). */
  deregister(nodeId: string): Promise<void>;
  /** Every node whose record has not expired. */
  list(): Promise<NodeInfo[]>;
  get(nodeId: string): Promise<NodeInfo | null>;
  /** Join/update/leave notices, best effort; `list()` stays the truth. */
  watch(listener: (event: RegistryEvent) => void): Unsubscribe;

  /** Take the named lease for `ttlMs` if free or already ours (then it is renewed, same token). Null when another holds it. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null>;
  /** Extend a lease we hold. Null when it was lost (expired and taken, or released). */
  renewLease(lease: Lease, ttlMs: number): Promise<Lease | null>;
  /** Give the lease up if we still hold it. */
  releaseLease(lease: Lease): Promise<void>;
}

export type NodePatch = Partial<{ load: NodeLoad; state: NodeState }>;
