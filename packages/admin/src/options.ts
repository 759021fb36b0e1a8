import type { Logger } from '@switchyard/core';
import { adminError } from './errors.js';
import { ALLOW_ALL_INSECURE, type AuthorizeHook } from './authorize.js';

/** Options of `mountAdmin(node, options)`. */
export interface AdminOptionsInput {
  /**
   * Who may view (`read`) and who may drain nodes or disconnect clients (`act`). Required:
   * without it `mountAdmin` refuses to mount. `'allow-all-insecure'` opens everything to anyone
   * who reaches the path (local experiments only).
   */
  authorize: AuthorizeHook | typeof ALLOW_ALL_INSECURE;
  /** Where the dashboard lives on the node's HTTP server (default `/admin`). */
  path?: string;
  /** `WWW-Authenticate` value sent with 401 answers, e.g. `Basic realm="switchyard"` (the browser then asks for a password). */
  challenge?: string;
  /** Take over the node's http.Server `request` listeners to serve the path (default true); false: mount `admin.handler` yourself. */
  attach?: boolean;
  /** How often open dashboards get a fresh snapshot, ms (default 2000, at least 250). */
  refreshMs?: number;
  /** How long a snapshot waits for the other nodes' answers, ms (default: the node's `timeouts.queryTimeoutMs`). */
  queryTimeoutMs?: number;
  /** Cluster events kept for new dashboards (default 200). */
  maxEvents?: number;
  /** Connections listed per node (default 500; the count is always complete). */
  maxConnections?: number;
  /** Close code of the dashboard's disconnect (default 4003: the SDK does not reconnect; 1000 lets it come back). */
  disconnectCode?: number;
  /** pino-compatible logger (default: the node's). */
  logger?: Logger;
}

export interface AdminOptions {
  authorize: AuthorizeHook | typeof ALLOW_ALL_INSECURE;
  path: string;
  challenge: string | undefined;
  attach: boolean;
  refreshMs: number;
  queryTimeoutMs: number;
  maxEvents: number;
  maxConnections: number;
  disconnectCode: number;
  logger: Logger | undefined;
}

const KNOWN = new Set(['authorize', 'path', 'challenge', 'attach', 'refreshMs', 'queryTimeoutMs', 'maxEvents', 'maxConnections', 'disconnectCode', 'logger']);

const int = (name: string, v: unknown, min: number, fallback: number, max = Number.MAX_SAFE_INTEGER): number => {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw adminError('CONFIG_INVALID', `${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''} (got ${JSON.stringify(v)})`);
  return v;
};

/** Checks the options and fills in the defaults; throws `CONFIG_INVALID` naming the field. */
export function parseAdminOptions(input: AdminOptionsInput | undefined, defaults: { queryTimeoutMs: number }): AdminOptions {
  if (typeof input !== 'object' || input === null) throw adminError('CONFIG_INVALID', 'mountAdmin needs options with an authorize hook: mountAdmin(node, { authorize: (req) => ({ read, act }) })');
  for (const k of Object.keys(input)) if (!KNOWN.has(k)) throw adminError('CONFIG_INVALID', `unknown option "${k}" (known: ${[...KNOWN].join(', ')})`);
  const { authorize } = input;
  if (authorize === undefined) {
    throw adminError(
      'CONFIG_INVALID',
      `refusing to mount the admin dashboard without an authorize hook: anyone reaching it could drain nodes and disconnect clients. Pass authorize: (req) => boolean | { read, act }, or authorize: '${ALLOW_ALL_INSECURE}' to open it to everyone on purpose`,
    );
  }
  if (typeof authorize !== 'function' && authorize !== ALLOW_ALL_INSECURE) throw adminError('CONFIG_INVALID', `authorize must be a function (req) => boolean | { read, act }, or '${ALLOW_ALL_INSECURE}'`);
  const path = input.path ?? '/admin';
  if (typeof path !== 'string' || !/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/.test(path)) {
    throw adminError('CONFIG_INVALID', `path must start with /, not end with /, and hold no query, e.g. '/admin' (got ${JSON.stringify(path)})`);
  }
  if (input.challenge !== undefined && (typeof input.challenge !== 'string' || /[\r\n]/.test(input.challenge))) throw adminError('CONFIG_INVALID', 'challenge must be a one-line string, e.g. Basic realm="switchyard"');
  if (input.attach !== undefined && typeof input.attach !== 'boolean') throw adminError('CONFIG_INVALID', 'attach must be true or false');
  const disconnectCode = int('disconnectCode', input.disconnectCode, 1000, 4003, 4999);
  if (disconnectCode !== 1000 && disconnectCode < 4000) throw adminError('CONFIG_INVALID', `disconnectCode must be 1000 or an application code from 4000 to 4999 (got ${disconnectCode})`);
  return {
    authorize,
    path,
    challenge: input.challenge,
    attach: input.attach ?? true,
    refreshMs: int('refreshMs', input.refreshMs, 250, 2000),
    queryTimeoutMs: int('queryTimeoutMs', input.queryTimeoutMs, 1, defaults.queryTimeoutMs),
    maxEvents: int('maxEvents', input.maxEvents, 0, 200),
    maxConnections: int('maxConnections', input.maxConnections, 0, 500),
    disconnectCode,
    logger: input.logger,
  };
}
