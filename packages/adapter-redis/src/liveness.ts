import { withDeadline } from './deadline.js';
import type { RedisClient } from './options.js';

/** How one connection is probed. */
export interface LivenessOptions {
  /** Time between probes, ms; 0 turns the check off. */
  intervalMs: number;
  /** How long a PING may go unanswered, ms. */
  timeoutMs: number;
  /** Called once per unanswered probe, before the client is made to reconnect. */
  onSilent: (reason: string) => void;
}

/**
 * Detects a silent peer on one connection. Every `intervalMs`, while the client is ready, it
 * sends a PING (valid in subscriber mode too) that must answer within `timeoutMs`. No answer:
 * `onSilent`, then `client.disconnect(true)`, so ioredis drops the dead socket and reconnects,
 * and the owner's `ready` handler restores what it had (subscriptions, buffered publishes).
 * A client that is not ready is left alone: ioredis is already reconnecting it, and its
 * handshake is bounded by `commandTimeout`. Starts no timer before `start()`.
 */
export class LivenessCheck {
  private timer: ReturnType<typeof setInterval> | undefined;
  private probing = false;
  private stopped = false;

  constructor(
    private readonly client: RedisClient,
    private readonly options: LivenessOptions,
  ) {}

  start(): void {
    if (this.timer || this.stopped || this.options.intervalMs === 0) return;
    this.timer = setInterval(() => void this.probe(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stop probing for good (idempotent). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async probe(): Promise<void> {
    if (this.probing || this.stopped || this.client.status !== 'ready') return;
    this.probing = true;
    let silent: string | undefined;
    try {
      await withDeadline(this.client.ping(), this.options.timeoutMs, 'liveness PING');
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      // Only silence counts: a closed connection is already being reconnected by ioredis.
      if (/no answer|timed? ?out/i.test(message)) silent = message;
    } finally {
      this.probing = false;
    }
    if (silent === undefined || this.stopped || this.client.status !== 'ready') return;
    this.options.onSilent(silent);
    this.client.disconnect(true);
  }
}
