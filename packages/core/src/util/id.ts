import { randomBytes } from 'node:crypto';

/** Random bytes drawn 4 KiB at a time: a connection storm asks for two ids per client. */
let pool = Buffer.alloc(0);
let used = 0;

/** A short random id, URL-safe, e.g. for nodes, sessions and envelopes. */
export function randomId(bytes = 12): string {
  if (bytes > 256) return randomBytes(bytes).toString('base64url');
  if (used + bytes > pool.length) {
    pool = randomBytes(4096);
    used = 0;
  }
  const id = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return id;
}

let counter = 0;
const prefix = randomId(6);
/** A cheap unique id for hot paths (envelopes): a random process prefix and a counter. */
export function nextId(): string {
  counter = (counter + 1) >>> 0;
  return `${prefix}${counter.toString(36)}`;
}
