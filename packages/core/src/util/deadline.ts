import { SwitchyardError } from '../errors.js';

/**
 * `p`, or a TIMEOUT error once `ms` pass: a backend that does not answer is down, not slow
 * forever. The timer is cleared either way; `p` is left to settle on its own.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SwitchyardError('TIMEOUT', `${what}: no answer within ${ms} ms`)), ms);
  });
  p.catch(() => undefined); // a rejection after the deadline is not unhandled
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
