import { withDeadline as deadline } from '@switchyard/core/adapter';
import { natsError } from './errors.js';

/** Settle with `work`, or reject with TIMEOUT (source nats) once `ms` pass without an answer, after calling `onTimeout` (e.g. to stop an iterator). */
export const withDeadline = <T>(work: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> =>
  deadline(work, ms, () => natsError('TIMEOUT', `${what}: no answer from NATS within ${ms} ms`), onTimeout);
