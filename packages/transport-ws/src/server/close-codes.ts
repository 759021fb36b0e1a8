// One table for both sides: the SDK's (it has no dependencies, so the server can share it).
import { CloseCode } from '../client/close-codes.js';

export { CloseCode };

/** The protocol name of each code, for logs and metric labels. */
export const closeCodeName = (code: number): string => {
  for (const [name, value] of Object.entries(CloseCode)) if (value === code) return name.replace(/[A-Z]/g, (c, i: number) => (i ? '_' : '') + c.toLowerCase());
  return 'other';
};

/** Close reasons are limited to 123 bytes by RFC 6455. */
export const fitReason = (reason: string): string => (Buffer.byteLength(reason) <= 123 ? reason : '');
