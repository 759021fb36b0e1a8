import { CloseCode } from './close-codes.js';
import type { Connection } from './connection.js';
import { redirect } from './handshake.js';
import type { SwitchyardNode } from './node.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Where a moving client should go: the cluster's placement for it, never this node. */
async function hintFor(node: SwitchyardNode, conn: Connection): Promise<string | undefined> {
  try {
    const p = await node.cluster.place({ userId: conn.userId, sessionId: conn.sessionId || undefined, ip: conn.ip, region: str(conn.params.region), key: str(conn.params.key) });
    return p.local || !p.node.url ? undefined : p.node.url;
  } catch {
    return undefined;
  }
}

/**
 * Tell connections to move, in batches of `drain.batchSize` with a random pause (up to
 * `drain.batchIntervalMs`) between batches so they do not all arrive at once elsewhere: a
 * `redirect` hint then close 1012, or 1001 when no other node can take them.
 */
export async function moveConnections(node: SwitchyardNode, conns: Connection[], reason: 'draining' | 'rebalance', url?: string, deadline = Infinity): Promise<void> {
  const { batchSize, batchIntervalMs } = node.options.drain;
  for (let i = 0; i < conns.length; i += batchSize) {
    if (i > 0 && batchIntervalMs > 0) {
      const pause = Math.min(Math.random() * batchIntervalMs, Math.max(0, deadline - Date.now()));
      await new Promise((r) => setTimeout(r, pause));
    }
    await Promise.all(
      conns.slice(i, i + batchSize).map(async (c) => {
        if (c.state === 'closed' || c.state === 'closing') return;
        if (c.state === 'handshake') return c.close(CloseCode.ServiceRestart, '');
        const hint = url ?? (await hintFor(node, c));
        if (hint) redirect(node, c, hint, reason, CloseCode.ServiceRestart);
        else c.close(CloseCode.GoingAway, 'going_away');
      }),
    );
  }
}
