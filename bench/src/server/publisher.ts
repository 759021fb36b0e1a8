import type { BenchNode } from './types.js';

/** One step of an offered load: `rate` messages per second for `ms`. */
export interface Step {
  rate: number;
  ms: number;
}

export interface PublishArgs {
  /** Rooms to publish to, in turn. */
  rooms: string[];
  /** Offered load per node of this process. */
  steps: Step[];
  payloadBytes: number;
}

export interface PublishReport {
  sent: number;
  /** Publishes not made because too many were still in flight (backpressure). */
  skipped: number;
  failed: number;
  perRoom: Record<string, number>;
  perStep: number[];
  startedAt: number;
  endedAt: number;
}

const TICK_MS = 5;
const MAX_IN_FLIGHT = 4000;
/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now();

/**
 * Publish from one node at the offered rates, paced on a 5 ms tick. The payload carries the
 * send time, the sending node and a sequence number, padded to `payloadBytes`.
 */
export async function publishFrom(node: BenchNode, args: PublishArgs): Promise<PublishReport> {
  const report: PublishReport = { sent: 0, skipped: 0, failed: 0, perRoom: {}, perStep: [], startedAt: now(), endedAt: 0 };
  const pad = 'x'.repeat(Math.max(0, args.payloadBytes - 70));
  let inFlight = 0;
  let seq = 0;
  let roomIx = 0;
  for (const step of args.steps) {
    const start = now();
    let stepSent = 0;
    let offered = 0;
    while (now() - start < step.ms) {
      const tickStart = now();
      const due = Math.floor(((tickStart - start) / 1000) * step.rate) - offered;
      for (let k = 0; k < due; k++) {
        // never hold the event loop more than 20 ms: what is not sent in time is skipped (counted)
        if ((k & 15) === 0 && now() - tickStart > 20) {
          report.skipped += due - k;
          offered += due - k;
          break;
        }
        offered++;
        if (inFlight >= MAX_IN_FLIGHT) {
          report.skipped++;
          continue;
        }
        const room = args.rooms[roomIx++ % args.rooms.length] as string;
        const s = ++seq;
        const r = node.publish(room, { t: now(), n: node.id, s, r: room, p: pad });
        report.perRoom[room] = (report.perRoom[room] ?? 0) + 1;
        report.sent++;
        stepSent++;
        if (r && typeof (r as Promise<unknown>).then === 'function') {
          inFlight++;
          (r as Promise<unknown>).then(
            () => inFlight--,
            () => {
              inFlight--;
              report.failed++;
            },
          );
        }
      }
      await new Promise((res) => setTimeout(res, TICK_MS));
    }
    report.perStep.push(stepSent);
  }
  const deadline = Date.now() + 10_000;
  while (inFlight > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
  report.endedAt = now();
  return report;
}
