import type { AffinityStrategy, PlacementContext } from '../strategy/types.js';

/** All connections of one user go to the node that user was first placed on, while it is healthy. */
export class UserAffinity implements AffinityStrategy {
  readonly name = 'user';
  key(ctx: PlacementContext): string | null {
    return ctx.userId ? `user:${ctx.userId}` : null;
  }
}
