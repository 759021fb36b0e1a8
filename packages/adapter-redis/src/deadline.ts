import { withDeadline as deadline } from '@switchyard/core/adapter';
import { redisError } from './errors.js';

/** Settle with `work`, or reject with TIMEOUT (source redis) once `ms` pass without an answer. */
export const withDeadline = <T>(work: Promise<T>, ms: number, what: string): Promise<T> =>
  deadline(work, ms, () => redisError('TIMEOUT', `${what}: no answer from redis within ${ms} ms`));
