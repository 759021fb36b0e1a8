import { Counter, Gauge, type Registry } from 'prom-client';

function getOr<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Counts kept as plain numbers on the hot path and handed to prom-client when it is scraped. */
class HotCounts {
  sent = 0;
  frames = 0;
  batches = 0;
  batched = 0;
  shared = 0;
}

/** One set of hot counts per registry, so that nodes sharing a registry add up. */
const hotByRegistry = new WeakMap<Registry, HotCounts>();

/** A counter that adds what accumulated in `take()` each time it is collected. */
function hotCounter(registry: Registry, name: string, help: string, take: () => number): Counter {
  return getOr(
    registry,
    name,
    () =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          const n = take();
          if (n > 0) this.inc(n);
        },
      }),
  );
}

/** Transport metrics, registered in the cluster's registry next to core's. No room or user labels. */
export class TransportMetrics {
  /** Hot-path counts (messages and frames written), published at scrape time. */
  readonly hot: HotCounts;
  readonly connections: Gauge;
  readonly accepted: Counter;
  readonly closed: Counter<'code'>;
  readonly upgradesRefused: Counter<'reason'>;
  readonly received: Counter;
  readonly earlyHellos: Counter;
  readonly sent: Counter;
  readonly framesWritten: Counter;
  readonly batches: Counter;
  readonly batchedMessages: Counter;
  readonly sharedWritesTotal: Counter;
  readonly dropped: Counter<'reason'>;
  readonly slowConsumers: Counter;
  readonly rateLimited: Counter;
  readonly badFrames: Counter<'reason'>;
  readonly authFailures: Counter<'stage'>;
  readonly redirects: Counter<'reason'>;
  readonly heartbeatTimeouts: Counter;
  readonly replayed: Counter;
  readonly replayRereads: Counter;
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
    this.earlyHellos = counter('switchyard_ws_early_hellos_total', 'Hellos carried in the upgrade request (the client saved a round trip; not counted as frames received)');
    let hot = hotByRegistry.get(registry);
    if (!hot) hotByRegistry.set(registry, (hot = new HotCounts()));
    this.hot = hot;
    const counts = hot;
    const take = (k: keyof HotCounts) => () => {
      const n = counts[k];
      counts[k] = 0;
      return n;
    };
    this.sent = hotCounter(registry, 'switchyard_ws_messages_sent_total', 'msg frames written to sockets (inside batches included)', take('sent'));
    this.framesWritten = hotCounter(registry, 'switchyard_ws_frames_written_total', 'WebSocket frames written to sockets (a batch is one frame): messages per frame = messages_sent / frames_written', take('frames'));
    this.batches = hotCounter(registry, 'switchyard_ws_batches_total', 'batch frames written', take('batches'));
    this.batchedMessages = hotCounter(registry, 'switchyard_ws_batched_messages_total', 'msg frames that went out inside a batch', take('batched'));
    this.sharedWritesTotal = hotCounter(registry, 'switchyard_ws_shared_writes_total', 'writes of a room batch encoded once for every member (the same bytes to each socket)', take('shared'));
    this.dropped = counter('switchyard_ws_frames_dropped_total', 'Frames dropped: queue_full (low priority), closed', ['reason']);
    this.slowConsumers = counter('switchyard_ws_slow_consumers_total', 'Connections closed with 4009 because their send queue overflowed');
    this.rateLimited = counter('switchyard_ws_rate_limited_total', 'Client frames dropped by the per-connection rate limit');
    this.badFrames = counter('switchyard_ws_bad_frames_total', 'Bad client frames: bad_json, unknown_type, bad_fields, binary, too_large, too_deep, early_hello (a hello carried in the upgrade that did not parse)', ['reason']);
    this.authFailures = counter('switchyard_ws_auth_failures_total', 'Refused authentications, at the upgrade or the hello', ['stage']);
    this.redirects = counter('switchyard_ws_redirects_total', 'Clients sent to another node', ['reason']);
    this.heartbeatTimeouts = counter('switchyard_ws_heartbeat_timeouts_total', 'Connections closed with 4010 (no pong or no hello in time)');
    this.replayed = counter('switchyard_ws_replayed_messages_total', 'History messages replayed on join or resume');
    this.replayRereads = counter('switchyard_ws_replay_rereads_total', 'History read again for a replay that came back short of what this node had delivered (a store whose reads trail its appends)');
    this.gaps = counter('switchyard_ws_gaps_total', 'gap frames sent: a client told that room messages will not come (trimmed, epoch, unavailable, malformed, max_replay, ahead, lost)', ['reason']);
    this.fencedClosed = counter('switchyard_ws_fenced_closes_total', 'Connections closed with 4011 because this node fenced itself');
    for (const reason of ['bad_json', 'unknown_type', 'bad_fields', 'binary', 'too_large', 'too_deep', 'early_hello']) this.badFrames.inc({ reason }, 0);
    for (const reason of ['trimmed', 'epoch', 'unavailable', 'malformed', 'max_replay', 'ahead', 'lost']) this.gaps.inc({ reason }, 0);
    for (const reason of ['queue_full', 'closed']) this.dropped.inc({ reason }, 0);
  }

  /** `sockets` got one shared frame of `messages` messages each. */
  sharedWrites(sockets: number, messages: number): void {
    this.hot.shared += sockets;
    this.hot.sent += sockets * messages;
    this.hot.frames += sockets;
    if (messages > 1) {
      this.hot.batches += sockets;
      this.hot.batched += sockets * messages;
    }
  }
}
