/**
 * The one error class of Switchyard. Tell errors apart by `code`, never by `instanceof`
 * across packages: an application may load two copies by mistake.
 */
export type SwitchyardErrorCode =
  | 'CONFIG_INVALID'
  | 'UNKNOWN_STRATEGY'
  /** A call made before `connect()` was called (not a lost connection: that is BUS_UNAVAILABLE). */
  | 'NOT_CONNECTED'
  | 'CLOSED'
  /** The backend is unreachable (refused, lost, gone away), from a bus or a store of any adapter. */
  | 'BUS_UNAVAILABLE'
  | 'BUFFER_FULL'
  | 'PAYLOAD_TOO_LARGE'
  | 'ENVELOPE_INVALID'
  | 'ENVELOPE_UNSIGNED'
  | 'ENVELOPE_FORGED'
  | 'ENVELOPE_VERSION'
  | 'NO_HEALTHY_NODE'
  | 'LEASE_LOST'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'TIMEOUT'
  | 'BACKEND_ERROR'
  | 'UNSUPPORTED';

export interface SwitchyardErrorOptions {
  cause?: unknown;
  /** Which part raised it, e.g. `core`, `redis`, `postgres`. Printed as `[switchyard] [redis]`. */
  source?: string;
  details?: Record<string, unknown>;
}

export class SwitchyardError extends Error {
  override readonly name = 'SwitchyardError';
  readonly code: SwitchyardErrorCode;
  readonly source: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: SwitchyardErrorCode, message: string, options: SwitchyardErrorOptions = {}) {
    const source = options.source ?? 'core';
    super(`[switchyard] [${source}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.source = source;
    this.details = options.details;
  }
}

/** True for any Switchyard error, from any copy of the package. */
export function isSwitchyardError(err: unknown, code?: SwitchyardErrorCode): err is SwitchyardError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  return e.name === 'SwitchyardError' && (code === undefined || e.code === code);
}
