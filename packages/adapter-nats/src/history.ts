import type { HistoryCapabilities, HistoryEntry, HistoryPosition, HistoryReadOptions, HistoryReadResult, HistoryStore } from '@switchyard/core';
import { randomId } from '@switchyard/core/adapter';
import { headers, nanos } from '@nats-io/transport-node';
import { DeliverPolicy, DiscardPolicy, RetentionPolicy, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnector } from './connection.js';
import { withDeadline } from './deadline.js';
import { JsCodes, isWrongLastSequence, jsErrorCode, natsError } from './errors.js';
import { storageType } from './kv-records.js';
import type { NatsAdapterConfig, NatsAdapterOptions } from './options.js';
import { NatsPort } from './base.js';
import { Keys, historySubject, historyWildcard } from './names.js';

/** Header carrying the sequence of the previous message on the same subject (0: the subject was empty). */
export const PREV_HEADER = 'Switchyard-Prev';
/** JetStream's default duplicate window; it must not exceed `max_age`. */
const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
/** Rooms whose last sequence we remember, to append with one round trip in the common case. */
const LAST_SEQ_CACHE = 10_000;
/** How long a read's pull request stays open on the server, ms. */
const FETCH_EXPIRES_MS = 2000;

/** What an open history works on: the stream manager and the epoch bucket. */
interface Opened {
  jsm: JetStreamManager;
  epochs: KV;
}

/**
 * History on JetStream. One stream holds every room as its own subject
 * `<prefix>.h.<base64url(room)>`; offsets are stream sequences, so they grow strictly per
 * room (not contiguously: rooms share the sequence). Retention is the stream's:
 * `max_msgs_per_subject` (length per room) and `max_age`.
 *
 * Each append is a compare-and-set on the room's last sequence
 * (`Nats-Expected-Last-Subject-Sequence`) and records that predecessor in a header. Because
 * JetStream always trims the oldest messages first, a reader after `after` lost something
 * exactly when the first message it gets names a predecessor newer than `after`: that is how
 * `gap` is computed, without scanning. The epoch of each room lives in a KV bucket; `reset`
 * purges the room's subject and writes a new epoch.
 */
export class NatsHistory extends NatsPort<Opened> implements HistoryStore {
  readonly capabilities: HistoryCapabilities = { retentionByLength: true, retentionByAge: true };
  /** Appends done, and compare-and-set retries they needed because another writer appended to the room first. */
  readonly stats = { appends: 0, retries: 0 };
  private readonly lastSeq = new Map<string, number>();
  private readonly appendChains = new Map<string, Promise<unknown>>();

  /** Pass options, or share a connector with the other ports (see `createNatsAdapter`). No I/O happens here. */
  constructor(options: NatsAdapterOptions | NatsAdapterConfig, connector?: NatsConnector) {
    super(options, connector, { port: 'history', label: 'nats history', scope: 'history' });
  }

  protected override async open(): Promise<Opened> {
    const jsm = await this.connector.jsm();
    await this.ensureStream(jsm);
    const h = this.config.history;
    const epochs = await this.connector.bucket(h.epochBucket, { history: 1, storage: storageType(h.storage), replicas: h.replicas });
    return { jsm, epochs };
  }

  protected override teardown(): void {
    this.lastSeq.clear();
  }

