import { SwitchyardError } from '@switchyard/core';
import { SOURCE } from './errors.js';

/**
 * Settle with `work`, or reject with TIMEOUT once `ms` pass without an answer; `onLate` gets
 * what `work` resolves to if that happens after the deadline (to give a connection back). The
 * timer is cleared either way.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string, onLate?: (value: T) => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let late = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new SwitchyardError('TIMEOUT', `${what}: no answer from postgres within ${ms} ms`, { source: SOURCE }));
    }, ms);
  });
  if (onLate) void work.then((value) => late && onLate(value), () => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
