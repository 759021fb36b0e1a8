import type { Sample } from '../server/types.js';

/** What the node processes spent and wrote between two wall-clock times, summed over processes. */
export interface WindowFigures {
  /** Node-process CPU, µs (user + system). */
  cpuUs: number;
  /** WebSocket frames carrying messages; NaN when a system cannot tell. */
  frames: number;
  /** Messages written to sockets (inside batch frames included); NaN when a system cannot tell. */
  messages: number;
}

/** Column `col` of `samples` at time `t`, linearly interpolated (held at the ends). */
function at(samples: Sample[], t: number, col: 1 | 2 | 3): number {
  const first = samples[0];
  if (!first || t <= first[0]) return first ? first[col] : NaN;
  for (let i = 1; i < samples.length; i++) {
    const b = samples[i] as Sample;
    if (t <= b[0]) {
      const a = samples[i - 1] as Sample;
      const f = b[0] === a[0] ? 1 : (t - a[0]) / (b[0] - a[0]);
      return a[col] + f * (b[col] - a[col]);
    }
  }
  return (samples[samples.length - 1] as Sample)[col];
}

/** CPU and frame counts of every node process between `from` and `to` (ms, wall clock), from their 100 ms samples. */
export function windowFigures(perProcess: Sample[][], from: number, to: number): WindowFigures {
  const out: WindowFigures = { cpuUs: 0, frames: 0, messages: 0 };
  for (const raw of perProcess) {
    const s = [...raw].sort((a, b) => a[0] - b[0]);
    out.cpuUs += at(s, to, 1) - at(s, from, 1);
    out.frames += at(s, to, 2) - at(s, from, 2);
    out.messages += at(s, to, 3) - at(s, from, 3);
  }
  return out;
}

/** The figures the reports show for one window with `deliveries` deliveries received in it. */
export function perDelivery(w: WindowFigures, deliveries: number, seconds: number, round: (x: number, d?: number) => number): Record<string, number> {
  return {
    node_cpu_us_per_delivery: deliveries > 0 ? round(w.cpuUs / deliveries, 2) : NaN,
    node_cpu_cores: seconds > 0 ? round(w.cpuUs / 1e6 / seconds, 2) : NaN,
    ws_frames_written: Number.isFinite(w.frames) ? Math.round(w.frames) : NaN,
    ws_messages_written: Number.isFinite(w.messages) ? Math.round(w.messages) : NaN,
    messages_per_frame: w.frames > 0 ? round(w.messages / w.frames, 2) : NaN,
  };
}
