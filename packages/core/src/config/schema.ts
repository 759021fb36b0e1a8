import { z } from 'zod';

export { parseConfig } from './parse.js';

/** A strategy instance: an object with a name and at least one method (own or inherited). Kept by reference. */
const strategyObject = z.custom<{ name: string }>((v) => {
  if (typeof v !== 'object' || v === null || typeof (v as { name?: unknown }).name !== 'string') return false;
  for (let o: object | null = v; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    if (Object.getOwnPropertyNames(o).some((k) => k !== 'constructor' && typeof (v as Record<string, unknown>)[k] === 'function')) return true;
  }
  return false;
});

const strategyRef = z.union([
  z.string().min(1),
  strategyObject,
  z.object({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }),
]);

/** Scaling advisor thresholds (utilization = connections / capacity over ready nodes). */
export const scalingSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    minNodes: z.number().int().min(1).default(1),
    maxNodes: z.number().int().min(1).default(16),
    /** Scale up when utilization stays above this. */
    scaleUpAt: z.number().gt(0).max(1).default(0.75),
    /** Scale down when utilization stays below this. */
    scaleDownAt: z.number().min(0).lt(1).default(0.3),
    /** Consecutive evaluations past a threshold before advising (hysteresis). */
    sustain: z.number().int().min(1).default(3),
    /** No new advice for this long after one, ms. */
    cooldownMs: z.number().int().min(0).default(60_000),
    /** How often to evaluate, ms. */
    intervalMs: z.number().int().min(10).default(5_000),
    /** Target utilization when computing the desired node count. */
    target: z.number().gt(0).max(1).default(0.6),
  })
  .refine((s) => s.scaleDownAt < s.scaleUpAt, { message: 'scaleDownAt must be below scaleUpAt', path: ['scaleDownAt'] })
  .refine((s) => s.minNodes <= s.maxNodes, { message: 'minNodes must not exceed maxNodes', path: ['minNodes'] });

export const rebalanceSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Advise when the most loaded node's utilization exceeds the least loaded one's by this much (0..1). */
  threshold: z.number().gt(0).max(1).default(0.2),
  intervalMs: z.number().int().min(10).default(10_000),
});

/** Ordering of rooms with history on each node (see docs/concepts.md, delivery guarantees). */
export const deliverySchema = z.strictObject({
  /** How long a room message that skipped ahead waits for the missing one before history is read, ms. */
  holdMs: z.number().int().min(0).default(100),
  /** Room messages waiting per room; past it, history is read at once. */
  maxPending: z.number().int().min(1).default(1000),
  /** A hole that history cannot fill for this long (history unreachable) becomes an explicit gap, ms. */
  maxWaitMs: z.number().int().min(0).default(10_000),
  /** Entries per history read when filling a hole. */
  readLimit: z.number().int().min(1).default(500),
  /** Rooms quiet for this long have their history checked for a lost last message, ms (0: never). */
  checkIntervalMs: z.number().int().min(0).default(30_000),
});

/** An OpenTelemetry `TracerProvider` (anything with `getTracer`), kept by reference. */
const tracerProvider = z.custom<{ getTracer(name: string, version?: string): unknown }>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { getTracer?: unknown }).getTracer === 'function',
);

/**
 * OpenTelemetry spans for publishes and deliveries: `true` uses the globally registered
 * provider when there is one, `false` turns tracing off, `{ tracerProvider }` uses that one.
 */
export const tracingSchema = z.union([z.boolean(), z.strictObject({ tracerProvider: tracerProvider.optional() })], {
  error: 'expected true, false or { tracerProvider } (an OpenTelemetry TracerProvider: an object with getTracer)',
});

