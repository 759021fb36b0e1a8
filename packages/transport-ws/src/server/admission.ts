import type { ServerConnection } from './connection.js';

/**
 * How many clients a node takes on at once. A crowd arriving together (a node died and all its
 * clients land here) would otherwise be accepted in a few long event-loop turns, and its hellos
 * would pile thousands of session and history requests on the backend's connection: the node's
 * own heartbeat would wait behind both, and a node that cannot heartbeat in time fences itself
 * (closing every client it has), which turns one node's death into two. So upgrades are taken
 * in arrival order, at most `perTurn` per turn (the timers and I/O of the cluster run in
 * between) and at most `inFlight` at a time from the upgrade to the welcome (or the close);
 * the rest wait their turn.
 */
export class Admission {
  private readonly queue: Array<(done: () => void) => void> = [];
  private head = 0;
  private taken = 0;
  private active = 0;
  private immediate: ReturnType<typeof setImmediate> | undefined;

  constructor(
    private readonly perTurn: number,
    private readonly inFlight: number,
  ) {}

  /** Upgrades waiting for their turn. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Clients between their upgrade and their welcome (or close). */
  get busy(): number {
    return this.active;
  }

  /** Run `take` now or in a later turn; it calls `done` once the client is welcomed or gone. */
  admit(take: (done: () => void) => void): void {
    if (this.immediate === undefined) this.taken = 0; // a check phase passed since the last upgrade: a new turn
    if (this.waiting === 0 && this.free()) return this.start(take);
    this.queue.push(take);
    if (this.active < this.inFlight) this.arm();
  }

  private free(): boolean {
    return this.taken < this.perTurn && this.active < this.inFlight;
  }

  private start(take: (done: () => void) => void): void {
    this.taken++;
    this.active++;
    this.arm();
    let finished = false;
    take(() => {
      if (finished) return;
      finished = true;
      this.active--;
      if (this.waiting > 0) this.arm();
    });
  }

  private arm(): void {
    this.immediate ??= setImmediate(this.nextTurn);
  }

  /** In the check phase: a new turn's share; what is left waits for a later turn or a finished hello. */
  private readonly nextTurn = (): void => {
    this.immediate = undefined;
    this.taken = 0;
    while (this.head < this.queue.length && this.free()) {
      const take = this.queue[this.head] as (done: () => void) => void;
      this.queue[this.head++] = noop;
      this.start(take);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
  };
}

const noop = (): void => undefined;

const pending = new WeakMap<ServerConnection, () => void>();

/** The connection's hello is under way: `done` runs when it ends ({@link helloDone}, or the socket's close). */
export function trackHello(conn: ServerConnection, done: () => void): void {
  pending.set(conn, done);
}

/** The connection was welcomed (or refused): its admission slot is free. */
export function helloDone(conn: ServerConnection): void {
  const done = pending.get(conn);
  if (!done) return;
  pending.delete(conn);
  done();
}
