/**
 * The delivery checker: checks a run the way users lose data. Record every acknowledged publish
 * and, per client, where its subscription started, every delivery and every gap it was told
 * about; `report()` then says, per client and room, what went missing without a word, what came
 * twice and what came out of order. Pure bookkeeping: no I/O, no timers, no test framework.
 *
 * The model, per client and room:
 * - expected: acknowledged messages after the client's start position (its first `subscribed`;
 *   later ones are resumes of the same subscription). A message of a later epoch than the start
 *   is after it; epochs are ordered by when the checker first heard of each, per room.
 *   Messages without an offset (rooms without history) are expected when their ack was recorded
 *   after the client's start.
 * - missing: expected, never delivered and not covered by a gap the client saw. Each run of
 *   consecutive missing messages (in offset order) is one unsignalled gap.
 * - signalled: expected, never delivered, covered by a gap the client saw: `(from, to]` of the
 *   gap's epoch (`to` absent: everything after `from` in that epoch).
 * - duplicates: deliveries of a message the client already had (same id).
 * - out of order: a first delivery whose offset is not above the highest offset the client
 *   was delivered before in the same epoch, or whose epoch is older than one already delivered.
 * - unacked: delivered messages no ack was recorded for (an ack lost with a connection; not a
 *   defect). mismatched: delivered with another offset or epoch than its ack said (a defect).
 */

/** An acknowledged publish: the server returned its offset (and epoch) for a room with history. */
export interface AckedMessage {
  room: string;
  /** Unique per message, carried in its payload (e.g. `<publisher>:<sequence>`). */
  id: string;
  /** Who published it (a client name). */
  sender: string;
  /** Absent in rooms without history. */
  offset?: number;
  epoch?: string;
}

/** Where a client's subscription started: the offset and epoch its first `subscribed` reported. */
export interface StartPosition {
  room: string;
  /** Absent: from the start of the room's history. */
  offset?: number;
  epoch?: string;
}

/** One message handed to the application. */
export interface DeliveredMessage {
  room: string;
  id: string;
  offset?: number;
  epoch?: string;
}

/** A gap the client was told about: offsets in `(from, to]` of `epoch` will never be delivered. */
export interface GapNotice {
  room: string;
  /** Absent: the gap applies to whatever epoch a message has. */
  epoch?: string;
  from: number;
  /** Absent: everything after `from` in that epoch. */
  to?: number;
}

/** Offsets `from..to` (inclusive) of one epoch. */
export interface OffsetRange {
  epoch?: string;
  from: number;
  to: number;
}

/** What one client saw of one room. */
export interface ClientRoomReport {
  client: string;
  room: string;
  start: StartPosition | undefined;
  /** Acknowledged messages after the start. */
  expected: number;
  /** Distinct messages delivered (acknowledged or not). */
  delivered: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  /** Expected messages not delivered but covered by a gap the client saw. */
  signalled: number;
  /** Delivered without a recorded ack. */
  unacked: number;
  /** Delivered with another offset or epoch than the ack. */
  mismatched: number;
  /** Gap notices the client saw. */
  gaps: number;
  /** The client left the room for good (`unsubscribed`): its numbers are only indicative. */
  left: boolean;
  /** Runs of consecutive missing messages (a missing message without offset is a run of its own). */
  unsignalledGaps: number;
  /** The first runs of missing messages with offsets (at most 20). */
  missingRanges: OffsetRange[];
  /** Ids of the first missing messages (at most 20). */
  missingIds: string[];
  /** Ids of the first messages delivered twice, and of the first delivered out of order (at most 20 each). */
  duplicateIds: string[];
  outOfOrderIds: string[];
  /** No missing, duplicated, out-of-order or mismatched message. */
  ok: boolean;
}

