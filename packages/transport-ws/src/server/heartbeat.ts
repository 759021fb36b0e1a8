import { CloseCode } from '../protocol/close-codes.js';
import type { NodeInternals } from './host.js';

/**
 * One shared timer for every socket of a node: hello deadline, server pings, pong deadline
 * (4010), and destroying sockets that never finish their close handshake.
 */
export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly node: NodeInternals) {}

  get periodMs(): number {
    const o = this.node.options;
    return Math.max(10, Math.min(1000, o.timeouts.heartbeatMs / 4, o.timeouts.helloTimeoutMs / 4, o.timeouts.closeTimeoutMs / 2));
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(performance.now()), this.periodMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  tick(now: number): void {
    const o = this.node.options;
    for (const c of this.node.sockets) {
      if (c.state === 'closing') {
        if (now - c.closingSince >= o.timeouts.closeTimeoutMs) c.terminate();
      } else if (c.state === 'handshake') {
        if (now - c.openedAt >= o.timeouts.helloTimeoutMs) {
          this.node.metrics.heartbeatTimeouts.inc();
          c.close(CloseCode.HeartbeatTimeout, 'hello timeout');
        }
      } else if (c.state === 'open' && now - c.pingSentAt >= o.timeouts.heartbeatMs) {
        if (c.awaitingPong) {
          this.node.metrics.heartbeatTimeouts.inc();
          c.close(CloseCode.HeartbeatTimeout, 'heartbeat timeout');
        } else {
          c.ping(now);
        }
      }
    }
  }
}
