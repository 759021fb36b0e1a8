import type { ConnectionStatus } from '../ports/lifecycle.js';

/** Why a node fenced itself. */
export type FenceReason = 'registry' | 'bus' | 'declared_dead';

export interface LivenessOptions {
  /** No successful heartbeat for this long (counted from when the last good one was sent): fence. */
  fenceAfterMs: number;
  /** Fence too when the bus has not been connected for `fenceAfterMs`. */
  fenceOnBusLoss: boolean;
  /** The node timeout: how long the others wait before they declare a silent node dead. */
  nodeTimeoutMs: number;
  onFence(reason: FenceReason): void;
  onUnfence(): void;
  /** The registry link changed: down at the first failed call, up at the next successful heartbeat (once per change). */
  onRegistryLink?(up: boolean, downForMs: number): void;
}

/**
 * A node's view of its own links, and the rule that keeps two nodes from serving one session:
 * a node that cannot renew its liveness stops serving before the others may take over.
 *
 * The others declare this node dead once its registry record has been stale for the node
 * timeout. The record was last refreshed no earlier than the moment the last successful
 * heartbeat was sent, so this node fences itself `fenceAfterMs` (less than the node timeout)
 * after that moment, by a timer of its own that no hanging call can hold back. It also fences
 * when the coordinator announces it dead, and (by default) when the bus stays down. It lifts
 * the fence once a heartbeat succeeds again and the bus is connected.
 *
 * It also says when this node may judge others: not while its own registry link is failing, and
 * not until it has seen the registry answer for a whole node timeout since its last failure
 * (everyone had time to heartbeat again after an outage).
 */
export class Liveness {
  private fenceTimer: ReturnType<typeof setTimeout> | undefined;
  private busTimer: ReturnType<typeof setTimeout> | undefined;
  private _fenced: FenceReason | null = null;
  private registryUp = true;
  private lastFailureAt = -Infinity;
  private lastFenceAt = -Infinity;
  private lastOkSentAt = -Infinity;
  private downSince = 0;
  private busUp = true;
  private stopped = false;

  constructor(private readonly options: LivenessOptions) {}

  /** The reason this node is fenced, or null while it serves. */
  get fenced(): FenceReason | null {
    return this._fenced;
  }

  /** The last registry call succeeded. */
  get registryHealthy(): boolean {
    return this.registryUp;
  }

  /** Start counting from a registration that just succeeded (sent at `sentAt`). */
  start(sentAt: number, bus: ConnectionStatus): void {
    this.heartbeatSucceeded(sentAt);
    this.busChanged(bus);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.fenceTimer);
    clearTimeout(this.busTimer);
  }

  /** A heartbeat sent at `sentAt` (performance.now()) was accepted. */
  heartbeatSucceeded(sentAt: number): void {
    if (this.stopped) return;
    if (!this.registryUp) this.options.onRegistryLink?.(true, performance.now() - this.downSince);
    this.registryUp = true;
    this.lastOkSentAt = Math.max(this.lastOkSentAt, sentAt);
    this.armFence();
    this.maybeUnfence();
  }

  /**
   * Fence `fenceAfterMs` after the last good heartbeat was sent. The decision is taken in the
   * check phase of the event loop (setImmediate), after the I/O of that turn: when the loop was
   * stalled (a burst of work), a heartbeat answer that arrived meanwhile is read first, and
   * counts, rather than the node fencing itself on a timer that merely ran late.
   */
  private armFence(): void {
    clearTimeout(this.fenceTimer);
    const wait = this.lastOkSentAt + this.options.fenceAfterMs - performance.now();
    this.fenceTimer = setTimeout(
      () =>
        setImmediate(() => {
          if (this.stopped) return;
          if (performance.now() - this.lastOkSentAt >= this.options.fenceAfterMs) this.fence('registry');
          else this.armFence();
        }),
      Math.max(0, wait),
    );
  }

  /** A registry call failed or did not answer in time. */
  registryFailed(): void {
    if (this.registryUp && !this.stopped) {
      this.downSince = performance.now();
      this.options.onRegistryLink?.(false, 0);
    }
    this.registryUp = false;
    this.lastFailureAt = performance.now();
  }

  /** The coordinator announced this node dead: its sessions belong to others now. */
  declaredDead(): void {
    this.fence('declared_dead');
  }

  busChanged(status: ConnectionStatus): void {
    if (this.stopped) return;
    const up = status === 'connected';
    if (up === this.busUp) return;
    this.busUp = up;
    clearTimeout(this.busTimer);
    this.busTimer = undefined;
    if (up) this.maybeUnfence();
    else if (this.options.fenceOnBusLoss) this.busTimer = setTimeout(() => this.fence('bus'), this.options.fenceAfterMs);
  }

  /**
   * Whether this node may declare others dead now: its registry link works, it has not failed
   * for a whole node timeout, and the registry's listing holds this node's own record (a
   * listing without it comes from a registry that lost its data, or from a node that was away).
   */
  mayJudge(listedSelf: boolean): boolean {
    return this.registryUp && listedSelf && performance.now() - this.lastFailureAt >= this.options.nodeTimeoutMs;
  }

  private fence(reason: FenceReason): void {
    if (this.stopped) return;
    this.lastFenceAt = performance.now();
    if (reason === 'registry') {
      if (this.registryUp) {
        this.downSince = performance.now();
        this.options.onRegistryLink?.(false, 0);
      }
      this.registryUp = false;
    }
    if (this._fenced) return;
    this._fenced = reason;
    this.options.onFence(reason);
  }

  /** Lift the fence once a heartbeat sent after it succeeded (the registry knows we are alive) and the bus is up. */
  private maybeUnfence(): void {
    if (!this._fenced || !this.registryUp || this.lastOkSentAt <= this.lastFenceAt) return;
    if (this.options.fenceOnBusLoss && !this.busUp) return;
    this._fenced = null;
    this.options.onUnfence();
  }
}
