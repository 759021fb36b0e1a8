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

/** Levels of the default logger, lowest first; `silent` prints nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const LEVELS: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

export interface ConsoleLoggerOptions {
  /** Lowest level printed (default: `SWITCHYARD_LOG_LEVEL` from the environment, else `warn`). */
  level?: LogLevel;
  /** Where lines go (default: standard error). */
  write?: (line: string) => void;
  bindings?: Record<string, unknown>;
}

/** The level `SWITCHYARD_LOG_LEVEL` names, if it is one. */
export function levelFromEnv(): LogLevel | undefined {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SWITCHYARD_LOG_LEVEL;
  return v !== undefined && v in LEVELS ? (v as LogLevel) : undefined;
}

/**
 * The logger used when you give none: one line per record on standard error, warnings and
 * errors by default, e.g.
 * `2026-12-02T10:00:00.000Z WARN switchyard node=n1: bus connection lost {"bus":"redis"}`.
 * Pino-compatible (`debug`/`info`/`warn`/`error`, `child`): pass pino itself for JSON logs.
 */
export function consoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const min = LEVELS[options.level ?? levelFromEnv() ?? 'warn'];
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const bindings = options.bindings ?? {};
  const tag = Object.entries(bindings)
    .filter(([k]) => k === 'nodeId' || k === 'component')
    .map(([k, v]) => (k === 'nodeId' ? `node=${String(v)}` : String(v)))
    .join(' ');
  const log = (level: Exclude<LogLevel, 'silent'>) => (obj: object | string, msg?: string) => {
    if (LEVELS[level] < min) return;
    const text = typeof obj === 'string' ? obj : (msg ?? '');
    let extra = '';
    if (typeof obj === 'object' && obj !== null) {
      const fields: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) fields[k] = v instanceof Error ? (v.message || v.name) : v;
      if (Object.keys(fields).length > 0) {
        try {
          extra = ` ${JSON.stringify(fields)}`;
        } catch {
          extra = '';
        }
      }
    }
    write(`${new Date().toISOString()} ${level.toUpperCase()} switchyard${tag ? ` ${tag}` : ''}: ${text}${extra}`);
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (more) => consoleLogger({ ...options, level: (Object.entries(LEVELS).find(([, n]) => n === min)?.[0] as LogLevel) ?? 'warn', write, bindings: { ...bindings, ...more } }),
  };
}
