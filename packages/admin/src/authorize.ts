import type { IncomingMessage } from 'node:http';

/** What a request may do: `read` views the dashboard and its API, `act` drains nodes and disconnects clients. */
export interface AdminPermissions {
  read: boolean;
  act: boolean;
}

/**
 * Decides what a request may do. `true`: read and act; `false`: nothing (401);
 * `{ read, act }`: each on its own (a reader without `act` gets 403 on actions and sees no buttons).
 * Runs for every request under the admin path, pages and scripts included.
 */
export type AuthorizeHook = (req: IncomingMessage) => boolean | AdminPermissions | Promise<boolean | AdminPermissions>;

/** The explicit opt-out: anyone who reaches the path may view and act. For local experiments only. */
export const ALLOW_ALL_INSECURE = 'allow-all-insecure';

const NONE: AdminPermissions = { read: false, act: false };
const ALL: AdminPermissions = { read: true, act: true };

/** The hook's answer as permissions; anything that is not `true` or an object of booleans denies. `act` implies nothing without `read`. */
export async function permissionsOf(hook: AuthorizeHook | typeof ALLOW_ALL_INSECURE, req: IncomingMessage): Promise<AdminPermissions> {
  if (hook === ALLOW_ALL_INSECURE) return ALL;
  const answer = await hook(req);
  if (answer === true) return ALL;
  if (typeof answer !== 'object' || answer === null) return NONE;
  const read = answer.read === true;
  return { read, act: read && answer.act === true };
}

/** The header the dashboard sends with every action; a plain form or a cross-site page cannot send it without our consent. */
export const ACTION_HEADER = 'x-switchyard-admin';

/**
 * Why a POST must be refused as a cross-site request, or undefined when it may go on.
 * Actions need the custom header (a cross-origin page can only send it after a CORS preflight,
 * which we never approve), and when the browser says where the request comes from
 * (`Origin`, `Sec-Fetch-Site`) it must be this very origin.
 */
export function crossSiteReason(req: IncomingMessage): string | undefined {
  if (req.headers[ACTION_HEADER] !== '1') return `actions need the header "${ACTION_HEADER}: 1" (sent by the dashboard page; it keeps other sites from posting here)`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `cross-site request refused (Sec-Fetch-Site: ${String(site)})`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'cross-site request refused (unreadable Origin header)';
    }
    const forwarded = req.headers['x-forwarded-host'];
    const hosts = [req.headers.host, ...(typeof forwarded === 'string' ? forwarded.split(',').map((h) => h.trim()) : [])];
    if (!hosts.includes(host)) return `cross-site request refused (Origin ${origin} is not this server)`;
  } else if (origin === 'null') {
    return 'cross-site request refused (Origin: null)';
  }
  return undefined;
}
