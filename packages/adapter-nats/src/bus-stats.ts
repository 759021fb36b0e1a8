import type { AdapterEvent } from '@switchyard/core';

/** Counters a test or dashboard can read without an observer. */
export interface NatsBusStats {
  buffered: number;
  dropped: number;
  flushed: number;
  disconnects: number;
  reconnects: number;
  /** Subscriptions found live again after each reconnect (summed over reconnects). */
  resubscribed: number;
  /** Subscriptions we had to recreate because the client had not restored them. */
  recreated: number;
  errors: number;
}

/** The adapter event each counter sums; `recreated` is counted by the driver itself. */
const STAT: Partial<Record<AdapterEvent, Exclude<keyof NatsBusStats, 'recreated'>>> = {
  publish_buffered: 'buffered',
  publish_dropped: 'dropped',
  publish_flushed: 'flushed',
  disconnect: 'disconnects',
  reconnect: 'reconnects',
  resubscribe: 'resubscribed',
  error: 'errors',
};

/** Counters, all zero. */
export const emptyBusStats = (): NatsBusStats => ({ buffered: 0, dropped: 0, flushed: 0, disconnects: 0, reconnects: 0, resubscribed: 0, recreated: 0, errors: 0 });

/** Add `n` to the counter that sums `event`, if one does. */
export function countStat(stats: NatsBusStats, event: AdapterEvent, n: number): void {
  const stat = STAT[event];
  if (stat) stats[stat] += n;
}
