import { randomId } from '@switchyard/core/adapter';
import type { HistoryCapabilities, HistoryEntry, HistoryPosition, HistoryReadOptions, HistoryReadResult, HistoryStore } from '@switchyard/core';
import { RedisPort } from './base.js';
import { redisError } from './errors.js';
import { KeySpace } from './names.js';
import type { RedisAdapterConfig, RedisAdapterOptions } from './options.js';
import { HISTORY_APPEND, HISTORY_READ } from './scripts.js';

type Raw = Buffer | number | null | Raw[];

const str = (v: Raw): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
const num = (v: Raw): number => Number(str(v));

/**
 * History on Redis Streams: one stream per name (`<prefix>h:{<name>}`), entry ids `<offset>-0`
 * allocated atomically in Lua (HINCRBY + XADD), so offsets are contiguous within an epoch. Trimmed
 * exactly by length on append and by age (entry timestamps, XTRIM MINID) on append and read. The
 * stream's hash holds the last offset and the epoch; a reset (or the hash expiring) starts a new
 * epoch. `gap` is true when the first kept offset is beyond `after + 1` or the epoch changed.
 * Appends are idempotent per instance (a reconnect resends commands whose reply was lost).
 */
export class RedisHistory extends RedisPort implements HistoryStore {
  readonly capabilities: HistoryCapabilities = { retentionByLength: true, retentionByAge: true };
  private readonly keys: KeySpace;
  /** This instance's writer id and append count: a resent append is recognised and not applied twice. */
  private readonly writer = randomId(9);
  private appends = 0;

  constructor(options: RedisAdapterOptions | RedisAdapterConfig = {}) {
    super(options, 'redis history');
    this.keys = new KeySpace(this.cfg.keyPrefix);
  }

  async append(stream: string, payload: Uint8Array): Promise<HistoryPosition> {
    const { maxLength, maxAgeMs } = this.cfg.history;
    const wseq = ++this.appends;
    const r = (await this.op('append', (c) =>
      HISTORY_APPEND.run(c, [this.keys.stream(stream), this.keys.streamMeta(stream), this.keys.streamWriter(stream, this.writer)], [
        Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
        maxLength,
        maxAgeMs,
        randomId(6),
        wseq,
      ]),
    )) as [number, string];
    if (Number(r[0]) < 0) throw redisError('CONFLICT', `history append to ${stream} was sent again after a lost reply and had already been applied (its offset is no longer known)`);
    return { offset: Number(r[0]), epoch: String(r[1]) };
  }

  async read(stream: string, after: number, options: HistoryReadOptions = {}): Promise<HistoryReadResult> {
    const { readLimit, maxAgeMs } = this.cfg.history;
    const limit = Math.max(0, Math.min(options.limit ?? readLimit, readLimit));
    const epochChanged = (current: string) => options.epoch != null && options.epoch !== current;
    const from = Math.max(0, Math.floor(after));
    const fetch = (fromOffset: number) =>
      this.op('read', async (c) =>
        (await HISTORY_READ.runBuffer(c, [this.keys.stream(stream), this.keys.streamMeta(stream)], [fromOffset, limit, maxAgeMs, randomId(6)])) as Raw[],
      );
    let raw = await fetch(from);
    const epoch = str(raw[0] as Raw);
    const changed = epochChanged(epoch);
    // A reader of another epoch starts from the beginning of this one.
    if (changed && from > 0) raw = await fetch(0);
    const top = num(raw[1] as Raw);
    const first = num(raw[2] as Raw);
    const trimmedUpTo = first > 0 ? first - 1 : top;
    const entries = ((raw[3] as Raw[]) ?? []).map((e) => this.entry(e));
    const base = changed ? 0 : from;
    return { epoch: str(raw[0] as Raw), entries, top, gap: changed || trimmedUpTo > base };
  }

  async position(stream: string): Promise<HistoryPosition> {
    const r = await this.read(stream, Number.MAX_SAFE_INTEGER, { limit: 0 });
    return { offset: r.top, epoch: r.epoch };
  }

  async reset(stream: string): Promise<void> {
    await this.op('reset', (c) => c.del(this.keys.stream(stream), this.keys.streamMeta(stream)));
  }

  private entry(e: Raw): HistoryEntry {
    if (!Array.isArray(e) || e.length < 2 || !Array.isArray(e[1])) throw redisError('BACKEND_ERROR', 'unexpected stream entry shape');
    const id = str(e[0] as Raw);
    const fields = e[1];
    let timestamp = 0;
    let payload: Uint8Array = new Uint8Array(0);
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = str(fields[i] as Raw);
      const value = fields[i + 1] as Raw;
      if (name === 't') timestamp = num(value);
      else if (name === 'd' && Buffer.isBuffer(value)) payload = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    }
    return { offset: Number(id.slice(0, id.indexOf('-'))), payload, timestamp };
  }
}
