import { z } from 'zod';
import type { Address } from './address.js';

/** The envelope protocol version this build writes. It reads every version up to this one. */
export const PROTOCOL_VERSION = 1;

/** Capabilities this build of core advertises in every envelope and node record. */
export const CORE_CAPABILITIES = ['history', 'signed', 'failover', 'query'] as const;

export const addressSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('room'), room: z.string().min(1) }),
  z.object({ kind: z.literal('user'), userId: z.string().min(1) }),
  z.object({ kind: z.literal('connection'), connectionId: z.string().min(1), nodeId: z.string().optional() }),
  z.object({ kind: z.literal('node'), nodeId: z.string().min(1) }),
]);

const base = {
  v: z.number().int().positive(),
  /** Unique id of this envelope. */
  id: z.string().min(1),
  /** Sending node. */
  from: z.string().min(1),
  /** Sender's capabilities. */
  caps: z.array(z.string()).default([]),
  /** Milliseconds since epoch at the sender. */
  ts: z.number(),
  /** Optional W3C trace context and other small headers. */
  headers: z.record(z.string(), z.string()).optional(),
  /** The sender's run: random per process start, so its sequence numbers never repeat. */
  run: z.string().min(1).max(64).optional(),
  /** The sender's sequence number, strictly increasing within its run (set when the envelope goes on the bus). */
  seq: z.number().int().positive().optional(),
  /** `seq` of the sender's previous envelope on the same topic (0: none or forgotten): a jump means one was lost. */
  prevSeq: z.number().int().nonnegative().optional(),
};

/** An application message for some sockets. `data` is opaque to core. */
export const deliverEnvelopeSchema = z.object({
  ...base,
  type: z.literal('deliver'),
  to: addressSchema,
  /** Connection ids that must not receive it. */
  except: z.array(z.string()).optional(),
  /** Room history position, when the room keeps history. */
  offset: z.number().int().nonnegative().optional(),
  epoch: z.string().optional(),
  /** Offset of the entry before this one in the room's stream (absent: `offset - 1`, contiguous stores). */
  prev: z.number().int().nonnegative().optional(),
  /** The payload as the transport wants it (for transport-ws: the encoded client frame). */
  data: z.unknown(),
});

/** A failover the coordinator decided on: sessions of `node` now belong to the named nodes. */
export const failoverEnvelopeSchema = z.object({
  ...base,
  type: z.literal('failover'),
  node: z.string().min(1),
  reason: z.enum(['dead', 'draining']),
  strategy: z.string(),
  /** Fencing token of the coordinator lease that made the plan. */
  token: z.number().int(),
  assignments: z.record(z.string(), z.string()),
});

/** Membership and coordination notices that are not heartbeats. */
export const controlEnvelopeSchema = z.object({
  ...base,
  type: z.literal('control'),
  action: z.enum(['drain', 'rebalance', 'disconnect', 'join-room', 'leave-room']),
  /** Target node when the action is for one node. */
  node: z.string().optional(),
  args: z.record(z.string(), z.unknown()).default({}),
});

/** A cluster-wide question (e.g. "which connections are in room r?"), answered by each node's handler. */
export const queryEnvelopeSchema = z.object({
  ...base,
  type: z.literal('query'),
  qid: z.string().min(1),
  name: z.string().min(1),
  args: z.unknown(),
});

/** One node's answer to a query, sent to the asking node's inbox. */
export const replyEnvelopeSchema = z.object({
  ...base,
  type: z.literal('reply'),
  qid: z.string().min(1),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const envelopeSchema = z.discriminatedUnion('type', [
  deliverEnvelopeSchema,
  failoverEnvelopeSchema,
  controlEnvelopeSchema,
  queryEnvelopeSchema,
  replyEnvelopeSchema,
]);

export type Envelope = z.infer<typeof envelopeSchema>;
export type DeliverEnvelope = z.infer<typeof deliverEnvelopeSchema>;
export type FailoverEnvelope = z.infer<typeof failoverEnvelopeSchema>;
export type ControlEnvelope = z.infer<typeof controlEnvelopeSchema>;
export type QueryEnvelope = z.infer<typeof queryEnvelopeSchema>;
export type ReplyEnvelope = z.infer<typeof replyEnvelopeSchema>;
export type EnvelopeType = Envelope['type'];

/** Fields the codec fills in; callers give the rest. */
export type EnvelopeInput<T extends Envelope = Envelope> = T extends Envelope
  ? Omit<T, 'v' | 'id' | 'from' | 'caps' | 'ts' | 'run' | 'seq' | 'prevSeq'> & { id?: string }
  : never;

export type { Address };
