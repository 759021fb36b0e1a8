/**
 * The dashboard's HTTP surface under `path`: the page and its two files, the JSON API, the
 * live stream and the two actions. Every request is authorized first: nothing without `read`
 * (401), actions without `act` (403) or from another site (403).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@switchyard/core';
import type { HttpHandler, SwitchyardNode } from '@switchyard/transport-ws';
import { loadAssets } from './assets.js';
import { ACTION_HEADER, crossSiteReason, permissionsOf, type AdminPermissions } from './authorize.js';
import type { AdminActions } from './actions.js';
import type { EventLog } from './events.js';
import type { LiveFeed } from './feed.js';
import type { AdminOptions } from './options.js';
import type { ClusterSnapshot } from './snapshot.js';
import { HttpError } from './http-error.js';

export interface AdminContext {
  node: SwitchyardNode;
  options: AdminOptions;
  log: EventLog;
  feed: LiveFeed;
  actions: AdminActions;
  snapshot(): Promise<ClusterSnapshot>;
  logger: Logger;
}

/** Sent with every answer: the page loads only its own files and cannot be framed. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const MAX_BODY = 4096;

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, ...extra, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'too_large', `the request body is larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, 'bad_request', 'the request body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

const segment = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'bad_request', 'malformed percent-encoding in the URL');
  }
};

/** The handler: serves `path` and below, calls `next()` (or answers 404) for anything else. */
export function createAdminHandler(ctx: AdminContext): HttpHandler {
  const { path } = ctx.options;
  return (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path && !url.pathname.startsWith(`${path}/`)) {
      if (next) return next();
      return send(res, 404, { error: 'not_found', message: `nothing here; the admin dashboard is at ${path}/` });
    }
    handle(ctx, req, res, url).catch((err: unknown) => {
      if (err instanceof HttpError) return send(res, err.status, { error: err.code, message: err.message });
      ctx.logger.warn({ err, path: url.pathname }, 'admin request failed');
      send(res, 500, { error: 'internal', message: 'the admin request failed on the server (see its log)' });
    });
  };
}

async function handle(ctx: AdminContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const { options } = ctx;
  const rest = url.pathname.slice(options.path.length) || '';
  let perms: AdminPermissions;
  try {
    perms = await permissionsOf(options.authorize, req);
  } catch (err) {
    ctx.logger.warn({ err }, 'admin authorize hook threw: request denied');
    throw new HttpError(500, 'authorize_failed', 'the authorize hook failed, so the request was denied (see the server log)');
  }
  if (!perms.read) {
    return send(res, 401, { error: 'unauthorized', message: 'not authorized to view the admin dashboard: sign in with an account that may read it' }, options.challenge ? { 'www-authenticate': options.challenge } : {});
  }
  const method = req.method ?? 'GET';
  if (method === 'POST') return post(ctx, perms, req, res, rest);
  if (method !== 'GET' && method !== 'HEAD') return send(res, 405, { error: 'method_not_allowed', message: `${method} is not served here: use GET to read, POST for actions` }, { allow: 'GET, HEAD, POST' });
  if (rest === '') {
    res.writeHead(308, { ...SECURITY_HEADERS, location: `${options.path}/${url.search}` });
    return void res.end();
  }
  const file = rest === '/' ? 'index.html' : rest.slice(1);
  if (!file.startsWith('api/')) {
    const asset = (await loadAssets()).get(file);
    if (!asset) return send(res, 404, { error: 'not_found', message: `no file ${rest} in the admin dashboard` });
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': String(asset.body.length) });
    return void res.end(method === 'HEAD' ? undefined : asset.body);
  }
  const api = file.slice('api'.length);
  if (api === '/me') return send(res, 200, { ...perms, node: ctx.node.id, actionHeader: ACTION_HEADER });
  if (api === '/snapshot') return send(res, 200, await ctx.snapshot());
  if (api === '/events') return send(res, 200, { events: ctx.log.recent() });
  if (api === '/stream') return ctx.feed.open(req, res, SECURITY_HEADERS);
  let m = /^\/nodes\/([^/]+)\/connections$/.exec(api);
  if (m) {
    const limit = Number(url.searchParams.get('limit') ?? options.maxConnections);
    const room = url.searchParams.get('room') ?? undefined;
    return send(res, 200, await ctx.actions.connections(segment(m[1] as string), Number.isInteger(limit) && limit >= 0 ? limit : options.maxConnections, room));
  }
  m = /^\/rooms\/([^/]+)\/members$/.exec(api);
  if (m) return send(res, 200, await ctx.node.roomMembers(segment(m[1] as string), { timeoutMs: options.queryTimeoutMs }));
  return send(res, 404, { error: 'not_found', message: `no such admin API: ${api}` });
}

async function post(ctx: AdminContext, perms: AdminPermissions, req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
  if (!perms.act) return send(res, 403, { error: 'forbidden', message: 'this account may view the admin dashboard but not act: draining nodes and disconnecting clients need the act permission' });
  const why = crossSiteReason(req);
  if (why) return send(res, 403, { error: 'cross_site', message: why });
  let m = /^\/api\/nodes\/([^/]+)\/drain$/.exec(rest);
  if (m) return send(res, 202, await ctx.actions.drain(segment(m[1] as string)));
  m = /^\/api\/connections\/([^/]+)\/disconnect$/.exec(rest);
  if (m) {
    const body = (await readBody(req)) as { code?: unknown; reason?: unknown };
    return send(res, 202, await ctx.actions.disconnect(segment(m[1] as string), body));
  }
  return send(res, 404, { error: 'not_found', message: `no such admin action: POST ${rest}` });
}
