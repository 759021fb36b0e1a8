import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AdapterObserver } from '../ports/observer.js';

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
      help: 'Envelopes dropped: malformed, version, unknown_type, unsigned, forged, stale',
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
    this.observer = { count: (adapter, event, n = 1) => this.adapterEvents.inc({ adapter, event }, n) };
    for (const reason of ['malformed', 'version', 'unknown_type', 'unsigned', 'forged', 'stale']) this.envelopesDropped.inc({ reason }, 0);
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_process_' });
  }
}
