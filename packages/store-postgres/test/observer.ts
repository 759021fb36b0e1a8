import type { AdapterEvent, AdapterObserver } from '@switchyard/core';

/** An AdapterObserver that keeps counts for assertions. */
export class CountingObserver implements AdapterObserver {
  readonly counts = new Map<AdapterEvent, number>();
  count(_adapter: string, event: AdapterEvent, n = 1): void {
    this.counts.set(event, (this.counts.get(event) ?? 0) + n);
  }
  get(event: AdapterEvent): number {
    return this.counts.get(event) ?? 0;
  }
}
