import type { HistoryCapabilities, HistoryPosition, HistoryReadOptions, HistoryReadResult, HistoryRetention, HistoryStore } from '../ports/history.js';
import { randomId } from '../util/id.js';
import { Guard } from './guard.js';
import { getDefaultHub, type MemoryHub } from './hub.js';

export interface MemoryHistoryOptions extends Partial<HistoryRetention> {
  hub?: MemoryHub;
  /** Default and largest page size of `read` (default 1000). */
  readLimit?: number;
}

/** In-process history: an array per stream, trimmed by length on append and by age on access. */
export class MemoryHistory implements HistoryStore {
  readonly name = 'memory';
  readonly capabilities: HistoryCapabilities = { retentionByLength: true, retentionByAge: true };
  private readonly hub: MemoryHub;
  private readonly guard = new Guard('memory history');
  private readonly retention: HistoryRetention;

  constructor(private readonly options: MemoryHistoryOptions = {}) {
    this.hub = options.hub ?? getDefaultHub();
    this.retention = { maxLength: options.maxLength ?? 1000, maxAgeMs: options.maxAgeMs ?? 0 };
  }

  async connect(): Promise<void> {
    this.guard.check();
  }

  async close(): Promise<void> {
    this.guard.closed = true;
  }

  async append(stream: string, payload: Uint8Array): Promise<HistoryPosition> {
    this.guard.check();
    let s = this.hub.streams.get(stream);
    if (!s) this.hub.streams.set(stream, (s = { epoch: randomId(6), entries: [], next: 1, trimmedUpTo: 0 }));
    const offset = s.next++;
    s.entries.push({ offset, payload: payload.slice(), timestamp: Date.now() });
    this.trim(s);
    return { offset, epoch: s.epoch };
  }

  async read(stream: string, after: number, options: HistoryReadOptions = {}): Promise<HistoryReadResult> {
    this.guard.check();
    const s = this.hub.streams.get(stream);
    if (!s) {
      const epoch = await this.position(stream).then((p) => p.epoch);
      return { epoch, entries: [], top: 0, gap: options.epoch != null && options.epoch !== epoch && after > 0 };
    }
    this.trim(s);
    const limit = Math.min(options.limit ?? this.options.readLimit ?? 1000, this.options.readLimit ?? 1000);
    const epochChanged = options.epoch != null && options.epoch !== s.epoch;
    const from = epochChanged ? 0 : after;
    const entries = s.entries.filter((e) => e.offset > from).slice(0, limit).map((e) => ({ ...e, payload: e.payload.slice() }));
    return { epoch: s.epoch, entries, top: s.next - 1, gap: epochChanged || s.trimmedUpTo > from };
  }

  async position(stream: string): Promise<HistoryPosition> {
    this.guard.check();
    let s = this.hub.streams.get(stream);
    if (!s) this.hub.streams.set(stream, (s = { epoch: randomId(6), entries: [], next: 1, trimmedUpTo: 0 }));
    return { offset: s.next - 1, epoch: s.epoch };
  }

  async reset(stream: string): Promise<void> {
    this.guard.check();
    this.hub.streams.delete(stream);
  }

  private trim(s: { entries: { offset: number; timestamp: number }[]; trimmedUpTo: number }): void {
    const { maxLength, maxAgeMs } = this.retention;
    let drop = Math.max(0, s.entries.length - maxLength);
    if (maxAgeMs > 0) {
      const cutoff = Date.now() - maxAgeMs;
      while (drop < s.entries.length && (s.entries[drop] as { timestamp: number }).timestamp < cutoff) drop++;
    }
    if (drop > 0) {
      s.trimmedUpTo = (s.entries[drop - 1] as { offset: number }).offset;
      s.entries.splice(0, drop);
    }
  }
}