export interface DeliveryTotals {
  clients: number;
  acked: number;
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  signalled: number;
  unacked: number;
  mismatched: number;
  /** Unsignalled gaps (runs of missing messages), over every client. */
  unsignalledGaps: number;
  /** Two acks naming the same offset of the same epoch for different messages (or one message acked at two offsets). */
  conflicts: number;
}

export interface DeliveryReport {
  clients: ClientRoomReport[];
  totals: DeliveryTotals;
  /** Every client that stayed subscribed is ok and no ack conflicts. */
  ok: boolean;
}

interface Acked extends AckedMessage {
  /** Logical time of the ack (order of calls into the checker). */
  seq: number;
}

interface Track {
  client: string;
  room: string;
  start: (StartPosition & { seq: number }) | undefined;
  delivered: Map<string, DeliveredMessage>;
  duplicates: number;
  outOfOrder: number;
  duplicateIds: string[];
  outOfOrderIds: string[];
  /** Highest epoch rank and offset delivered so far. */
  rank: number;
  high: number;
  gaps: GapNotice[];
  left: boolean;
}

const MAX_IDS = 20;

/** Records a run and reports what each client missed, got twice or got out of order. */
export class DeliveryChecker {
  private seq = 0;
  private readonly acked = new Map<string, Acked>();
  private readonly byRoom = new Map<string, Acked[]>();
  private readonly slots = new Map<string, string>();
  private conflicts = 0;
  private readonly epochs = new Map<string, Map<string, number>>();
  private readonly tracks = new Map<string, Track>();

  /** An acknowledged publish. The same id acked again with the same position is ignored. */
  published(m: AckedMessage): void {
    const seq = ++this.seq;
    this.rankOf(m.room, m.epoch);
    const known = this.acked.get(m.id);
    if (known) {
      if (known.offset !== m.offset || known.epoch !== m.epoch) this.conflicts++;
      return;
    }
    if (m.offset !== undefined) {
      const slot = `${m.room}\u0000${m.epoch ?? ''}\u0000${m.offset}`;
      const holder = this.slots.get(slot);
      if (holder !== undefined && holder !== m.id) this.conflicts++;
      else this.slots.set(slot, m.id);
    }
    const a: Acked = { ...m, seq };
    this.acked.set(m.id, a);
    let list = this.byRoom.get(m.room);
    if (!list) this.byRoom.set(m.room, (list = []));
    list.push(a);
  }

  /** A client's subscription confirmed. The first per client and room is its start; later ones (resumes) change nothing. */
  subscribed(client: string, p: StartPosition): void {
    const seq = ++this.seq;
    this.rankOf(p.room, p.epoch);
    const t = this.track(client, p.room);
    t.start ??= { ...p, seq };
  }

  /** A message handed to the client's application. */
  delivered(client: string, m: DeliveredMessage): void {
    ++this.seq;
    const rank = this.rankOf(m.room, m.epoch);
    const t = this.track(client, m.room);
    if (t.delivered.has(m.id)) {
      t.duplicates++;
      if (t.duplicateIds.length < MAX_IDS) t.duplicateIds.push(m.id);
      return;
    }
    t.delivered.set(m.id, m);
    if (m.offset === undefined) return;
    const r = rank ?? t.rank;
    let late = false;
    if (r < t.rank) late = true;
    else if (r > t.rank) {
      t.rank = r;
      t.high = m.offset;
    } else if (m.offset <= t.high) late = true;
    else t.high = m.offset;
    if (late) {
      t.outOfOrder++;
      if (t.outOfOrderIds.length < MAX_IDS) t.outOfOrderIds.push(m.id);
    }
  }

  /** The client was told that messages of `(from, to]` in `epoch` will never come. */
  gap(client: string, g: GapNotice): void {
    ++this.seq;
    this.rankOf(g.room, g.epoch);
    this.track(client, g.room).gaps.push({ ...g });
  }

  /** The client left the room for good. */
  unsubscribed(client: string, room: string): void {
    ++this.seq;
    this.track(client, room).left = true;
  }

