/**
 * The dashboard's event log: what the mounted node sees happen in the cluster (nodes joining,
 * leaving, declared dead, changing state, failovers, coordinator and fence changes) and the
 * actions taken from the dashboard. The last `max` are kept for dashboards that open later.
 */
import type { ClusterNodeApi } from '@switchyard/core';

export type AdminEventKind = 'node-joined' | 'node-left' | 'node-dead' | 'node-state' | 'failover' | 'coordinator' | 'fence' | 'drain' | 'disconnect';

export interface AdminEvent {
  /** Increasing number of this log (a dashboard resumes after the last one it saw). */
  seq: number;
  /** Milliseconds since epoch. */
  t: number;
  kind: AdminEventKind;
  level: 'info' | 'warn';
  /** The node it is about, when it is about one. */
  node?: string;
  /** One line in plain words. */
  text: string;
}

export class EventLog {
  private readonly items: AdminEvent[] = [];
  private readonly listeners = new Set<(e: AdminEvent) => void>();
  private readonly unsubscribe: Array<() => void> = [];
  private seq = 0;

  constructor(private readonly max: number) {}

  /** Recent events, oldest first. */
  recent(): readonly AdminEvent[] {
    return this.items;
  }

  /** Called with every new event; returns a function that stops it. */
  subscribe(listener: (e: AdminEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  add(kind: AdminEventKind, text: string, options: { node?: string | undefined; level?: 'info' | 'warn' } = {}): AdminEvent {
    const e: AdminEvent = { seq: ++this.seq, t: Date.now(), kind, level: options.level ?? 'info', ...(options.node !== undefined ? { node: options.node } : {}), text };
    this.items.push(e);
    while (this.items.length > this.max) this.items.shift();
    for (const l of this.listeners) l(e);
    return e;
  }

  /** Record what `cluster` sees from now on. */
  watch(cluster: ClusterNodeApi): void {
    this.unsubscribe.push(
      cluster.on('node:joined', (n) => this.add('node-joined', `${n.id} joined (${n.state}) at ${n.url || 'no URL yet'}`, { node: n.id })),
      cluster.on('node:updated', (n, prev) => {
        if (n.state !== prev.state) this.add('node-state', `${n.id}: ${prev.state} -> ${n.state}`, { node: n.id, level: n.state === 'ready' ? 'info' : 'warn' });
      }),
      cluster.on('node:left', (id, reason) => this.add('node-left', reason === 'shutdown' ? `${id} left the cluster (deregistered)` : `${id} left the cluster (${reason})`, { node: id, level: reason === 'shutdown' ? 'info' : 'warn' })),
      cluster.on('node:dead', (n) => this.add('node-dead', `${n.id} declared dead: no heartbeat within the node timeout`, { node: n.id, level: 'warn' })),
      cluster.on('failover', (f) => this.add('failover', `failover of ${f.node} (${f.reason}, ${f.strategy}): ${Object.keys(f.assignments).length} session(s) reassigned`, { node: f.node, level: 'warn' })),
      cluster.on('coordinator', (is) => this.add('coordinator', is ? `${cluster.id} became the coordinator` : `${cluster.id} is no longer the coordinator`, { node: cluster.id })),
      cluster.on('fence', (fenced, reason) =>
        this.add('fence', fenced ? `${cluster.id} fenced itself (${reason ?? 'unknown'}): it serves no client until the fence lifts` : `${cluster.id}: fence lifted`, { node: cluster.id, level: fenced ? 'warn' : 'info' }),
      ),
    );
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.listeners.clear();
  }
}
