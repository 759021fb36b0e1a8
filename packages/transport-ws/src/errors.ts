import { SwitchyardError, isSwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';
import type { ErrorCode } from './protocol/server-frames.js';

/** The `source` of errors raised by this package. */
export const SOURCE = 'ws';

export const wsError = (code: SwitchyardErrorCode, message: string, cause?: unknown): SwitchyardError =>
  new SwitchyardError(code, message, { source: SOURCE, ...(cause !== undefined ? { cause } : {}) });

/** Map an error from the cluster (or an application hook) to a wire error code and message. */
export function toWireError(err: unknown): { code: ErrorCode; message: string } {
  if (isSwitchyardError(err)) {
    switch (err.code) {
      case 'PAYLOAD_TOO_LARGE':
        return { code: 'too_large', message: 'message too large for the bus' };
      case 'BUS_UNAVAILABLE':
      case 'NOT_CONNECTED':
      case 'BUFFER_FULL':
      case 'CLOSED':
      case 'UNSUPPORTED':
      case 'NO_HEALTHY_NODE':
      case 'TIMEOUT':
      case 'BACKEND_ERROR':
        return { code: 'unavailable', message: err.code.toLowerCase() };
      default:
        return { code: 'internal', message: 'internal error' };
    }
  }
  return { code: 'internal', message: 'internal error' };
}