  /** Acknowledged messages recorded so far (all rooms, or one). */
  ackedCount(room?: string): number {
    if (room !== undefined) return this.byRoom.get(room)?.length ?? 0;
    return this.acked.size;
  }

  report(): DeliveryReport {
    const clients = [...this.tracks.values()].map((t) => this.reportOf(t));
    const sum = (k: keyof ClientRoomReport) => clients.reduce((a, c) => a + (c[k] as number), 0);
    const totals: DeliveryTotals = {
      clients: new Set(clients.map((c) => c.client)).size,
      acked: this.acked.size,
      expected: sum('expected'),
      delivered: sum('delivered'),
      missing: sum('missing'),
      duplicates: sum('duplicates'),
      outOfOrder: sum('outOfOrder'),
      signalled: sum('signalled'),
      unacked: sum('unacked'),
      mismatched: sum('mismatched'),
      unsignalledGaps: sum('unsignalledGaps'),
      conflicts: this.conflicts,
    };
    return { clients, totals, ok: this.conflicts === 0 && clients.every((c) => c.left || c.ok) };
  }

  /** `missing 0, duplicates 0, out of order 0, signalled gaps N` for one client (summed over its rooms, or one room). */
  summary(client: string, room?: string): string {
    const rs = this.report().clients.filter((c) => c.client === client && (room === undefined || c.room === room));
    const sum = (k: 'missing' | 'duplicates' | 'outOfOrder' | 'signalled') => rs.reduce((a, c) => a + c[k], 0);
    return line(sum('missing'), sum('duplicates'), sum('outOfOrder'), sum('signalled'));
  }

  /** One line per client and room, e.g. `sub-0 chat: missing 0, duplicates 0, out of order 0, signalled gaps 0 (expected 1200, delivered 1200)`. */
  format(report: DeliveryReport = this.report()): string {
    return report.clients.map(formatClient).join('\n');
  }

  private reportOf(t: Track): ClientRoomReport {
    const expected = this.expectedFor(t);
    let missing = 0;
    let signalled = 0;
    const missingRanges: OffsetRange[] = [];
    const missingIds: string[] = [];
    let unsignalledGaps = 0;
    let run: OffsetRange | undefined;
    for (const m of expected) {
      if (t.delivered.has(m.id)) {
        run = undefined;
        continue;
      }
      if (t.gaps.some((g) => covers(g, m))) {
        signalled++;
        run = undefined;
        continue;
      }
      missing++;
      if (missingIds.length < MAX_IDS) missingIds.push(m.id);
      if (m.offset === undefined) {
        // no offset (no history): each missing message is a gap of its own
        unsignalledGaps++;
        run = undefined;
      } else if (run && run.epoch === m.epoch) {
        run.to = m.offset;
      } else {
        run = m.epoch === undefined ? { from: m.offset, to: m.offset } : { epoch: m.epoch, from: m.offset, to: m.offset };
        unsignalledGaps++;
        if (missingRanges.length < MAX_IDS) missingRanges.push(run);
      }
    }
    let unacked = 0;
    let mismatched = 0;
    for (const d of t.delivered.values()) {
      const a = this.acked.get(d.id);
      if (!a) unacked++;
      else if ((a.offset !== undefined && d.offset !== undefined && a.offset !== d.offset) || (a.epoch !== undefined && d.epoch !== undefined && a.epoch !== d.epoch)) mismatched++;
    }
    const report: ClientRoomReport = {
      client: t.client,
      room: t.room,
      start: t.start ? stripSeq(t.start) : undefined,
      expected: expected.length,
      delivered: t.delivered.size,
      missing,
      duplicates: t.duplicates,
      outOfOrder: t.outOfOrder,
      signalled,
      unacked,
      mismatched,
      gaps: t.gaps.length,
      left: t.left,
      unsignalledGaps,
      missingRanges,
      missingIds,
      duplicateIds: [...t.duplicateIds],
      outOfOrderIds: [...t.outOfOrderIds],
      ok: missing === 0 && t.duplicates === 0 && t.outOfOrder === 0 && mismatched === 0,
    };
    return report;
  }

