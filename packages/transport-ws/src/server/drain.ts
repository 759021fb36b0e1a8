import { inBatches, type MoveTarget } from '@switchyard/core/adapter';
import { CloseCode } from '../protocol/close-codes.js';
import type { ServerConnection } from './connection.js';
import { redirect } from './handshake.js';
import type { NodeInternals } from './host.js';

/**
 * Tell connections to move, in batches (`drain.batchSize`, a random pause of up to
 * `drain.batchIntervalMs` between them, paced by core's `inBatches`): a `redirect` hint then
 * close 1012, or 1001 when no other node can take them. The targets come from the session
 * service (core), which reassigns the sessions to them before the hint goes out, so the target
 * keeps the client instead of sending it back. With a `deadline`, the pauses shrink so that
 * every batch has gone out by half of the remaining time (the other half is for close handshakes).
 */
export function moveConnections(node: NodeInternals, conns: ServerConnection[], reason: 'draining' | 'rebalance', to?: MoveTarget, deadline = Infinity): Promise<void> {
  return inBatches(conns, { ...node.options.drain, deadline }, async (all, late) => {
    const batch = all.filter((c) => c.state !== 'closed' && c.state !== 'closing');
    if (late) {
      // out of time: no placement round trips, just 1012 (the client retries its next URL at once)
      for (const c of batch) c.close(CloseCode.ServiceRestart, '');
      return;
    }
    const targets = await node.sessions.planMoves(batch, (c) => c.state === 'open', to);
    batch.forEach((c, i) => {
      if (c.state === 'closed' || c.state === 'closing') return;
      if (c.state === 'handshake') return c.close(CloseCode.ServiceRestart, '');
      const t = targets[i];
      if (t) redirect(node, c, t.url, reason, CloseCode.ServiceRestart);
      else c.close(CloseCode.GoingAway, 'going_away');
    });
  });
}
