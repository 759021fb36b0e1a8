import { Counter, Gauge, type Registry } from 'prom-client';

function getOr<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Transport metrics, registered in the cluster's registry next to core's. No room or user labels. */
export class TransportMetrics {
  readonly connections: Gauge;
  readonly accepted: Counter;
  readonly closed: Counter<'code'>;
  readonly upgradesRefused: Counter<'reason'>;
  readonly received: Counter;
  readonly sent: Counter;
  readonly batches: Counter;
  readonly batchedMessages: Counter;
  readonly dropped: Counter<'reason'>;
  readonly slowConsumers: Counter;
  readonly rateLimited: Counter;
  readonly badFrames: Counter<'reason'>;
  readonly authFailures: Counter<'stage'>;
  readonly redirects: Counter<'reason'>;
  readonly heartbeatTimeouts: Counter;
  readonly replayed: Counter;
  readonly gaps: Counter<'reason'>;
  readonly fencedClosed: Counter;

  constructor(registry: Registry) {
    const r = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      getOr(registry, name, () => new Counter<L>({ name, help, labelNames, registers: r }));
    this.connections = getOr(registry, 'switchyard_ws_connections', () => new Gauge({ name: 'switchyard_ws_connections', help: 'Open WebSocket connections (handshake done)', registers: r }));
    this.accepted = counter('switchyard_ws_connections_accepted_total', 'Connections that completed the hello');
    this.closed = counter('switchyard_ws_connections_closed_total', 'Closed connections by close code', ['code']);
    this.upgradesRefused = counter('switchyard_ws_upgrades_refused_total', 'Upgrade requests refused: origin, ip_limit, auth, draining', ['reason']);
    this.received = counter('switchyard_ws_messages_received_total', 'Client frames received');
    this.sent = counter('switchyard_ws_messages_sent_total', 'msg frames written to sockets (inside batches included)');
    this.batches = counter('switchyard_ws_batches_total', 'batch frames written');
    this.batchedMessages = counter('switchyard_ws_batched_messages_total', 'msg frames that went out inside a batch');
    this.dropped = counter('switchyard_ws_frames_dropped_total', 'Frames dropped: queue_full (low priority), closed', ['reason']);
    this.slowConsumers = counter('switchyard_ws_slow_consumers_total', 'Connections closed with 4009 because their send queue overflowed');
    this.rateLimited = counter('switchyard_ws_rate_limited_total', 'Client frames dropped by the per-connection rate limit');
    this.badFrames = counter('switchyard_ws_bad_frames_total', 'Bad client frames: bad_json, unknown_type, bad_fields, binary, too_large, too_deep', ['reason']);
    this.authFailures = counter('switchyard_ws_auth_failures_total', 'Refused authentications, at the upgrade or the hello', ['stage']);
    this.redirects = counter('switchyard_ws_redirects_total', 'Clients sent to another node', ['reason']);
    this.heartbeatTimeouts = counter('switchyard_ws_heartbeat_timeouts_total', 'Connections closed with 4010 (no pong or no hello in time)');
    this.replayed = counter('switchyard_ws_replayed_messages_total', 'History messages replayed on join or resume');
    this.gaps = counter('switchyard_ws_gaps_total', 'gap frames sent: a client told that room messages will not come (trimmed, epoch, unavailable, malformed, max_replay, ahead, lost)', ['reason']);
    this.fencedClosed = counter('switchyard_ws_fenced_closes_total', 'Connections closed with 4011 because this node fenced itself');
    for (const reason of ['bad_json', 'unknown_type', 'bad_fields', 'binary', 'too_large', 'too_deep']) this.badFrames.inc({ reason }, 0);
    for (const reason of ['trimmed', 'epoch', 'unavailable', 'malformed', 'max_replay', 'ahead', 'lost']) this.gaps.inc({ reason }, 0);
    for (const reason of ['queue_full', 'closed']) this.dropped.inc({ reason }, 0);
  }
}
