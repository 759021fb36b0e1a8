import { AsyncLocalStorage } from 'node:async_hooks';
import { MessageRefused, type Connection } from '@switchyard/transport-ws';

/** The event Nest's exception filters send to a client (`BaseWsExceptionFilter`). */
export const EXCEPTION_EVENT = 'exception';

/** One message being handled: what an exception filter reported for it. */
export interface HandlingScope {
  readonly conn: Connection;
  /** The payload of the `exception` the filter sent, once it did. */
  exception?: { payload: unknown };
}

const scopes = new AsyncLocalStorage<HandlingScope>();

/**
 * What Nest's own exception filter sends for anything but a `WsException` (a bug, a plain
 * `Error`): Nest's `MESSAGES.UNKNOWN_EXCEPTION_MESSAGE`, which Nest keeps internal.
 */
export const UNKNOWN_EXCEPTION_MESSAGE = 'Internal server error';

/** The words of an exception filter's payload (`{ status, message }`, or a `WsException`'s object). */
export function describeException(payload: unknown): string {
  if (typeof payload === 'string') return payload;
  const message = typeof payload === 'object' && payload !== null ? (payload as { message?: unknown }).message : undefined;
  if (typeof message === 'string') return message;
  try {
    return JSON.stringify(message ?? payload) ?? 'unknown error';
  } catch {
    return 'unknown error';
  }
}

/**
 * The error a handler's ack fails with once an exception filter sent `payload`: a refusal in the
 * payload's words (the client gets `refused` with them, as it already got them in the `exception`
 * message), except Nest's answer to an unexpected error, which stays `internal`. `undefined` then.
 */
export function refusalOf(payload: unknown): MessageRefused | undefined {
  const words = describeException(payload);
  return words === UNKNOWN_EXCEPTION_MESSAGE ? undefined : new MessageRefused(words);
}

/** Run `fn` (a gateway handler and everything it starts) in `scope`. */
export const inScope = <T>(scope: HandlingScope, fn: () => T): T => scopes.run(scope, fn);

/** What Nest's exception filters call on a client. */
export interface EmittingConnection {
  /**
   * Send `event` to this connection (as `conn.send`). Nest's exception filter calls
   * `emit('exception', { status, message })`: inside a message handler that also fails the
   * handler's ack.
   */
  emit(event: string, data?: unknown): void;
}

/**
 * Give `conn` the `emit(event, data)` Nest's exception filters call on a client (a Switchyard
 * connection has `send`; Socket.IO's sockets have `emit`). Called once per connection, before
 * Nest sees it. An `exception` emitted while a handler runs is recorded on the handler's scope,
 * so its ack fails; it also reaches the client as an `exception` message, as on Socket.IO.
 */
export function giveEmit(conn: Connection): void {
  if (Object.prototype.hasOwnProperty.call(conn, 'emit')) return;
  const emit: EmittingConnection['emit'] = (event, data) => {
    const scope = scopes.getStore();
    if (event === EXCEPTION_EVENT && scope?.conn === conn && !scope.exception) scope.exception = { payload: data };
    conn.send(event, data === undefined ? null : data);
  };
  Object.defineProperty(conn, 'emit', { value: emit, enumerable: false, configurable: true, writable: false });
}
