import { SwitchyardError } from '../errors.js';

/**
 * `p`, or a TIMEOUT error once `ms` pass (a string names the call; a function makes the error,
 * e.g. an adapter's own): a backend that does not answer is down, not slow forever. `onTimeout`
 * runs first (stop an iterator...). The timer is cleared either way; `p` is left to settle on
 * its own.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string | (() => Error), onTimeout?: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = (): Error => (typeof what === 'string' ? new SwitchyardError('TIMEOUT', `${what}: no answer within ${ms} ms`) : what());
  const late = new Promise<never>((_, reject) => {
    // Decided after the turn's I/O (setImmediate): when the event loop ran late, an answer that
    // arrived meanwhile is read first and wins, rather than a timer that merely fired late.
    timer = setTimeout(
      () =>
        setImmediate(() => {
          onTimeout?.();
          reject(timeout());
        }),
      ms,
    );
  });
  p.catch(() => undefined); // a rejection after the deadline is not unhandled
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
