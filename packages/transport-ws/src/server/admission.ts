/**
 * Upgrades taken per event-loop turn. A crowd of clients arriving at once (a node died and all
 * its clients land here) would otherwise be accepted in one long turn: nothing else runs
 * meanwhile, not the node's heartbeat timer either, and a node that cannot heartbeat in time
 * fences itself (closing every client it has), which turns one node's death into two. So at
 * most `perTurn` upgrades are taken per turn, in arrival order; the rest wait for the next
 * turns, with the timers and I/O of the cluster running in between.
 */
export class Admission {
  private readonly queue: Array<() => void> = [];
  private head = 0;
  private taken = 0;
  private immediate: ReturnType<typeof setImmediate> | undefined;

  constructor(private readonly perTurn: number) {}

  /** Upgrades waiting for a later turn. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  admit(take: () => void): void {
    if (this.immediate === undefined) this.taken = 0; // a check phase passed since the last upgrade: a new turn
    if (this.waiting === 0 && this.taken < this.perTurn) {
      this.taken++;
      this.arm();
      take();
      return;
    }
    this.queue.push(take);
    this.arm();
  }

  private arm(): void {
    this.immediate ??= setImmediate(this.nextTurn);
  }

  /** In the check phase: a new turn's share, then the next one waits for the turn after. */
  private readonly nextTurn = (): void => {
    this.immediate = undefined;
    this.taken = 0;
    while (this.head < this.queue.length && this.taken < this.perTurn) {
      const take = this.queue[this.head] as () => void;
      this.queue[this.head++] = noop;
      this.taken++;
      take();
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else this.arm();
  };
}

const noop = (): void => undefined;
