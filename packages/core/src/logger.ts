/**
 * A pino-compatible logger. Pass a pino instance (or anything with these methods); the
 * library never writes to the console itself.
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child?(bindings: Record<string, unknown>): Logger;
}

const noop = () => undefined;
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** A child logger when the logger supports it, else the logger itself. */
export const childLogger = (logger: Logger, bindings: Record<string, unknown>): Logger =>
  logger.child ? logger.child(bindings) : logger;
