/**
 * The dashboard's view of the demo, built once a second and sent to every open dashboard.
 * The same shape is typed in web/types.ts for the browser side.
 */
import type { Bots } from './bots.js';
import type { LocalCluster } from './local-cluster.js';
import type { DashboardState, NodeView, RoomView } from './web/types.js';

export interface SnapshotSource {
  cluster: LocalCluster;
  bots: Bots | undefined;
  bus: { name: string; where: string };
  startedAt: number;
}

const HISTORY = 120;

/** Keeps the rolling series behind the charts. */
export class SnapshotBuilder {
  private readonly series: DashboardState['series'] = [];

  constructor(private readonly s: SnapshotSource) {}

  build(now = Date.now()): DashboardState {
    const { cluster, bots } = this.s;
    cluster.prune(now);
    const registry = new Map(cluster.registryView().map((n) => [n.id, n]));
    const nodes: NodeView[] = cluster.nodes.map((n) => {
      const info = registry.get(n.id);
      const conns = n.alive ? n.ws.connections.size : 0;
      return {
        id: n.id,
        url: n.url,
        port: n.port,
        process: n.process,
        state: info?.state ?? (n.alive ? 'starting' : 'gone'),
        coordinator: n.alive && n.process === 'running' && n.cluster.isCoordinator(),
        connections: conns,
        capacity: info?.capacity ?? 20,
        cpu: info?.load.cpu ?? 0,
        memory: info?.load.memory ?? 0,
        lagMs: info?.load.eventLoopLagMs ?? 0,
        busInPerSec: n.alive ? n.busIn.rate(now) : 0,
        socketOutPerSec: n.socketOutRate,
        busLatency: n.busLatency.summary(now),
        rooms: n.rooms(),
        users: n.users(),
        lastHeartbeatAgoMs: info ? Math.max(0, now - info.updatedAt) : null,
      };
    });
    // Nodes only the registry knows (another process on the same backend).
    for (const info of registry.values()) {
      if (nodes.some((n) => n.id === info.id)) continue;
      nodes.push({
        id: info.id,
        url: info.url,
        port: null,
        process: 'remote',
        state: info.state,
        coordinator: false,
        connections: info.load.connections,
        capacity: info.capacity,
        cpu: info.load.cpu,
        memory: info.load.memory,
        lagMs: info.load.eventLoopLagMs,
        busInPerSec: 0,
        socketOutPerSec: 0,
        busLatency: { p50: null, p99: null, samples: 0 },
        rooms: {},
        users: [],
        lastHeartbeatAgoMs: Math.max(0, now - info.updatedAt),
      });
    }
    const rooms = new Map<string, RoomView>();
    for (const n of nodes) {
      for (const [name, members] of Object.entries(n.rooms)) {
        const r = rooms.get(name) ?? { name, members: 0, nodes: {} };
        r.members += members;
        r.nodes[n.id] = members;
        rooms.set(name, r);
      }
    }
    const point = { t: now, connections: Object.fromEntries(nodes.filter((n) => n.process !== 'remote').map((n) => [n.id, n.connections])), out: nodes.reduce((s, n) => s + n.socketOutPerSec, 0) };
    this.series.push(point);
    if (this.series.length > HISTORY) this.series.shift();
    // Both figures from the same list, so healthy can never exceed known. Known: listed alive by
    // the registry (a crashed node stays listed as ready until it is declared dead) or run here
    // and not ended. Healthy: of those, ready in the registry and really serving (not killed).
    const known = nodes.filter((n) => (n.state !== 'dead' && n.state !== 'gone') || n.process === 'starting' || n.process === 'running' || n.process === 'draining');
    const healthy = known.filter((n) => n.state === 'ready' && (n.process === 'running' || n.process === 'remote'));
    return {
      bus: this.s.bus,
      uptimeSec: Math.round((now - this.s.startedAt) / 1000),
      nodes,
      rooms: [...rooms.values()].sort((a, b) => b.members - a.members),
      totals: {
        connections: nodes.reduce((s, n) => s + (n.process === 'remote' ? 0 : n.connections), 0),
        healthy: healthy.length,
        nodes: known.length,
        busInPerSec: nodes.reduce((s, n) => s + n.busInPerSec, 0),
        socketOutPerSec: nodes.reduce((s, n) => s + n.socketOutPerSec, 0),
        publishedPerSec: bots ? bots.published.rate(now) : 0,
        e2eLatency: bots ? bots.e2eLatency.summary(now) : { p50: null, p99: null, samples: 0 },
        busLatency: cluster.busLatency.summary(now),
      },
      series: this.series,
    };
  }
}