  async append(stream: string, payload: Uint8Array): Promise<HistoryPosition> {
    this.ready();
    const subject = historySubject(this.config.prefix, stream);
    // Serialise appends per room within this instance: one compare-and-set in flight per room.
    const prev = this.appendChains.get(subject) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.appendNow(stream, subject, payload));
    this.appendChains.set(subject, run);
    try {
      return await run;
    } finally {
      if (this.appendChains.get(subject) === run) this.appendChains.delete(subject);
    }
  }

  async read(stream: string, after: number, options: HistoryReadOptions = {}): Promise<HistoryReadResult> {
    const { jsm } = this.ready();
    const subject = historySubject(this.config.prefix, stream);
    const readLimit = this.config.history.readLimit;
    const limit = Math.max(1, Math.min(options.limit ?? readLimit, readLimit));
    return this.run('read', async () => {
      const [epoch, top] = await Promise.all([this.epochOf(stream), this.lastSequence(jsm, subject)]);
      const epochChanged = options.epoch != null && options.epoch !== epoch;
      const from = epochChanged ? 0 : Math.max(0, after);
      if (top <= from) return { epoch, entries: [], top, gap: epochChanged };
      const { entries, firstPrev } = await this.fetch(subject, from, limit);
      let gap = epochChanged;
      if (!gap && entries.length > 0 && firstPrev !== undefined) {
        // The first surviving message names its predecessor: newer than `from` means that one is gone.
        // A predecessor of 0 means the room was empty when it was written (everything before had
        // expired): if the reader had seen anything, we cannot tell what it missed, so say so.
        gap = firstPrev > from || (firstPrev === 0 && from > 0);
      }
      return { epoch, entries, top, gap };
    });
  }

  async position(stream: string): Promise<HistoryPosition> {
    const { jsm } = this.ready();
    const subject = historySubject(this.config.prefix, stream);
    return this.run('position', async () => {
      const [epoch, offset] = await Promise.all([this.epochOf(stream), this.lastSequence(jsm, subject)]);
      return { offset, epoch };
    });
  }

  async reset(stream: string): Promise<void> {
    const { jsm, epochs } = this.ready();
    const subject = historySubject(this.config.prefix, stream);
    return this.run('reset', async () => {
      await jsm.streams.purge(this.config.history.stream, { filter: subject });
      this.lastSeq.delete(subject);
      await epochs.put(Keys.epoch(stream), randomId(6));
    });
  }

  private async appendNow(stream: string, subject: string, payload: Uint8Array): Promise<HistoryPosition> {
    const js = this.connector.js();
    const epochP = this.epochOf(stream);
    epochP.catch(() => undefined);
    let last = this.lastSeq.get(subject) ?? 0;
    // Other writers may keep winning the compare-and-set (a hot room written from many nodes):
    // retry until the request timeout, then give up with CONFLICT.
    const deadline = Date.now() + this.config.requestTimeoutMs;
    let lost = 0;
    try {
      for (;;) {
        const h = headers();
        h.set(PREV_HEADER, String(last));
        try {
          const ack = await js.publish(subject, payload, { headers: h, expect: { lastSubjectSequence: last } });
          this.rememberLast(subject, ack.seq);
          this.stats.appends++;
          this.stats.retries += lost;
          return { offset: ack.seq, epoch: await epochP, prev: last };
        } catch (err) {
          if (!isWrongLastSequence(err)) throw err;
          lost++;
          if (Date.now() > deadline) {
            throw natsError('CONFLICT', `append to ${stream} lost the race to other writers ${lost} times within ${this.config.requestTimeoutMs} ms`, err);
          }
          // Another writer appended first (or our cache was stale): the server says what the last one is.
          const m = /wrong last sequence: (\d+)/.exec((err as Error).message);
          last = m ? Number(m[1]) : await this.lastSequence(await this.connector.jsm(), subject);
        }
      }
    } catch (err) {
      this.lastSeq.delete(subject);
      throw this.fail(err, 'append');
    }
  }

  private rememberLast(subject: string, seq: number): void {
    this.lastSeq.delete(subject);
    this.lastSeq.set(subject, seq);
    if (this.lastSeq.size > LAST_SEQ_CACHE) {
      const oldest = this.lastSeq.keys().next().value;
      if (oldest !== undefined) this.lastSeq.delete(oldest);
    }
  }

  /** Newest sequence on the room's subject; 0 when it holds nothing. */
  private async lastSequence(jsm: JetStreamManager, subject: string): Promise<number> {
    try {
      const sm = await jsm.streams.getMessage(this.config.history.stream, { last_by_subj: subject });
      return sm?.seq ?? 0;
    } catch (err) {
      if (jsErrorCode(err) === JsCodes.noMessageFound) return 0;
      throw err;
    }
  }

  /** Up to `limit` messages of the subject with sequence > `from`, through a short-lived ordered consumer. */
  private async fetch(subject: string, from: number, limit: number): Promise<{ entries: HistoryEntry[]; firstPrev: number | undefined }> {
    const js = this.connector.js();
    const consumer = await js.consumers.get(this.config.history.stream, {
      filter_subjects: subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from + 1,
      inactive_threshold: nanos(30_000),
    });
    const entries: HistoryEntry[] = [];
    let firstPrev: number | undefined;
    try {
      const messages = await consumer.fetch({ max_messages: limit, expires: FETCH_EXPIRES_MS });
      const collect = async () => {
        for await (const m of messages) {
          if (entries.length === 0) {
            const prev = m.headers?.get(PREV_HEADER);
            firstPrev = prev ? Number(prev) : undefined;
          }
          entries.push({ offset: m.seq, payload: m.data.slice(), timestamp: Math.floor(m.info.timestampNanos / 1e6) });
          if (entries.length >= limit || m.info.pending === 0) break;
        }
      };
      // An ordered consumer re-pulls by itself when heartbeats stop, so a silent server could hold
      // this loop past the pull window: bound it, and stop the iterator when the deadline passes.
      await withDeadline(collect(), FETCH_EXPIRES_MS + this.config.requestTimeoutMs, 'history read fetch', () => messages.stop());
    } finally {
      consumer.delete().catch(() => undefined);
    }
    return { entries, firstPrev };
  }

  /** The room's epoch, created on first use. Racing creators agree: the KV create is a compare-and-set. */
  private async epochOf(stream: string): Promise<string> {
    const epochs = this.ready().epochs;
    const key = Keys.epoch(stream);
    const cur = await epochs.get(key);
    if (cur && cur.operation === 'PUT') return cur.string();
    const fresh = randomId(6);
    try {
      await epochs.create(key, fresh);
      return fresh;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      const won = await epochs.get(key);
      if (won && won.operation === 'PUT') return won.string();
      throw err;
    }
  }

  private async ensureStream(jsm: JetStreamManager): Promise<void> {
    const h = this.config.history;
    const wanted: Partial<StreamConfig> & { name: string } = {
      name: h.stream,
      subjects: [historyWildcard(this.config.prefix)],
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: h.maxLength,
      max_age: nanos(h.maxAgeMs),
      duplicate_window: nanos(h.maxAgeMs > 0 ? Math.min(DEFAULT_DUPLICATE_WINDOW_MS, h.maxAgeMs) : DEFAULT_DUPLICATE_WINDOW_MS),
      storage: storageType(h.storage),
      num_replicas: h.replicas,
    };
    let info;
    try {
      info = await jsm.streams.info(h.stream);
    } catch (err) {
      if (jsErrorCode(err) !== JsCodes.streamNotFound && (err as Error).name !== 'StreamNotFoundError') throw err;
      try {
        await jsm.streams.add(wanted);
        this.log.info({ stream: h.stream }, 'created history stream');
        return;
      } catch (addErr) {
        // Another node created it first: fall through and compare.
        info = await jsm.streams.info(h.stream).catch(() => {
          throw addErr;
        });
      }
    }
    const c = info.config;
    const subjects = c.subjects ?? [];
    const mismatch =
      !subjects.includes(wanted.subjects?.[0] as string) ||
      c.max_msgs_per_subject !== wanted.max_msgs_per_subject ||
      c.max_age !== wanted.max_age;
    if (!mismatch) return;
    if (h.onMismatch === 'keep') {
      this.log.warn({ stream: h.stream, have: { subjects, max_msgs_per_subject: c.max_msgs_per_subject, max_age: c.max_age } }, 'history stream exists with other limits; keeping them');
      return;
    }
    const update: Partial<StreamConfig> = {
      ...c,
      subjects: [...new Set([...subjects, ...(wanted.subjects as string[])])],
      max_msgs_per_subject: wanted.max_msgs_per_subject as number,
      max_age: wanted.max_age as number,
      duplicate_window: Math.min(c.duplicate_window ?? (wanted.duplicate_window as number), (wanted.max_age as number) || Number.MAX_SAFE_INTEGER),
    };
    await jsm.streams.update(h.stream, update);
    this.log.warn({ stream: h.stream }, 'updated the history stream to our retention limits');
  }
}
