import { redisError } from './errors.js';

/**
 * Settle with `work`, or reject with TIMEOUT once `ms` pass without an answer. The timer is
 * cleared either way; a late settlement of `work` is ignored (it was handled by the race).
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(redisError('TIMEOUT', `${what}: no answer from redis within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
