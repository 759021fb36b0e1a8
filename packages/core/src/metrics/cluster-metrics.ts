import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AdapterObserver } from '../ports/observer.js';
import { DROP_REASONS } from '../cluster/envelope-codec.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Every metric of one cluster node, in its own prom-client registry (never the global one),
 * prefixed `switchyard_`, base units, no room or user labels. Transports add theirs to
 * `registry`.
 */
export class ClusterMetrics {
  readonly registry: Registry;
  readonly connections: Gauge;
  readonly nodes: Gauge<'state'>;
  readonly healthyNodes: Gauge;
  readonly coordinator: Gauge;
  readonly assignments: Counter<'strategy' | 'reason' | 'local'>;
  readonly pickDuration: Histogram;
  readonly heartbeatDuration: Histogram;
  readonly heartbeatFailures: Counter;
  readonly publishDuration: Histogram;
  readonly envelopesPublished: Counter<'type'>;
  readonly envelopesReceived: Counter<'type'>;
  readonly envelopesDropped: Counter<'reason'>;
  readonly busLatency: Histogram;
  readonly nodeDeaths: Counter;
  readonly failovers: Counter<'reason' | 'strategy'>;
  readonly sessionsReassigned: Counter;
  readonly adapterEvents: Counter<'adapter' | 'event'>;
  readonly scaleAdvice: Counter<'direction'>;
  readonly rebalanceAdvice: Counter;
  readonly envelopeGaps: Counter;
  readonly roomGaps: Counter<'reason'>;
  readonly roomReordered: Counter;
  readonly roomFilled: Counter;
  readonly roomDuplicates: Counter;
  readonly fenced: Gauge;
  readonly fences: Counter<'reason'>;
  readonly observer: AdapterObserver;

  constructor(options: { registry?: Registry; nodeId: string; defaultMetrics?: boolean }) {
    this.registry = options.registry ?? new Registry();
    if (!options.registry) this.registry.setDefaultLabels({ node: options.nodeId });
    const r = [this.registry];
    this.connections = new Gauge({ name: 'switchyard_connections', help: 'Open client connections on this node', registers: r });
    this.nodes = new Gauge({ name: 'switchyard_cluster_nodes', help: 'Nodes known to this node, by state', labelNames: ['state'], registers: r });
    this.healthyNodes = new Gauge({ name: 'switchyard_cluster_healthy_nodes', help: 'Nodes in state ready', registers: r });
    this.coordinator = new Gauge({ name: 'switchyard_coordinator', help: '1 while this node holds the coordinator lease', registers: r });
    this.assignments = new Counter({
      name: 'switchyard_balancer_assignments_total',
      help: 'Placements of connecting clients, by strategy and reason (affinity, balancer, local)',
      labelNames: ['strategy', 'reason', 'local'],
      registers: r,
    });
    this.pickDuration = new Histogram({ name: 'switchyard_balancer_pick_duration_seconds', help: 'Time to place a client', buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05], registers: r });
    this.heartbeatDuration = new Histogram({ name: 'switchyard_heartbeat_duration_seconds', help: 'Registry heartbeat round trip', buckets: LATENCY_BUCKETS, registers: r });
    this.heartbeatFailures = new Counter({ name: 'switchyard_heartbeat_failures_total', help: 'Heartbeats the registry refused or that failed', registers: r });
    this.publishDuration = new Histogram({ name: 'switchyard_bus_publish_duration_seconds', help: 'Time for the bus to accept a publish', buckets: LATENCY_BUCKETS, registers: r });
    this.envelopesPublished = new Counter({ name: 'switchyard_envelopes_published_total', help: 'Envelopes published on the bus', labelNames: ['type'], registers: r });
    this.envelopesReceived = new Counter({ name: 'switchyard_envelopes_received_total', help: 'Envelopes received from the bus and accepted', labelNames: ['type'], registers: r });
    this.envelopesDropped = new Counter({
      name: 'switchyard_envelopes_dropped_total',
      help: 'Envelopes from the bus dropped: malformed, version, unknown_type, unsigned, forged, duplicate (a copy or replay), expired (outside the replay window), unsequenced, stale (old coordinator)',
      labelNames: ['reason'],
      registers: r,
    });
    this.busLatency = new Histogram({ name: 'switchyard_bus_latency_seconds', help: 'Sender timestamp to receipt, for envelopes from other nodes', buckets: LATENCY_BUCKETS, registers: r });
    this.nodeDeaths = new Counter({ name: 'switchyard_node_deaths_total', help: 'Nodes declared dead by this node', registers: r });
    this.failovers = new Counter({ name: 'switchyard_failovers_total', help: 'Failovers executed by this node as coordinator', labelNames: ['reason', 'strategy'], registers: r });
    this.sessionsReassigned = new Counter({ name: 'switchyard_sessions_reassigned_total', help: 'Sessions moved by failovers this node coordinated', registers: r });
    this.adapterEvents = new Counter({ name: 'switchyard_adapter_events_total', help: 'Adapter events: buffered/dropped/flushed publishes, reconnects, errors', labelNames: ['adapter', 'event'], registers: r });
    this.scaleAdvice = new Counter({ name: 'switchyard_scale_advice_total', help: 'Scale-up and scale-down advice emitted', labelNames: ['direction'], registers: r });
    this.rebalanceAdvice = new Counter({ name: 'switchyard_rebalance_advice_total', help: 'Rebalance recommendations emitted', registers: r });
    this.envelopeGaps = new Counter({ name: 'switchyard_envelope_gaps_total', help: "Jumps in a sender's sequence on a topic: at least one envelope never arrived each time", registers: r });
    this.roomGaps = new Counter({
      name: 'switchyard_room_gaps_total',
      help: 'Gaps in rooms with history that this node told its clients about, by reason (trimmed, epoch, unavailable, malformed)',
      labelNames: ['reason'],
      registers: r,
    });
    this.roomReordered = new Counter({ name: 'switchyard_room_reordered_total', help: 'Room messages that arrived ahead of a missing one and waited for it', registers: r });
    this.roomFilled = new Counter({ name: 'switchyard_room_filled_total', help: 'Room messages read from history to fill a hole or catch up', registers: r });
    this.roomDuplicates = new Counter({ name: 'switchyard_room_duplicates_total', help: 'Room messages dropped because this node had already delivered their offset', registers: r });
    this.fenced = new Gauge({ name: 'switchyard_fenced', help: '1 while this node has fenced itself (cut off from the registry or the bus: serves no client)', registers: r });
    this.fences = new Counter({ name: 'switchyard_fences_total', help: 'Times this node fenced itself, by reason (registry, bus, declared_dead)', labelNames: ['reason'], registers: r });
    this.observer = { count: (adapter, event, n = 1) => this.adapterEvents.inc({ adapter, event }, n) };
    for (const reason of DROP_REASONS) this.envelopesDropped.inc({ reason }, 0);
    for (const reason of ['trimmed', 'epoch', 'unavailable', 'malformed']) this.roomGaps.inc({ reason }, 0);
    for (const reason of ['registry', 'bus', 'declared_dead']) this.fences.inc({ reason }, 0);
    // prom-client's default names already say what they are (`process_cpu_seconds_total`,
    // `nodejs_eventloop_lag_seconds`): the prefix is only ours, never `switchyard_process_process_...`
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_' });
  }
}
