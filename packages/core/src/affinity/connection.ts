import type { AffinityStrategy, PlacementContext } from '../strategy/types.js';

/** A returning session goes back to the node that held it, while that node is healthy. */
export class ConnectionAffinity implements AffinityStrategy {
  readonly name = 'connection';
  key(ctx: PlacementContext): string | null {
    return ctx.sessionId ? `session:${ctx.sessionId}` : null;
  }
}
