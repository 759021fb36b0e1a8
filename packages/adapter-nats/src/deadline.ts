import { natsError } from './errors.js';

/**
 * Settle with `work`, or reject with TIMEOUT once `ms` pass without an answer (after calling
 * `onTimeout`, e.g. to stop an iterator). The timer is cleared either way; a late settlement of
 * `work` is ignored (the race handled it).
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(natsError('TIMEOUT', `${what}: no answer from NATS within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
