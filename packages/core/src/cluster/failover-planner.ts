import type { Logger } from '../logger.js';
import type { FailoverEnvelope, EnvelopeInput } from '../model/envelope.js';
import type { NodeInfo } from '../model/node.js';
import type { SessionRecord } from '../model/session.js';
import type { ClusterMetrics } from '../metrics/cluster-metrics.js';
import type { Lease } from '../ports/registry.js';
import type { SessionStore } from '../ports/sessions.js';
import type { BalancerStrategy, FailoverReason, FailoverStrategy } from '../strategy/types.js';

interface Pending {
  reason: FailoverReason;
  timer: ReturnType<typeof setTimeout> | undefined;
  cancelIfBack: boolean;
  earlyWhenIdle: boolean;
  running: boolean;
}

export interface FailoverPlannerDeps {
  failover: FailoverStrategy;
  balancer: BalancerStrategy;
  sessions: SessionStore;
  metrics: ClusterMetrics;
  logger: Logger;
  retryMs: number;
  /** The current view of a node. */
  node(id: string): NodeInfo | undefined;
  healthyNodes(): NodeInfo[];
  /** Renew the coordinator lease; null when it was lost. */
  renewLease(): Promise<Lease | null>;
  /** Announce an executed plan to every node. */
  announce(plan: EnvelopeInput<FailoverEnvelope>): Promise<void>;
}

/**
 * The coordinator's failover work: decide when (the strategy's timing), then move a dead or
 * draining node's sessions with one compare-and-set reassignment, under a renewed lease, and
 * announce the plan with the lease's fencing token. Each node is handled once per failure;
 * seeing it alive again resets that.
 */
export class FailoverPlanner {
  private readonly pending = new Map<string, Pending>();
  /** Nodes whose failover ran or is pending, by reason. */
  private readonly handled = new Map<string, FailoverReason>();
  private stopped = false;

  constructor(private readonly deps: FailoverPlannerDeps) {}

  isPending(nodeId: string): boolean {
    return this.pending.has(nodeId);
  }

  /** The node is alive again: a later failure is a new one. */
  forget(nodeId: string): void {
    this.handled.delete(nodeId);
  }

  /** Another coordinator handled this node. */
  markHandled(nodeId: string, reason: FailoverReason): void {
    this.handled.set(nodeId, reason);
  }

  /** One coordinator tick: schedule what is new, cancel or hurry what is waiting. */
  review(nodes: Iterable<NodeInfo>): void {
    for (const node of nodes) {
      const reason: FailoverReason | undefined = node.state === 'dead' ? 'dead' : node.state === 'draining' ? 'draining' : undefined;
      if (reason && this.handled.get(node.id) !== reason) this.schedule(node, reason);
    }
    for (const [id, p] of this.pending) {
      const node = this.deps.node(id);
      if (p.cancelIfBack && node?.state === 'ready') {
        this.cancel(id);
        this.deps.logger.info({ node: id }, 'failover cancelled: node came back');
      } else if (p.earlyWhenIdle && node && node.load.connections === 0 && !p.running) {
        if (p.timer) clearTimeout(p.timer);
        void this.run(id);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.pending.keys()]) this.cancel(id);
  }

  private cancel(id: string): void {
    const p = this.pending.get(id);
    if (p?.timer) clearTimeout(p.timer);
    this.pending.delete(id);
  }

  private schedule(node: NodeInfo, reason: FailoverReason): void {
    const existing = this.pending.get(node.id);
    if (existing?.reason === reason) return;
    if (existing?.timer) clearTimeout(existing.timer);
    this.handled.set(node.id, reason);
    const timing = this.deps.failover.timing({ node, reason });
    const p: Pending = { reason, timer: undefined, cancelIfBack: false, earlyWhenIdle: false, running: false };
    this.pending.set(node.id, p);
    if (timing.action === 'now') {
      void this.run(node.id);
      return;
    }
    p.cancelIfBack = timing.cancelIfBack;
    p.earlyWhenIdle = timing.earlyWhenIdle;
    p.timer = setTimeout(() => void this.run(node.id), timing.ms);
    this.deps.logger.info({ node: node.id, reason, waitMs: timing.ms, strategy: this.deps.failover.name }, 'failover scheduled');
  }

  private retry(nodeId: string, p: Pending): void {
    p.running = false;
    if (!this.stopped) p.timer = setTimeout(() => void this.run(nodeId), this.deps.retryMs);
  }

  /** Move the node's sessions. Retried later when no node can take them or the store fails. */
  private async run(nodeId: string): Promise<void> {
    const p = this.pending.get(nodeId);
    if (!p || p.running || this.stopped) return;
    p.running = true;
    p.timer = undefined;
    const { logger, metrics, failover } = this.deps;
    try {
      const lease = await this.deps.renewLease();
      if (!lease) {
        this.pending.delete(nodeId);
        this.handled.delete(nodeId); // the next coordinator decides
        return;
      }
      const candidates = this.deps.healthyNodes().filter((n) => n.id !== nodeId);
      if (candidates.length === 0) {
        logger.warn({ node: nodeId }, 'failover postponed: no healthy node to take the sessions');
        this.retry(nodeId, p);
        return;
      }
      const sessions = await this.deps.sessions.byNode(nodeId);
      const assignments = this.assign(sessions, candidates);
      const result = sessions.length > 0 ? await this.deps.sessions.reassign(nodeId, assignments) : { moved: {}, skipped: [] };
      const moved = Object.keys(result.moved).length;
      metrics.failovers.inc({ reason: p.reason, strategy: failover.name });
      metrics.sessionsReassigned.inc(moved);
      logger.info({ node: nodeId, reason: p.reason, moved, skipped: result.skipped.length, token: lease.token }, 'failover executed');
      this.pending.delete(nodeId);
      await this.deps.announce({ type: 'failover', node: nodeId, reason: p.reason, strategy: failover.name, token: lease.token, assignments: result.moved });
    } catch (err) {
      logger.error({ err, node: nodeId }, 'failover failed; will retry');
      this.retry(nodeId, p);
    }
  }

  /** Session id -> node id. Picks are charged to a working copy so load-aware balancers spread the sessions. */
  private assign(sessions: readonly SessionRecord[], candidates: readonly NodeInfo[]): Record<string, string> {
    const working = candidates.map((n) => ({ ...n, load: { ...n.load } }));
    const pick = (s: SessionRecord): NodeInfo => {
      const chosen = this.deps.balancer.pick(working, { sessionId: s.id, userId: s.userId, key: s.userId ?? s.id });
      const w = working.find((n) => n.id === chosen.id);
      if (w) w.load.connections++;
      return chosen;
    };
    if (this.deps.failover.assign) return this.deps.failover.assign(sessions, working, pick);
    return Object.fromEntries(sessions.map((s) => [s.id, pick(s).id]));
  }
}
