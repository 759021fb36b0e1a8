import type { AdapterEvent, Logger } from '@switchyard/core';
import type { PgConnection } from './connection.js';

/** One cleanup statement: deletes at most `limit` rows (`$1` is the limit) and reports how many. */
export interface SweepTask {
  name: string;
  sql: string;
  /** Parameters after the limit (`$2`, `$3`, ...). */
  params: () => unknown[];
}

/** Most batches one task runs per tick, so a huge backlog never holds a tick for long. */
const MAX_BATCHES_PER_TICK = 20;

/**
 * Runs cleanup statements on an interval (never overlapping): each deletes rows in batches,
 * picked with `FOR UPDATE SKIP LOCKED` so that sweepers on many nodes split the work instead of
 * waiting on each other. Started by `connect()`, stopped by `close()`; the timer is unref'd.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly conn: PgConnection,
    private readonly tasks: SweepTask[],
    private readonly logger: Logger,
    private readonly count: (event: AdapterEvent) => void,
  ) {}

  start(): void {
    if (this.timer || this.tasks.length === 0) return;
    this.timer = setInterval(() => void this.sweep(), this.conn.options.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Run every task now; resolves with the rows deleted. Errors are logged and counted, not thrown. */
  sweep(): Promise<number> {
    this.running ??= this.runAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runAll(): Promise<number> {
    const batch = this.conn.options.sweepBatchSize;
    let total = 0;
    for (const task of this.tasks) {
      try {
        for (let i = 0; i < MAX_BATCHES_PER_TICK; i++) {
          const r = await this.conn.query(`sweep ${task.name}`, task.sql, [batch, ...task.params()], false);
          total += r.rowCount ?? 0;
          if ((r.rowCount ?? 0) < batch) break;
        }
      } catch (err) {
        this.count('error');
        this.logger.debug({ task: task.name, err: (err as Error).message }, 'sweep failed; will try again');
      }
    }
    return total;
  }
}
