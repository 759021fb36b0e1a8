import { SwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

/** The `source` of errors raised by this package: `[switchyard] [admin] ...`. */
export const SOURCE = 'admin';

export const adminError = (code: SwitchyardErrorCode, message: string, cause?: unknown): SwitchyardError =>
  new SwitchyardError(code, message, { source: SOURCE, ...(cause !== undefined ? { cause } : {}) });
