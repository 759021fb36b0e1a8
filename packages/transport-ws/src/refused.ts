/** Longest refusal sent to a client, in characters; a longer message is cut there. */
export const MAX_REFUSAL_LENGTH = 256;

/**
 * Thrown by a `conn.on('message')` handler to refuse the request in its own words: the client's
 * ack fails with code `refused` and this message (at most 256 characters). Any other throw
 * fails the ack with `internal` and none of the error's words. Told apart by `name`
 * (`isMessageRefused`), so that two copies of the package agree.
 */
export class MessageRefused extends Error {
  override readonly name = 'MessageRefused';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** True for a `MessageRefused`, from any copy of the package. */
export function isMessageRefused(err: unknown): err is MessageRefused {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; message?: unknown };
  return e.name === 'MessageRefused' && typeof e.message === 'string';
}

/** The refusal's words as sent: cut at `MAX_REFUSAL_LENGTH` characters (never inside one). */
export function refusalText(err: MessageRefused): string {
  const chars = [...err.message];
  return chars.length <= MAX_REFUSAL_LENGTH ? err.message : chars.slice(0, MAX_REFUSAL_LENGTH).join('');
}
