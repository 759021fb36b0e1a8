import { createHmac, timingSafeEqual } from 'node:crypto';
import { CORE_CAPABILITIES, PROTOCOL_VERSION, envelopeSchema, type Envelope, type EnvelopeInput } from '../model/envelope.js';
import { nextId, randomId } from '../util/id.js';

/**
 * Why an envelope from the bus was dropped. Also the `reason` label of the drop counter.
 * `duplicate`: its sender already delivered that sequence number on that topic (a copy: redelivered
 * by the bus, or replayed by someone who can write to it); `expired`: with a cluster key, its
 * timestamp is outside the replay window; `unsequenced`: with a cluster key, it carries no sender
 * sequence, so a copy could not be told apart; `stale`: a failover plan from an older coordinator.
 */
export type DropReason = 'malformed' | 'version' | 'unknown_type' | 'unsigned' | 'forged' | 'duplicate' | 'expired' | 'unsequenced' | 'stale';

/** Every drop reason, for metrics that start at zero. */
export const DROP_REASONS: readonly DropReason[] = ['malformed', 'version', 'unknown_type', 'unsigned', 'forged', 'duplicate', 'expired', 'unsequenced', 'stale'];

export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; reason: DropReason; detail?: string };

export interface EnvelopeCodecOptions {
  nodeId: string;
  /** Shared secret. When set, envelopes are signed with HMAC-SHA256 and unsigned or forged ones are refused. */
  clusterKey?: string | undefined;
  capabilities?: readonly string[];
  /** Topics whose last sequence number is remembered for `prevSeq` (default 100,000; the least recent is forgotten). */
  maxTopics?: number;
}

const MAGIC = 'SY';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const KNOWN_TYPES = new Set(['deliver', 'failover', 'control', 'query', 'reply']);

/**
 * Frames envelopes for the bus: `SY<version>.<signature or ->.<json>`. The version and
 * signature sit outside the JSON so a node can refuse what it cannot read, or what is not
 * signed with the cluster key, before parsing it. The signature covers the topic as well as
 * the JSON, so a signed envelope copied onto another topic is refused as forged.
 *
 * Every encoded envelope gets the sender's run id, a sequence number (strictly increasing per
 * run) and the sequence number of the sender's previous envelope on the same topic: receivers
 * drop copies and notice a missing envelope (see `SenderWindows`).
 */
export class EnvelopeCodec {
  private readonly key: Buffer | undefined;
  private readonly caps: string[];
  /** This sender's run: random per codec, so a restarted process never reuses sequence numbers. */
  readonly run = randomId(9);
  private seq = 0;
  /** Last sequence number sent per topic, least recently used first. */
  private readonly lastOnTopic = new Map<string, number>();
  /** `{"from":"<this sender>",` as bytes. */
  private readonly ownPrefix: Uint8Array;

  constructor(private readonly options: EnvelopeCodecOptions) {
    this.key = options.clusterKey ? Buffer.from(options.clusterKey, 'utf8') : undefined;
    this.caps = [...new Set([...CORE_CAPABILITIES, ...(options.capabilities ?? [])])];
    this.ownPrefix = encoder.encode(`{"from":${JSON.stringify(options.nodeId)},`);
  }

  get signing(): boolean {
    return this.key !== undefined;
  }

  /** Complete an envelope with version, id, sender and time. */
  build<T extends Envelope>(input: EnvelopeInput<T>): T {
    // `from` first: encoded, the sender is readable at a fixed place without parsing (see `isOwn`)
    return {
      from: this.options.nodeId,
      ...input,
      v: PROTOCOL_VERSION,
      id: input.id ?? nextId(),
      caps: this.caps,
      ts: Date.now(),
    } as unknown as T;
  }

  /**
   * True when `bytes` is an envelope this sender encoded (its own echo from the bus), told from
   * the framing and the first JSON field without decoding or verifying anything: a node drops
   * its own echoes at the cost of a few byte comparisons. (A forged envelope claiming to be from
   * this node is dropped too, which is what decoding it would have done.)
   */
  isOwn(bytes: Uint8Array): boolean {
    const prefix = this.ownPrefix;
    // SY<version>.<signature or ->.<json>: find the second dot
    let dots = 0;
    let i = 2;
    for (; i < bytes.length && i < 128; i++) if (bytes[i] === 0x2e && ++dots === 2) break;
    if (dots < 2) return false;
    const start = i + 1;
    if (bytes.length < start + prefix.length) return false;
    for (let k = 0; k < prefix.length; k++) if (bytes[start + k] !== prefix[k]) return false;
    return true;
  }

  /** Frame `envelope` for `topic`, with the next sequence number of this run. */
  encode(envelope: Envelope, topic: string): Uint8Array {
    const seq = ++this.seq;
    const prevSeq = this.lastOnTopic.get(topic) ?? 0;
    if (prevSeq !== 0) this.lastOnTopic.delete(topic);
    this.lastOnTopic.set(topic, seq);
    if (this.lastOnTopic.size > (this.options.maxTopics ?? 100_000)) this.lastOnTopic.delete(this.lastOnTopic.keys().next().value as string);
    const body = JSON.stringify(envelope);
    const json = `${body.slice(0, -1)},"run":"${this.run}","seq":${seq},"prevSeq":${prevSeq}}`;
    const sig = this.key ? this.sign(topic, json) : '-';
    return encoder.encode(`${MAGIC}${envelope.v}.${sig}.${json}`);
  }

  /** Read an envelope that arrived on `topic`. */
  decode(bytes: Uint8Array, topic: string): DecodeResult {
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return { ok: false, reason: 'malformed', detail: 'not UTF-8' };
    }
    if (!text.startsWith(MAGIC)) return { ok: false, reason: 'malformed', detail: 'no magic' };
    const dot1 = text.indexOf('.', MAGIC.length);
    const dot2 = dot1 < 0 ? -1 : text.indexOf('.', dot1 + 1);
    if (dot1 < 0 || dot2 < 0) return { ok: false, reason: 'malformed', detail: 'bad framing' };
    const version = Number(text.slice(MAGIC.length, dot1));
    if (!Number.isInteger(version) || version < 1) return { ok: false, reason: 'malformed', detail: 'bad version' };
    if (version > PROTOCOL_VERSION) return { ok: false, reason: 'version', detail: `v${version}` };
    const sig = text.slice(dot1 + 1, dot2);
    const json = text.slice(dot2 + 1);
    if (this.key) {
      if (sig === '-' || sig.length === 0) return { ok: false, reason: 'unsigned' };
      const expected = Buffer.from(this.sign(topic, json), 'utf8');
      const given = Buffer.from(sig, 'utf8');
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'forged' };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(json);
    } catch {
      return { ok: false, reason: 'malformed', detail: 'bad JSON' };
    }
    const parsed = envelopeSchema.safeParse(raw);
    if (!parsed.success) {
      const type = (raw as { type?: unknown } | null)?.type;
      if (typeof type === 'string' && !KNOWN_TYPES.has(type)) return { ok: false, reason: 'unknown_type', detail: type };
      return { ok: false, reason: 'malformed', detail: parsed.error.issues[0]?.message };
    }
    if (parsed.data.v !== version) return { ok: false, reason: 'malformed', detail: 'version mismatch' };
    return { ok: true, envelope: parsed.data };
  }

  private sign(topic: string, json: string): string {
    return createHmac('sha256', this.key as Buffer).update(topic).update('\n').update(json).digest('base64url');
  }
}
