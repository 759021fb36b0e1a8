import type { WsMessageHandler } from '@nestjs/common';
import type { Connection } from '@switchyard/transport-ws';
import type { Observable, Subscription } from 'rxjs';
import { nestError } from './errors.js';
import { describeException, inScope, refusalOf, type HandlingScope } from './exceptions.js';

/** Nest's `transform`: a handler's result (value, promise or observable) as an observable. */
export type Transform = (data: unknown) => Observable<unknown>;

/** A `WsResponse` (`{ event, data }`): sent to the client as a message, as on Socket.IO and ws. */
export const isWsResponse = (v: unknown): v is { event: string; data: unknown } =>
  typeof v === 'object' && v !== null && typeof (v as { event?: unknown }).event === 'string' && 'data' in v;

/**
 * One gateway's handlers on one connection: the `message` listener the node calls, turning what
 * a handler gives into the ack (first plain value, or the `@Ack()` call), messages (`WsResponse`
 * values) or a failed ack (an exception the filter reported: `refused` with a `WsException`'s
 * words, `internal` for anything else).
 */
export class GatewayBinding {
  private readonly byEvent = new Map<unknown, WsMessageHandler>();
  /** Observables still running, and requests still waiting for a manual ack: ended when the connection closes. */
  private readonly running = new Set<Subscription>();
  private readonly waiting = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly conn: Connection,
    handlers: WsMessageHandler[],
    private readonly transform: Transform,
  ) {
    for (const h of handlers) if (!this.byEvent.has(h.message)) this.byEvent.set(h.message, h);
  }

  /**
   * The node's `message` listener. Declares two parameters on purpose: the node then never waits
   * for an `ack` call from a listener that returned nothing (events of other gateways).
   */
  readonly listener = (data: unknown, event: unknown, ...rest: unknown[]): unknown => {
    const handler = this.byEvent.get(event);
    if (!handler || this.closed) return undefined;
    return this.handle(handler, data, typeof rest[0] === 'function');
  };

  /** The connection closed: stop the handlers' observables and let waiting requests go. */
  close(): void {
    this.closed = true;
    for (const s of this.running) s.unsubscribe();
    this.running.clear();
    for (const release of [...this.waiting]) release();
  }

  private handle(handler: WsMessageHandler, data: unknown, wantsAck: boolean): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const scope: HandlingScope = { conn: this.conn };
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        this.waiting.delete(release);
        fn();
      };
      const answer = (result: unknown) => settle(() => resolve(result));
      const release = () => answer(undefined);
      const fail = (why: string, cause?: unknown) =>
        settle(() => reject(nestError('BACKEND_ERROR', `the handler of "${String(handler.message)}" failed: ${why}`, cause)));
      // an exception filter answered: the client sees a WsException's words as `refused`, Nest's
      // answer to an unexpected error as `internal`
      const failWith = (payload: unknown) => {
        const refusal = refusalOf(payload);
        if (refusal) settle(() => reject(refusal));
        else fail(describeException(payload));
      };
      this.waiting.add(release);
      // `@Ack()` finds the first function among the handler's arguments: this one.
      const ack = (result?: unknown) => answer(result);
      let ended = false;
      let sub: Subscription | undefined;
      inScope(scope, () => {
        try {
          sub = this.transform(handler.callback(data, ack)).subscribe({
            next: (value) => {
              if (value === undefined || value === null || scope.exception) return;
              if (isWsResponse(value)) this.conn.send(value.event, value.data === undefined ? null : value.data);
              else if (!handler.isAckHandledManually) answer(value);
            },
            error: (err: unknown) => {
              ended = true;
              if (sub) this.running.delete(sub);
              fail(err instanceof Error ? err.message : describeException(err), err);
            },
            complete: () => {
              ended = true;
              if (sub) this.running.delete(sub);
              if (scope.exception) failWith(scope.exception.payload);
              else if (!handler.isAckHandledManually || !wantsAck) answer(undefined);
            },
          });
        } catch (err) {
          ended = true;
          fail(err instanceof Error ? err.message : describeException(err), err);
        }
      });
      if (sub && !ended) {
        if (this.closed) sub.unsubscribe();
        else this.running.add(sub);
      }
    });
  }
}
