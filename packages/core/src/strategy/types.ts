import type { NodeInfo } from '../model/node.js';
import type { SessionRecord } from '../model/session.js';

/** What is known about a client when placing it. Every field is optional. */
export interface PlacementContext {
  /** The authenticated user, when known at the handshake. */
  userId?: string | undefined;
  /** A returning client's session id. */
  sessionId?: string | undefined;
  /** The client's IP address. */
  ip?: string | undefined;
  /** The client's region (from a header, a geo lookup, a query parameter). */
  region?: string | undefined;
  /** Any key the application wants to hash on (tenant, document id). */
  key?: string | undefined;
  /** Nodes not to place on (e.g. the one the client just lost). */
  exclude?: readonly string[] | undefined;
  /** The session record for `sessionId` when the caller already read it (null: there is none). */
  session?: SessionRecord | null | undefined;
}

/** Picks a node for a new connection among healthy candidates. */
export interface BalancerStrategy {
  readonly name: string;
  /** Choose one of `nodes` (all healthy, never empty) for the client described by `ctx`. */
  pick(nodes: readonly NodeInfo[], ctx: PlacementContext): NodeInfo;
}

/** Derives the affinity key of a client, and may narrow the candidates (region). */
export interface AffinityStrategy {
  readonly name: string;
  /** The key under which the client's node is remembered, or null for no stickiness. */
  key(ctx: PlacementContext): string | null;
  /** Narrow healthy candidates for this client; return them all when no preference applies. */
  candidates?(nodes: readonly NodeInfo[], ctx: PlacementContext): readonly NodeInfo[];
}

export type FailoverReason = 'dead' | 'draining';

/** When to move a failed or draining node's sessions. */
export type FailoverTiming =
  | { action: 'now' }
  /** Wait up to `ms`; if `cancelIfBack`, a node that becomes ready again keeps its sessions; if `earlyWhenIdle`, go as soon as the node has no connections left. */
  | { action: 'wait'; ms: number; cancelIfBack: boolean; earlyWhenIdle: boolean };

export interface FailoverInput {
  node: NodeInfo;
  reason: FailoverReason;
}

/** Plans when and where a dead or draining node's sessions go. */
export interface FailoverStrategy {
  readonly name: string;
  timing(input: FailoverInput): FailoverTiming;
  /**
   * Session id -> new node id. `pick` is the cluster's balancer over `candidates`, already
   * charged with earlier picks so the load spreads. Default: one `pick` per session.
   */
  assign?(sessions: readonly SessionRecord[], candidates: readonly NodeInfo[], pick: (s: SessionRecord) => NodeInfo): Record<string, string>;
}

export type StrategyKind = 'balancer' | 'affinity' | 'failover';

export interface StrategyTypes {
  balancer: BalancerStrategy;
  affinity: AffinityStrategy;
  failover: FailoverStrategy;
}

/** Builds a strategy from its options. */
export type StrategyFactory<K extends StrategyKind> = (options: Record<string, unknown>) => StrategyTypes[K];

/** How configuration names a strategy: a name, a name with options, or the object itself. */
export type StrategyRef<K extends StrategyKind> = string | { name: string; options?: Record<string, unknown> } | StrategyTypes[K];
