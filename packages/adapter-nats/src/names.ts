import { createHash } from 'node:crypto';

/** Encoded names longer than this are replaced by a hash, so subjects stay well under the server's control-line limit. */
export const MAX_TOKEN_LENGTH = 128;

/**
 * Turn any Switchyard name (spaces, unicode, `.`, `*`, `>`, empty) into one literal NATS
 * subject token that is also a valid KV key part: base64url of the UTF-8 bytes. Long names
 * become `=h` + SHA-256 (base64url), the empty name `=e`. Base64url never contains `=`, so
 * the three forms cannot collide, and the mapping is the same on every node.
 */
export function encodeToken(name: string): string {
  if (name === '') return '=e';
  const b64 = Buffer.from(name, 'utf8').toString('base64url');
  if (b64.length <= MAX_TOKEN_LENGTH) return b64;
  return `=h${createHash('sha256').update(name, 'utf8').digest('base64url')}`;
}

/** Inverse of `encodeToken` for the base64url form; null for hashed names (not reversible). */
export function decodeToken(token: string): string | null {
  if (token === '=e') return '';
  if (token.startsWith('=')) return null;
  return Buffer.from(token, 'base64url').toString('utf8');
}

/** Subject of a bus topic: `<prefix>.t.<token>`. */
export const topicSubject = (prefix: string, topic: string): string => `${prefix}.t.${encodeToken(topic)}`;

/** Subject of a history stream (one per room): `<prefix>.h.<token>`. */
export const historySubject = (prefix: string, stream: string): string => `${prefix}.h.${encodeToken(stream)}`;

/** Every history subject under a prefix, for the stream's subject list. */
export const historyWildcard = (prefix: string): string => `${prefix}.h.>`;

/** KV keys, one namespace letter per kind of record. */
export const Keys = {
  node: (id: string) => `n.${encodeToken(id)}`,
  nodes: 'n.>',
  lease: (name: string) => `l.${encodeToken(name)}`,
  session: (id: string) => `s.${encodeToken(id)}`,
  sessions: 's.>',
  affinity: (key: string) => `a.${encodeToken(key)}`,
  epoch: (stream: string) => `e.${encodeToken(stream)}`,
} as const;
