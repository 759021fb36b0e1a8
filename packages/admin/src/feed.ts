/**
 * Live updates for open dashboards, as Server-Sent Events: a `snapshot` every `refreshMs`
 * (one snapshot built per tick, shared by every stream; no timer while no dashboard is open)
 * and each cluster `event` as it happens, with its `seq` as the event id so a reconnecting
 * browser gets what it missed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@switchyard/core';
import type { EventLog } from './events.js';
import type { ClusterSnapshot } from './snapshot.js';

export class LiveFeed {
  private readonly streams = new Set<ServerResponse>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private building = false;
  private readonly stopEvents: () => void;

  constructor(
    private readonly log: EventLog,
    private readonly snapshot: () => Promise<ClusterSnapshot>,
    private readonly refreshMs: number,
    private readonly logger: Logger,
  ) {
    this.stopEvents = log.subscribe((e) => this.write(`id: ${e.seq}\nevent: event\ndata: ${JSON.stringify(e)}\n\n`));
  }

  get size(): number {
    return this.streams.size;
  }

  open(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): void {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`retry: ${Math.max(1000, this.refreshMs)}\n\n`);
    const last = Number(req.headers['last-event-id'] ?? 0);
    for (const e of this.log.recent()) if (!(e.seq <= last)) res.write(`id: ${e.seq}\nevent: event\ndata: ${JSON.stringify(e)}\n\n`);
    this.streams.add(res);
    const drop = () => {
      this.streams.delete(res);
      if (this.streams.size === 0) this.stopTimer();
    };
    req.once('close', drop);
    res.once('close', drop);
    void this.tick(res);
    this.timer ??= setInterval(() => void this.tick(), this.refreshMs);
    this.timer.unref?.();
  }

  /** A fresh snapshot to every stream (skipped while the previous one is still being built), or to `only` (a new stream). */
  private async tick(only?: ServerResponse): Promise<void> {
    if (!only) {
      if (this.building) return;
      this.building = true;
    }
    try {
      const text = `event: snapshot\ndata: ${JSON.stringify(await this.snapshot())}\n\n`;
      if (!only) this.write(text);
      else if (this.streams.has(only)) only.write(text);
    } catch (err) {
      this.logger.warn({ err }, 'admin snapshot failed');
    } finally {
      if (!only) this.building = false;
    }
  }

  private write(text: string): void {
    for (const res of this.streams) res.write(text);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ends every stream and stops the timer. */
  close(): void {
    this.stopTimer();
    this.stopEvents();
    for (const res of this.streams) res.end();
    this.streams.clear();
  }
}
