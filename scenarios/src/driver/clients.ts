import type { DeliveryChecker } from '@switchyard/core/testing';
import { createClient, type Room, type SwitchyardClient } from '@switchyard/transport-ws/client';
import WebSocket from 'ws';

/** What the scenario's publishers put in every payload: who and which sequence number. */
export interface Payload {
  p: string;
  s: number;
}

const isPayload = (d: unknown): d is Payload => typeof d === 'object' && d !== null && typeof (d as Payload).p === 'string' && typeof (d as Payload).s === 'number';

export const messageId = (p: Payload): string => `${p.p}:${p.s}`;

/** The gap event the SDK emits (typed locally so this compiles before and after the SDK has it). */
interface GapEvent {
  room: string;
  epoch?: string;
  from: number;
  to?: number;
  reason?: string;
}
type GapSource = { on(event: 'gap', listener: (g: GapEvent) => void): () => void };

export type Role = 'publisher' | 'subscriber';

/** What a scenario knows about one client at the end. */
export interface ClientTrace {
  name: string;
  role: Role;
  /** Index of the node it dialled first. */
  home: number;
  /** Node ids it was welcomed by, in order (one entry per connection). */
  nodes: string[];
  /** Close codes of the connections it lost. */
  closeCodes: number[];
  /** `subscribed` events, and how many of them said `gap: true`. */
  subscribed: number;
  gapFlags: number;
  /** `gap` events (explicit gaps with a range). */
  gapEvents: number;
  /** The room is subscribed now and was never left for good. */
  subscribedNow: boolean;
  /** When each welcome came (ms since the epoch), one entry per entry of `nodes`. */
  connectedAt: number[];
  /**
   * What the client saw, in order (`msg 321`, `gap 321..323 unavailable`, `subscribed 300 gap
   * recovered`, `closed 1006`, `welcome node-1`), the last `EVENT_LOG` of them: the report prints
   * the ones around a missing offset.
   */
  events: TraceEvent[];
}

/** One entry of a client's event log: the room offset it concerns (if any) and what happened. */
export interface TraceEvent {
  at: number;
  offset?: number;
  text: string;
}

/** Entries kept per client (a run delivers about 1,500 messages to each, and each comes on the wire too). */
const EVENT_LOG = 8000;

type Wire = Record<string, unknown>;
const num = (v: unknown): string => (typeof v === 'number' ? String(v) : '-');

/**
 * What the node wrote, as the log keeps it: the room frames with their offsets and predecessors
 * (`po`), gaps and the welcome's room states; nothing for acks, pings and the like.
 */
