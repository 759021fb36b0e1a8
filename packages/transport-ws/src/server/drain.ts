import { CloseCode } from '../protocol/close-codes.js';
import type { Connection } from './connection.js';
import { redirect } from './handshake.js';
import type { SwitchyardNode } from './node.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** A node a connection is sent to. */
export interface MoveTarget {
  id: string;
  url: string;
}

/** Where a moving client should go: the cluster's placement for it, never this node. */
async function targetFor(node: SwitchyardNode, conn: Connection): Promise<MoveTarget | undefined> {
  try {
    const p = await node.cluster.place({ userId: conn.userId, sessionId: conn.sessionId || undefined, ip: conn.ip, region: str(conn.params.region), key: str(conn.params.key) });
    return p.local || !p.node.url ? undefined : { id: p.node.id, url: p.node.url };
  } catch {
    return undefined;
  }
}

/**
 * Tell connections to move, in batches of `drain.batchSize` with a random pause (up to
 * `drain.batchIntervalMs`) between batches so they do not all arrive at once elsewhere: a
 * `redirect` hint then close 1012, or 1001 when no other node can take them. Before the hint
 * goes out, the session is reassigned to the target in the session store, so the target keeps
 * the client instead of sending it back. With a `deadline`, the pauses shrink so that every
 * batch has gone out by half of the remaining time (the other half is for close handshakes).
 */
export async function moveConnections(node: SwitchyardNode, conns: Connection[], reason: 'draining' | 'rebalance', to?: MoveTarget, deadline = Infinity): Promise<void> {
  const { batchSize, batchIntervalMs } = node.options.drain;
  const batches = Math.ceil(conns.length / batchSize);
  const moveBy = Number.isFinite(deadline) ? Date.now() + Math.max(0, deadline - Date.now()) / 2 : Infinity;
  for (let b = 0; b < batches; b++) {
    if (b > 0 && batchIntervalMs > 0) {
      const share = Number.isFinite(moveBy) ? Math.max(0, moveBy - Date.now()) / (batches - b) : batchIntervalMs;
      const pause = Math.random() * Math.min(batchIntervalMs, share);
      if (pause >= 1) await new Promise((r) => setTimeout(r, pause));
    }
    const batch = conns.slice(b * batchSize, (b + 1) * batchSize).filter((c) => c.state !== 'closed' && c.state !== 'closing');
    if (Date.now() >= deadline) {
      // out of time: no placement round trips, just 1012 (the client retries its next URL at once)
      for (const c of batch) c.close(CloseCode.ServiceRestart, '');
      continue;
    }
    const targets = await Promise.all(batch.map((c) => (c.state === 'open' ? (to ?? targetFor(node, c)) : undefined)));
    const assignments: Record<string, string> = {};
    batch.forEach((c, i) => {
      const t = targets[i];
      if (t && c.sessionId) assignments[c.sessionId] = t.id;
    });
    if (Object.keys(assignments).length > 0) {
      await node.cluster.sessions.reassign(node.id, assignments).catch((err: unknown) => node.logger.debug({ err }, 'sessions not reassigned before the move'));
    }
    batch.forEach((c, i) => {
      if (c.state === 'closed' || c.state === 'closing') return;
      if (c.state === 'handshake') return c.close(CloseCode.ServiceRestart, '');
      const t = targets[i];
      if (t) redirect(node, c, t.url, reason, CloseCode.ServiceRestart);
      else c.close(CloseCode.GoingAway, 'going_away');
    });
  }
}
