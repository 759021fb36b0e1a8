import { SwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

/** The `source` of errors raised by this package: `[switchyard] [fastify] ...`. */
export const SOURCE = 'fastify';

export const fastifyError = (code: SwitchyardErrorCode, message: string, cause?: unknown): SwitchyardError =>
  new SwitchyardError(code, message, { source: SOURCE, ...(cause !== undefined ? { cause } : {}) });