  /** Acknowledged messages of the track's room after its start, in epoch then offset order. */
  private expectedFor(t: Track): Acked[] {
    const all = this.byRoom.get(t.room) ?? [];
    const start = t.start;
    const after = (m: Acked): boolean => {
      if (!start) return true;
      if (m.offset === undefined) return m.seq > start.seq;
      const ms = this.rankOf(m.room, m.epoch);
      const ss = this.rankOf(t.room, start.epoch);
      if (ms !== undefined && ss !== undefined && ms !== ss) return ms > ss;
      return m.offset > (start.offset ?? 0);
    };
    const rank = (m: Acked) => this.rankOf(m.room, m.epoch) ?? 0;
    return all.filter(after).sort((a, b) => rank(a) - rank(b) || (a.offset ?? 0) - (b.offset ?? 0) || a.seq - b.seq);
  }

  private track(client: string, room: string): Track {
    const key = `${client}\u0000${room}`;
    let t = this.tracks.get(key);
    if (!t) {
      t = { client, room, start: undefined, delivered: new Map(), duplicates: 0, outOfOrder: 0, duplicateIds: [], outOfOrderIds: [], rank: -1, high: -Infinity, gaps: [], left: false };
      this.tracks.set(key, t);
    }
    return t;
  }

  /** The epoch's place in the room's history (0 for the first epoch heard of); undefined without an epoch. */
  private rankOf(room: string, epoch: string | undefined): number | undefined {
    if (epoch === undefined) return undefined;
    let m = this.epochs.get(room);
    if (!m) this.epochs.set(room, (m = new Map()));
    let r = m.get(epoch);
    if (r === undefined) m.set(epoch, (r = m.size));
    return r;
  }
}

function covers(g: GapNotice, m: AckedMessage): boolean {
  if (g.room !== m.room || m.offset === undefined) return false;
  if (g.epoch !== undefined && m.epoch !== undefined && g.epoch !== m.epoch) return false;
  return m.offset > g.from && (g.to === undefined || m.offset <= g.to);
}

function stripSeq(s: StartPosition & { seq: number }): StartPosition {
  const { seq: _seq, ...rest } = s;
  return rest;
}

const line = (missing: number, duplicates: number, outOfOrder: number, signalled: number): string =>
  `missing ${missing}, duplicates ${duplicates}, out of order ${outOfOrder}, signalled gaps ${signalled}`;

function formatClient(c: ClientRoomReport): string {
  const extra = [`expected ${c.expected}`, `delivered ${c.delivered}`];
  if (c.unacked) extra.push(`unacked ${c.unacked}`);
  if (c.mismatched) extra.push(`mismatched ${c.mismatched}`);
  if (c.gaps) extra.push(`gap notices ${c.gaps}`);
  if (c.duplicateIds.length) extra.push(`twice: ${c.duplicateIds.slice(0, 5).join(' ')}${c.duplicates > 5 ? ' ...' : ''}`);
  if (c.outOfOrderIds.length) extra.push(`late: ${c.outOfOrderIds.slice(0, 5).join(' ')}${c.outOfOrder > 5 ? ' ...' : ''}`);
  if (c.unsignalledGaps) extra.push(`unsignalled gaps ${c.unsignalledGaps}${c.missingRanges.length ? ` at ${c.missingRanges.slice(0, 5).map(formatRange).join(' ')}${c.unsignalledGaps > 5 ? ' ...' : ''}` : ''}`);
  if (c.left) extra.push('left the room');
  return `${c.client} ${c.room}: ${line(c.missing, c.duplicates, c.outOfOrder, c.signalled)} (${extra.join(', ')})`;
}

const formatRange = (r: OffsetRange): string => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`);
