/**
 * The early hello: the `hello` carried in the upgrade request, so a node can answer the upgrade
 * and the welcome in one write and the client skips a round trip (see docs/protocol.md, "Early
 * hello"). Browsers let a page set no header on a WebSocket but the subprotocol list, so the
 * hello rides there: the client offers
 *
 *   Sec-WebSocket-Protocol: switchyard.v1, switchyard.v1.early, switchyard.early.<base64url JSON hello>
 *
 * A node that took the hello selects `switchyard.v1.early` and the client sends no hello frame;
 * any other answer (`switchyard.v1`, from an older node or when the carried hello did not
 * parse) means "send the hello as a frame", exactly as without the early hello.
 *
 * No Node.js APIs here: the SDK runs in browsers.
 */

/** The subprotocol a node selects when it took the hello from the upgrade request. */
export const EARLY_SUBPROTOCOL = 'switchyard.v1.early';
/** The offered subprotocol carrying the hello: this prefix, then the hello's JSON in base64url (no padding). */
export const EARLY_HELLO_PREFIX = 'switchyard.early.';
/** The longest carrier the SDK offers, in characters; a larger hello (many rooms) goes as a frame. */
export const EARLY_HELLO_MAX_LENGTH = 4096;

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** UTF-8 bytes to base64url without padding (the alphabet is all HTTP token characters). */
function base64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += B64URL.charAt(n >> 18) + B64URL.charAt((n >> 12) & 63) + B64URL.charAt((n >> 6) & 63) + B64URL.charAt(n & 63);
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = ((bytes[i] as number) << 16) | (rest === 2 ? (bytes[i + 1] as number) << 8 : 0);
    out += B64URL.charAt(n >> 18) + B64URL.charAt((n >> 12) & 63);
    if (rest === 2) out += B64URL.charAt((n >> 6) & 63);
  }
  return out;
}

/** The subprotocol value carrying `helloJson`, or `undefined` when it would be longer than {@link EARLY_HELLO_MAX_LENGTH}. */
export function earlyHelloCarrier(helloJson: string): string | undefined {
  // 4 characters per 3 bytes, and at least one byte per UTF-16 unit: what is surely too long is not encoded
  if (EARLY_HELLO_PREFIX.length + Math.ceil(helloJson.length / 3) * 4 > EARLY_HELLO_MAX_LENGTH) return undefined;
  const value = EARLY_HELLO_PREFIX + base64url(new TextEncoder().encode(helloJson));
  return value.length <= EARLY_HELLO_MAX_LENGTH ? value : undefined;
}

/** The subprotocols a client offers: the plain one first, then the early hello when it fits. */
export function offeredSubprotocols(plain: string, helloJson: string | undefined): string[] {
  const carrier = helloJson === undefined ? undefined : earlyHelloCarrier(helloJson);
  return carrier === undefined ? [plain] : [plain, EARLY_SUBPROTOCOL, carrier];
}
