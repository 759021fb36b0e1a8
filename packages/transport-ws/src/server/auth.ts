import type { IncomingMessage } from 'node:http';
import { parseConfig } from '@switchyard/core/adapter';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { jwtOptionsSchema, type AuthenticateHook, type JwtOptionsInput } from '../options.js';

export type { AuthContext, AuthResult } from '../options.js';

/** The token of an upgrade request: `?token=` or `Authorization: Bearer`. */
export function tokenFromRequest(request: IncomingMessage): string | undefined {
  const q = request.url?.indexOf('?') ?? -1;
  if (q >= 0) {
    const t = new URLSearchParams((request.url as string).slice(q + 1)).get('token');
    if (t) return t;
  }
  const h = request.headers.authorization;
  if (h && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim() || undefined;
  return undefined;
}

/**
 * A ready `authenticate` hook that verifies a JWT with jose: HS256 (and HS384/512) with a
 * shared `secret`, or any asymmetric algorithm with keys from `jwksUrl`; checks `exp`/`nbf`
 * and optionally `iss`/`aud`. The user id is `sub`; every claim is kept as `conn.data.claims`.
 */
export function jwtAuth(options: JwtOptionsInput): AuthenticateHook {
  const o = parseConfig(jwtOptionsSchema, options, 'ws');
  const key = o.secret !== undefined ? new TextEncoder().encode(o.secret) : createRemoteJWKSet(new URL(o.jwksUrl as string));
  const verify: JWTVerifyOptions = {
    clockTolerance: o.clockToleranceSec,
    ...(o.issuer !== undefined ? { issuer: o.issuer } : {}),
    ...(o.audience !== undefined ? { audience: o.audience } : {}),
    ...(o.algorithms ? { algorithms: o.algorithms } : o.secret !== undefined ? { algorithms: ['HS256', 'HS384', 'HS512'] } : {}),
  };
  const cache = new VerifiedTokens(o.cacheSize, o.cacheTtlMs);
  return async ({ token }) => {
    if (!token) return null;
    let payload = cache.get(token);
    if (!payload) {
      try {
        payload = (typeof key === 'function' ? await jwtVerify(token, key, verify) : await jwtVerify(token, key, verify)).payload;
      } catch {
        return null;
      }
      cache.set(token, payload);
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) return null;
    return { userId: payload.sub, data: { claims: payload } };
  };
}

/**
 * Tokens verified lately, so that a reconnect storm (the clients of a dead node arriving at
 * once, each with the token it had) costs one signature check per token, not one per attempt.
 * An entry lives at most `ttlMs` and never past the token's own `exp`; the least recently used
 * goes first beyond `size` entries (0 turns the cache off).
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { payload: JWTPayload; until: number }>();

  constructor(
    private readonly size: number,
    private readonly ttlMs: number,
  ) {}

  get(token: string): JWTPayload | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    this.entries.delete(token);
    if (Date.now() >= e.until) return undefined;
    this.entries.set(token, e);
    return e.payload;
  }

  set(token: string, payload: JWTPayload): void {
    if (this.size <= 0) return;
    const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity;
    this.entries.set(token, { payload, until: Math.min(Date.now() + this.ttlMs, exp) });
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value as string);
  }
}
