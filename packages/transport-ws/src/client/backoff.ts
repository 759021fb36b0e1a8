/** Reconnect timing: exponential backoff with full jitter. */
export interface BackoffOptions {
  /** Base of the exponential backoff, ms (default 500). */
  baseMs: number;
  /** Cap of one delay, ms (default 30000). */
  maxMs: number;
  /** After an abnormal close (1006) or a restart (1012), the first retry comes in [0, firstRetryMaxMs] (default 300). */
  firstRetryMaxMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 500, maxMs: 30_000, firstRetryMaxMs: 300 };

/**
 * The delay before retry number `attempt` (0 = the first retry after a loss).
 * `quick` (the loss was a 1006 or 1012): retry 0 is uniform in [0, firstRetryMaxMs] and retry
 * n >= 1 uniform in [0, min(maxMs, baseMs * 2^(n-1))]. Otherwise retry n is uniform in
 * [0, min(maxMs, baseMs * 2^n)]. Full jitter spreads a crowd of clients over the window.
 */
export function backoffDelay(attempt: number, quick: boolean, o: BackoffOptions, random: () => number = Math.random): number {
  if (quick && attempt === 0) return Math.floor(random() * o.firstRetryMaxMs);
  const exp = quick ? attempt - 1 : attempt;
  const cap = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(exp, 30));
  return Math.floor(random() * cap);
}
