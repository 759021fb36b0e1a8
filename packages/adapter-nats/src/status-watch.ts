import type { BusDriverEvents } from '@switchyard/core/adapter';
import type { Logger } from '@switchyard/core';
import type { NatsConnection, Status } from '@nats-io/transport-node';
import { natsError } from './errors.js';

/**
 * Tells the bus runtime what a NATS connection says of itself: a disconnect, a reconnect
 * attempt or a stale connection as down, a reconnect as up, its errors as counted errors, and
 * its close (the client gave up) as the bus failing for good.
 */
export class StatusWatch {
  /** The server can be reached, as far as the client knows. */
  up: boolean;
  private stopped = false;
  private readonly statuses: AsyncIterable<Status> & { stop?: () => void };

  constructor(
    nc: NatsConnection,
    private readonly events: BusDriverEvents,
    private readonly log: Logger,
  ) {
    this.up = !nc.isClosed();
    this.statuses = nc.status() as AsyncIterable<Status> & { stop?: () => void };
    this.follow().catch((err: unknown) => log.error({ err }, 'nats status loop failed'));
    void nc.closed().then((err) => {
      if (!this.stopped) events.failed(natsError('BUS_UNAVAILABLE', 'the NATS connection was closed', err));
    });
  }

  /** Stop listening; a close after this is ours, not a failure. */
  stop(): void {
    this.stopped = true;
    this.statuses.stop?.();
  }

  private async follow(): Promise<void> {
    for await (const s of this.statuses) {
      if (s.type === 'disconnect' || s.type === 'reconnecting' || s.type === 'staleConnection') {
        // staleConnection: `maxPingOut` PINGs went unanswered; nats.js drops the connection next.
        this.up = false;
        this.events.down(s.type);
      } else if (s.type === 'reconnect') {
        this.up = true;
        this.events.up();
      } else if (s.type === 'error') {
        this.events.count('error');
        this.log.error({ err: s.error }, 'NATS connection error');
      }
    }
  }
}
