import type { SwitchyardError } from '../errors.js';
import type { BusCapabilities } from '../ports/bus.js';
import type { AdapterEvent } from '../ports/observer.js';

/**
 * The two halves of a bus connection. A backend with one connection reports both at once
 * (the default); Redis, with a publisher and a subscriber connection, reports each.
 */
export type BusPart = 'send' | 'listen' | 'both';

/** What the runtime hands a driver in `open()`: call these as the backend changes. */
export interface BusDriverEvents {
  /** A message arrived on `topic`. The runtime runs every handler of that topic. */
  message(topic: string, payload: Uint8Array): void;
  /** A lost connection is usable again. The runtime restores every listen, then flushes what waited. */
  up(part?: BusPart): void;
  /** A connection was lost (or went silent). Publishes wait in the buffer until `up()`. */
  down(reason: string, part?: BusPart): void;
  /** The backend is gone for good (the client gave up): status `closed`, calls reject with `err`. */
  failed(err: SwitchyardError): void;
  /** Report an adapter event (an error, a malformed message) to the bus's observer. */
  count(event: AdapterEvent, n?: number): void;
}

/**
 * A backend for `BusRuntime`: it moves bytes and says when its connection comes and goes;
 * the runtime keeps handlers, status, the publish buffer, resubscription and the limits.
 * Creating a driver does no I/O.
 */
export interface BusDriver {
  /** Short name for logs, metrics and error sources, e.g. `redis`. */
  readonly name: string;
  /** What errors call the bus, e.g. `redis bus`. */
  readonly label: string;
  /** Read on every publish (a limit may come from the server once connected). */
  readonly capabilities: BusCapabilities;
  /**
   * Listens survive a lost connection (the client or the backend restores them): the runtime
   * keeps `listen`/`unlisten` going while down, and after `up()` calls `listen` again for
   * every topic so the driver can recreate any that was lost. Otherwise every listen is
   * forgotten on `down` and made again on `up`.
   */
  readonly keepsListens?: boolean;
  /** Open connections; resolves when usable. Rejects with a SwitchyardError, having released what it opened. */
  open(events: BusDriverEvents): Promise<void>;
  /** Send one message. Called in publish order; may return before the backend has it. */
  send(topic: string, payload: Uint8Array): Promise<unknown> | void;
  /** Start receiving `topic` (called once per topic, and again after a reconnect). */
  listen(topic: string): Promise<void> | void;
  /** Stop receiving `topic`. */
  unlisten(topic: string): Promise<void> | void;
  /** Release everything it opened. `listening` are the topics it listens on now. Never called twice. */
  close(listening: readonly string[]): Promise<void>;
  /**
   * True when a failed send means the backend is unreachable (not that it refused): the
   * publish is then kept in the buffer, in order, and the send part goes down until `up()`
   * (or, with the runtime's `resend` option, until a resend of it is answered). Without it
   * every failed send rejects its publish.
   */
  isUnreachable?(err: unknown): boolean;
  /** Turn a failed send, listen or unlisten into a SwitchyardError naming `what`. */
  mapError(err: unknown, what: string): SwitchyardError;
}
