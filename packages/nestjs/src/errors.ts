import { SwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

/** The `source` of errors raised by this package. */
export const SOURCE = 'nestjs';

export const nestError = (code: SwitchyardErrorCode, message: string, cause?: unknown): SwitchyardError =>
  new SwitchyardError(code, message, { source: SOURCE, ...(cause !== undefined ? { cause } : {}) });
