/**
 * What an adapter reports for metrics. Core's cluster passes one (backed by prom-client,
 * counter `switchyard_adapter_events_total{adapter,event}`) to each port that has
 * `instrument()`; adapters call it and never depend on prom-client themselves.
 */
export type AdapterEvent =
  | 'publish_buffered'
  | 'publish_dropped'
  | 'publish_flushed'
  | 'reconnect'
  | 'disconnect'
  | 'resubscribe'
  | 'error'
  | 'malformed'
  /** A compare-and-set write lost a race and was retried (history appends, KV updates). */
  | 'conflict_retry';

export interface AdapterObserver {
  count(adapter: string, event: AdapterEvent, n?: number): void;
}

export const noopObserver: AdapterObserver = { count: () => undefined };

/** Ports that report to an observer implement this. Called before `connect()`. */
export interface Instrumentable {
  instrument?(observer: AdapterObserver): void;
}
