import type pg from 'pg';
import type { PgConnection } from './connection.js';
import type { PgListener } from './listener.js';

interface Outgoing {
  topic: string;
  channel: string;
  /** The whole notification text when it fits inline; otherwise the payload goes through the table. */
  inline?: string;
  payload: Uint8Array;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Inline notifications sent in one statement (one transaction, one commit). */
const MAX_BATCH = 200;
/** A send with no listen connection to go on: the bus runtime keeps it in its buffer. */
export const OFFLINE = new Error('the postgres listen connection is down');

/**
 * The sending side of the Postgres bus: NOTIFYs in call order on the listen connection, one
 * statement in flight. Runs of inline notifications go in one statement (one commit); a large
 * payload goes alone (row insert + NOTIFY in one statement). A send fails with the driver's
 * error (or `OFFLINE`); the bus runtime decides whether it waits or is refused.
 */
export class BusOutbox {
  private readonly queue: Outgoing[] = [];
  private pumping = false;
  private seq = 0;

  constructor(
    private readonly conn: PgConnection,
    private readonly listener: () => PgListener | undefined,
  ) {}

  send(topic: string, payload: Uint8Array): Promise<void> {
    const limit = this.conn.options.bus.inlineLimitBytes;
    return new Promise<void>((resolve, reject) => {
      const out: Outgoing = { topic, channel: this.conn.names.channel('b', topic), payload, resolve, reject };
      if (payload.byteLength < limit) {
        // `s` keeps two equal payloads in one batch apart (NOTIFY folds duplicates within a transaction).
        const data = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64');
        const text = JSON.stringify({ t: topic, d: data, s: (this.seq = (this.seq + 1) % 1e9) });
        if (Buffer.byteLength(text) <= limit) out.inline = text;
      }
      this.queue.push(out);
      void this.pump();
    });
  }

  /** Fail everything not sent yet with `err`. */
  clear(err: unknown): void {
    for (const q of this.queue.splice(0)) q.reject(err);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const listener = this.listener();
        const client = listener?.client;
        const batch = this.take();
        if (!listener || !client) {
          for (const q of batch) q.reject(OFFLINE);
          continue;
        }
        try {
          await this.sendBatch(listener, client, batch);
          for (const q of batch) q.resolve();
        } catch (err) {
          for (const q of batch) q.reject(err);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private take(): Outgoing[] {
    if ((this.queue[0] as Outgoing).inline === undefined) return this.queue.splice(0, 1);
    let n = 1;
    while (n < this.queue.length && n < MAX_BATCH && (this.queue[n] as Outgoing).inline !== undefined) n++;
    return this.queue.splice(0, n);
  }

  private async sendBatch(listener: PgListener, client: pg.ClientBase, batch: Outgoing[]): Promise<void> {
    const first = batch[0] as Outgoing;
    if (first.inline === undefined) {
      const t = this.conn.names.table('bus_payloads');
      const data = Buffer.from(first.payload.buffer, first.payload.byteOffset, first.payload.byteLength);
      await listener.run(client, `WITH ins AS (INSERT INTO ${t} (topic, payload) VALUES ($2, $3) RETURNING id)
         SELECT pg_notify($1, json_build_object('r', ins.id::text)::text) FROM ins`, [first.channel, first.topic, data]);
    } else if (batch.length === 1) {
      await listener.run(client, 'SELECT pg_notify($1, $2)', [first.channel, first.inline]);
    } else {
      const channels = batch.map((q) => q.channel);
      await listener.run(client, 'SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS x(c, p)', [channels, batch.map((q) => q.inline as string)]);
    }
  }
}
