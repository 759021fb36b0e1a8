import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { NodeLoad } from '../model/node.js';

/** Measures this process: CPU share of one core, heap use, event-loop delay p99. */
export class LoadSampler {
  private lastCpu = process.cpuUsage();
  private lastAt = process.hrtime.bigint();
  private histogram: IntervalHistogram | undefined;

  start(): void {
    if (this.histogram) return;
    this.histogram = monitorEventLoopDelay({ resolution: 20 });
    this.histogram.enable();
    this.lastCpu = process.cpuUsage();
    this.lastAt = process.hrtime.bigint();
  }

  stop(): void {
    this.histogram?.disable();
    this.histogram = undefined;
  }

  sample(): Omit<NodeLoad, 'connections'> {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Number(now - this.lastAt) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const heap = getHeapStatistics();
    let lag = 0;
    if (this.histogram && this.histogram.count > 0) {
      lag = Math.max(0, this.histogram.percentile(99) / 1e6 - 20);
      this.histogram.reset();
    }
    return {
      cpu: elapsedUs > 0 ? Math.min(1, (cpu.user + cpu.system) / elapsedUs) : 0,
      memory: heap.heap_size_limit > 0 ? heap.used_heap_size / heap.heap_size_limit : 0,
      eventLoopLagMs: Math.round(lag * 100) / 100,
    };
  }
}
