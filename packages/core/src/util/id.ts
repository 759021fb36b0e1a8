import { randomBytes } from 'node:crypto';

/** A short random id, URL-safe, e.g. for nodes, sessions and envelopes. */
export function randomId(bytes = 12): string {
  return randomBytes(bytes).toString('base64url');
}

let counter = 0;
const prefix = randomId(6);
/** A cheap unique id for hot paths (envelopes): a random process prefix and a counter. */
export function nextId(): string {
  counter = (counter + 1) >>> 0;
  return `${prefix}${counter.toString(36)}`;
}