/** Everything a cluster node is configured with. Defaults live here. */
export const clusterConfigSchema = z
  .strictObject({
    /** Unique id of this node; random when absent. */
    nodeId: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits, _ . : - only, at most 64').optional(),
    /** Where clients reach this node (for the WebSocket transport ws://host:port/path; any URL a transport's clients can follow). May be set later, once listening. */
    url: z.string().default(''),
    region: z.string().min(1).optional(),
    weight: z.number().positive().default(1),
    capacity: z.number().int().positive().default(10_000),
    heartbeatIntervalMs: z.number().int().min(10).default(1_000),
    /** A node with no heartbeat for this long is dead. */
    nodeTimeoutMs: z.number().int().min(30).default(5_000),
    /** Dead nodes stay listed (state dead) for this long. */
    tombstoneMs: z.number().int().min(0).default(60_000),
    leaseTtlMs: z.number().int().min(30).optional(),
    /** Deadline of each registry call (heartbeat, list, lease), ms; a call that does not answer is a failure. Default: max(heartbeatIntervalMs, nodeTimeoutMs / 3). */
    registryTimeoutMs: z.number().int().min(1).optional(),
    /**
     * With no successful heartbeat for this long, the node fences itself (closes its clients, refuses
     * new ones) so that it has stopped serving before the others may declare it dead, ms. Must be below
     * nodeTimeoutMs. Default: nodeTimeoutMs - max(heartbeatIntervalMs, nodeTimeoutMs / 5).
     */
    fenceAfterMs: z.number().int().min(1).optional(),
    /** Fence also when the bus has been down for fenceAfterMs (its clients then move to nodes that have the bus). */
    fenceOnBusLoss: z.boolean().default(true),
    /** With a cluster key: envelopes whose timestamp is further than this from the receiver's clock are refused as replays, ms. */
    replayWindowMs: z.number().int().min(1000).default(60_000),
    delivery: deliverySchema.prefault({}),
    /** Session and affinity TTL, ms. */
    sessionTtlMs: z.number().int().min(100).default(24 * 3600 * 1000),
    /** Shared secret: when set, envelopes are HMAC-signed and unsigned or forged ones dropped. */
    clusterKey: z.string().min(16, 'at least 16 characters').optional(),
    balancer: strategyRef.default('least-connections'),
    affinity: strategyRef.default('none'),
    failover: strategyRef.default('immediate'),
    rebalance: rebalanceSchema.prefault({}),
    scaling: scalingSchema.prefault({}),
    /** Labels published with the node record (version, host). */
    meta: z.record(z.string(), z.string()).default({}),
    /** Extra capabilities to advertise (a transport adds its own). */
    capabilities: z.array(z.string()).default([]),
    /** OpenTelemetry tracing (see `tracingSchema`); needs `@opentelemetry/api` and a registered SDK to record anything. */
    tracing: tracingSchema.default(true),
  })
  .refine((c) => c.nodeTimeoutMs >= 2 * c.heartbeatIntervalMs, {
    message: 'must be at least twice heartbeatIntervalMs',
    path: ['nodeTimeoutMs'],
  })
  .refine((c) => c.fenceAfterMs === undefined || c.fenceAfterMs < c.nodeTimeoutMs, {
    message: 'must be below nodeTimeoutMs (the node must stop serving before the others may declare it dead)',
    path: ['fenceAfterMs'],
  });

/** The registry call deadline and the fence delay a configuration implies. */
export function livenessTimes(c: Pick<ClusterConfig, 'heartbeatIntervalMs' | 'nodeTimeoutMs' | 'registryTimeoutMs' | 'fenceAfterMs'>): { registryTimeoutMs: number; fenceAfterMs: number } {
  const registryTimeoutMs = c.registryTimeoutMs ?? Math.max(c.heartbeatIntervalMs, Math.floor(c.nodeTimeoutMs / 3));
  const fenceAfterMs = c.fenceAfterMs ?? Math.max(1, c.nodeTimeoutMs - Math.max(c.heartbeatIntervalMs, Math.ceil(c.nodeTimeoutMs / 5)));
  return { registryTimeoutMs, fenceAfterMs };
}

export type ClusterConfigInput = z.input<typeof clusterConfigSchema>;
export type ClusterConfig = z.output<typeof clusterConfigSchema>;
