import type { Instrumentable } from './observer.js';

/**
 * Every adapter follows the same lifecycle: creating one does no I/O and starts no timer,
 * `connect()` opens what it needs, `close()` releases it. `close()` is idempotent, and a
 * client the caller passed in is never closed by the adapter.
 */
export interface Lifecycle extends Instrumentable {
  /** Open connections. Calling it again while connected is a no-op. */
  connect(): Promise<void>;
  /** Release everything this instance opened. Safe to call many times. */
  close(): Promise<void>;
}

export type ConnectionStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Removes a listener. */
export type Unsubscribe = () => void;