function describeWire(f: Wire): { text: string; offset?: number } | undefined {
  switch (f.t) {
    case 'msg':
      return typeof f.o === 'number' ? { text: `wire msg ${f.o}${f.po !== undefined ? ` po ${num(f.po)}` : ''}`, offset: f.o } : undefined;
    case 'batch': {
      const ms = Array.isArray(f.m) ? (f.m as Wire[]) : [];
      const first = ms[0]?.o;
      return { text: `wire batch ${ms.map((m) => `${num(m.o)}${m.po !== undefined ? `(po ${num(m.po)})` : ''}`).join(' ')}`, ...(typeof first === 'number' ? { offset: first } : {}) };
    }
    case 'msgs': {
      const ms = Array.isArray(f.m) ? (f.m as Wire[]) : [];
      const own = ms.map((m, i) => (m.o !== undefined ? ` [${i}] o ${num(m.o)}` : '')).join('');
      return { text: `wire msgs o ${num(f.o)}${f.po !== undefined ? ` po ${num(f.po)}` : ''} n ${ms.length}${own}`, ...(typeof f.o === 'number' ? { offset: f.o } : {}) };
    }
    case 'gap':
      return { text: `wire gap (${num(f.from)}, ${f.to === undefined ? 'end' : num(f.to)}] ${String(f.reason)}`, ...(typeof f.from === 'number' ? { offset: f.from } : {}) };
    case 'welcome':
      return { text: `wire welcome ${String(f.node)} rooms ${JSON.stringify(f.rooms)}` };
    case 'ack': {
      // a join's answer (a replay asked for a hole) says where the room stands
      const r = f.result as Wire | undefined;
      return r && typeof r === 'object' && 'history' in r ? { text: `wire join ack ${JSON.stringify(r)}` } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * One SDK client in the scenario's room, wired to the checker: its first `subscribed` is its
 * start, every message and every gap event goes to the checker under the client's name.
 */
export class ScenarioClient {
  readonly client: SwitchyardClient;
  readonly room: Room;
  readonly trace: ClientTrace;
  private left = false;
  private firstSubscribed: Promise<void>;

  constructor(
    readonly name: string,
    role: Role,
    home: number,
    urls: string[],
    roomName: string,
    checker: DeliveryChecker,
  ) {
    this.trace = { name, role, home, nodes: [], closeCodes: [], subscribed: 0, gapFlags: 0, gapEvents: 0, subscribedNow: false, connectedAt: [], events: [] };
    // every frame the node writes goes to the log first, as it came (the SDK then orders it)
    const note = (text: string, offset?: number) => this.note(text, offset);
    class LoggedSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        this.on('message', (data: WebSocket.RawData) => {
          try {
            const w = describeWire(JSON.parse(String(data)) as Wire);
            if (w) note(w.text, w.offset);
          } catch {
            note('wire (unreadable frame)');
          }
        });
      }
    }
    this.client = createClient({ urls, WebSocket: LoggedSocket, ackTimeoutMs: 10_000, reconnect: { baseMs: 100, maxMs: 1000, firstRetryMaxMs: 100 } });
    this.client.on('connected', (c) => {
      this.trace.nodes.push(c.node);
      this.trace.connectedAt.push(Date.now());
      this.note(`welcome ${c.node}`);
    });
    this.client.on('disconnected', (d) => {
      this.trace.closeCodes.push(d.code);
      this.note(`closed ${d.code}`);
    });
    this.client.on('error', () => undefined);
    this.room = this.client.room(roomName);
    let resolveFirst: () => void = () => undefined;
    this.firstSubscribed = new Promise((r) => (resolveFirst = r));
    this.room.on('subscribed', (info) => {
      this.trace.subscribed++;
      if (info.gap) this.trace.gapFlags++;
      this.note(`subscribed${info.recovering ? ' (resume)' : ''} at ${info.offset ?? '-'} ${info.epoch ?? ''}${info.gap ? ' gap' : ''}${info.reason ? ` ${info.reason}` : ''}`, info.offset);
      checker.subscribed(name, { room: info.room, ...(info.offset !== undefined ? { offset: info.offset } : {}), ...(info.epoch !== undefined ? { epoch: info.epoch } : {}) });
      resolveFirst();
    });
    this.room.on('message', (m) => {
      if (!isPayload(m.data)) return;
      this.note(`msg ${m.offset ?? '-'} ${m.epoch ?? ''} ${messageId(m.data)}`, m.offset);
      checker.delivered(name, { room: roomName, id: messageId(m.data), ...(m.offset !== undefined ? { offset: m.offset } : {}), ...(m.epoch !== undefined ? { epoch: m.epoch } : {}) });
    });
    (this.room as unknown as GapSource).on('gap', (g) => {
      this.trace.gapEvents++;
      this.note(`gap (${g.from}, ${g.to ?? 'end'}] ${g.epoch ?? ''} ${g.reason ?? ''}`, g.from);
      checker.gap(name, { room: g.room ?? roomName, from: g.from, ...(g.epoch !== undefined ? { epoch: g.epoch } : {}), ...(g.to !== undefined ? { to: g.to } : {}) });
    });
    this.room.on('unsubscribed', () => {
      if (this.left) return;
      this.left = true;
      checker.unsubscribed(name, roomName);
    });
  }

  private note(text: string, offset?: number): void {
    const events = this.trace.events;
    if (events.length >= EVENT_LOG) events.shift();
    events.push({ at: Date.now(), text, ...(offset !== undefined ? { offset } : {}) });
  }

  /** Resolves at the first `subscribed`. */
  ready(): Promise<void> {
    return this.firstSubscribed;
  }

  /** Snapshot for the result (before `close`, which unsubscribes). */
  snapshot(): ClientTrace {
    return { ...this.trace, nodes: [...this.trace.nodes], closeCodes: [...this.trace.closeCodes], connectedAt: [...this.trace.connectedAt], events: [...this.trace.events], subscribedNow: !this.left && this.room.state === 'subscribed' };
  }

  close(): void {
    this.left = true; // closing is the end of the run, not a client leaving
    this.client.close();
  }
}

/** Publish counters of one publisher. */
export interface PublishStats {
  sent: number;
  acked: number;
  /** Failed publishes by error code (not acknowledged, so not expected by anyone). */
  failed: Record<string, number>;
}

/**
 * A publisher: a ScenarioClient that also publishes `{ p, s }` at a steady rate, without waiting
 * for acks (a slow ack never slows the stream), and records every ack in the checker.
 */
export class Publisher extends ScenarioClient {
  readonly stats: PublishStats = { sent: 0, acked: 0, failed: {} };
  private readonly inflight = new Set<Promise<void>>();
  /** When each acked publish was sent. */
  private readonly ackedSentAt: number[] = [];
  private seq = 0;

  constructor(
    name: string,
    home: number,
    urls: string[],
    private readonly roomName: string,
    private readonly checker: DeliveryChecker,
  ) {
    super(name, 'publisher', home, urls, roomName, checker);
  }

  /** Publish at `rate` messages per second until `stop()` says so; catches up after a stall. */
  async run(rate: number, stop: () => boolean): Promise<void> {
    const t0 = Date.now();
    const interval = 1000 / rate;
    while (!stop()) {
      const due = Math.floor(((Date.now() - t0) * rate) / 1000) + 1;
      while (this.seq < due) this.publishOne();
      await new Promise((r) => setTimeout(r, Math.max(1, t0 + due * interval - Date.now())));
    }
  }

  /** Acked publishes that were sent at or after `t` (ms since the epoch). */
  ackedSince(t: number): number {
    let n = 0;
    for (const at of this.ackedSentAt) if (at >= t) n++;
    return n;
  }

  /** Resolves when every publish sent has been acked or has failed. */
  async settled(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private publishOne(): void {
    const payload: Payload = { p: this.name, s: ++this.seq };
    const sentAt = Date.now();
    this.stats.sent++;
    const p = this.room.publish('m', payload).then(
      (r) => {
        this.stats.acked++;
        this.ackedSentAt.push(sentAt);
        const epoch = (r as { epoch?: string }).epoch ?? this.room.epoch;
        this.checker.published({ room: this.roomName, id: messageId(payload), sender: this.name, ...(r.offset !== undefined ? { offset: r.offset } : {}), ...(epoch !== undefined && r.offset !== undefined ? { epoch } : {}) });
      },
      (err: unknown) => {
        const code = (err as { code?: string }).code ?? 'error';
        this.stats.failed[code] = (this.stats.failed[code] ?? 0) + 1;
      },
    );
    const tracked = p.finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }
}
