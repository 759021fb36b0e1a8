import type { MoveTarget } from '@switchyard/core/adapter';
import { CloseCode } from '../protocol/close-codes.js';
import type { Connection } from './connection.js';
import { redirect } from './handshake.js';
import type { NodeInternals } from './host.js';

/**
 * Tell connections to move, in batches of `drain.batchSize` with a random pause (up to
 * `drain.batchIntervalMs`) between batches so they do not all arrive at once elsewhere: a
 * `redirect` hint then close 1012, or 1001 when no other node can take them. The targets come
 * from the session service (core), which reassigns the sessions to them before the hint goes
 * out, so the target keeps the client instead of sending it back. With a `deadline`, the pauses
 * shrink so that every batch has gone out by half of the remaining time (the other half is for
 * close handshakes).
 */
export async function moveConnections(node: NodeInternals, conns: Connection[], reason: 'draining' | 'rebalance', to?: MoveTarget, deadline = Infinity): Promise<void> {
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
    const targets = await node.sessions.planMoves(batch, (c) => c.state === 'open', to);
    batch.forEach((c, i) => {
      if (c.state === 'closed' || c.state === 'closing') return;
      if (c.state === 'handshake') return c.close(CloseCode.ServiceRestart, '');
      const t = targets[i];
      if (t) redirect(node, c, t.url, reason, CloseCode.ServiceRestart);
      else c.close(CloseCode.GoingAway, 'going_away');
    });
  }
}
