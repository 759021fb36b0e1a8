/** How connections leave a node: in batches, with a random pause between them. */
export interface BatchPacing {
  /** Connections per batch. */
  batchSize: number;
  /** Longest pause between batches, ms (a random share of it, so the clients do not all arrive at once elsewhere). */
  batchIntervalMs: number;
  /**
   * When everything must be over (ms since epoch). The pauses shrink so that every batch has
   * gone out by half of the remaining time (the other half is for the clients to leave);
   * a batch due after it is run with `late` set.
   */
  deadline?: number;
}

/**
 * Run `each` over `items` in batches of `batchSize`, one batch after another, with a random pause
 * (up to `batchIntervalMs`) before each batch but the first. `late`: the deadline has passed (no
 * time for round trips to the stores: just let the connections go).
 */
export async function inBatches<T>(items: readonly T[], pacing: BatchPacing, each: (batch: T[], late: boolean) => Promise<void> | void): Promise<void> {
  const { batchSize, batchIntervalMs } = pacing;
  const deadline = pacing.deadline ?? Infinity;
  const size = Math.max(1, Math.floor(batchSize));
  const batches = Math.ceil(items.length / size);
  const moveBy = Number.isFinite(deadline) ? Date.now() + Math.max(0, deadline - Date.now()) / 2 : Infinity;
  for (let b = 0; b < batches; b++) {
    if (b > 0 && batchIntervalMs > 0) {
      const share = Number.isFinite(moveBy) ? Math.max(0, moveBy - Date.now()) / (batches - b) : batchIntervalMs;
      const pause = Math.random() * Math.min(batchIntervalMs, share);
      if (pause >= 1) await new Promise((r) => setTimeout(r, pause));
    }
    await each(items.slice(b * size, (b + 1) * size), Date.now() >= deadline);
  }
}
