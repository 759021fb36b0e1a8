import type { BusDriverEvents } from '@switchyard/core/adapter';
import type { Logger } from '@switchyard/core';
import type { PgConnection } from './connection.js';

interface Incoming {
  channel: string;
  topic: string;
  payload: Uint8Array;
}

/**
 * The receiving side of the Postgres bus: decodes each notification (inline payloads, or the
 * id of a row in `<prefix>bus_payloads` that it fetches) and hands the messages to the bus
 * runtime in arrival order, a fetched one included.
 */
export class BusInbox {
  private readonly queue: Array<Incoming | null | Promise<Incoming | null>> = [];
  private draining = false;
  private cleared = false;

  constructor(
    private readonly conn: PgConnection,
    private readonly log: Logger,
    private readonly events: BusDriverEvents,
    private readonly listening: (channel: string) => boolean,
  ) {}

  /** A notification arrived on `channel`. */
  receive(channel: string, text: string): void {
    if (this.cleared || !this.listening(channel)) return;
    let msg: { t?: unknown; d?: unknown; r?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.events.count('malformed');
      return;
    }
    if (typeof msg.t === 'string' && typeof msg.d === 'string') {
      this.push({ channel, topic: msg.t, payload: new Uint8Array(Buffer.from(msg.d, 'base64')) });
    } else if (typeof msg.r === 'string' && /^\d+$/.test(msg.r)) {
      this.push(this.fetch(channel, msg.r));
    } else {
      this.events.count('malformed');
    }
  }

  /** Drop what waits; deliver nothing more. */
  clear(): void {
    this.cleared = true;
    this.queue.length = 0;
  }

  private async fetch(channel: string, id: string): Promise<Incoming | null> {
    try {
      const r = await this.conn.query<{ topic: string; payload: Buffer }>(
        'bus fetch payload',
        `SELECT topic, payload FROM ${this.conn.names.table('bus_payloads')} WHERE id = $1::bigint`,
        [id],
        true,
      );
      const row = r.rows[0];
      if (!row) {
        this.events.count('publish_dropped');
        this.log.warn({ id }, 'large payload row is gone (swept before it was read?)');
        return null;
      }
      return { channel, topic: row.topic, payload: new Uint8Array(row.payload.buffer, row.payload.byteOffset, row.payload.byteLength) };
    } catch (err) {
      if (!this.cleared) {
        this.events.count('error');
        this.log.warn({ id, err: (err as Error).message }, 'could not fetch a large payload');
      }
      return null;
    }
  }

  private push(item: Incoming | Promise<Incoming | null>): void {
    this.queue.push(item);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        let item = this.queue.shift();
        if (item instanceof Promise) item = await item;
        // The channel is a truncated hash: ignore topics that only share it.
        if (item && !this.cleared && this.conn.names.channel('b', item.topic) === item.channel) this.events.message(item.topic, item.payload);
      }
    } finally {
      this.draining = false;
    }
  }
}
