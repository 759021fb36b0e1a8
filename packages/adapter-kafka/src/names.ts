import { createHash } from 'node:crypto';

/** Longest Kafka topic name. */
const MAX_TOPIC = 249;

/**
 * A stream name as a Kafka-safe, injective fragment: letters, digits and `-` stay, every
 * other UTF-8 byte becomes `_` and two lowercase hex digits. Names too long for Kafka become
 * `_x` and a SHA-256 (`x` is no hex digit, so no escaped name starts that way).
 */
export function streamFragment(prefix: string, stream: string): string {
  let out = '';
  for (const byte of Buffer.from(stream, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  // Room for `<prefix>h.` and `.<generation>` (13 digits at most).
  if (prefix.length + 2 + out.length + 14 > MAX_TOPIC) out = `_x${createHash('sha256').update(stream).digest('hex')}`;
  return out;
}

/** The history topic of one generation (epoch) of a stream: `<prefix>h.<fragment>.<generation>`. */
export const historyTopic = (prefix: string, stream: string, generation: number): string =>
  `${prefix}h.${streamFragment(prefix, stream)}.${generation}`;

/** Every generation of `stream` among `topics`, ascending. */
export function generationsOf(prefix: string, stream: string, topics: string[]): number[] {
  const base = `${prefix}h.${streamFragment(prefix, stream)}.`;
  return topics
    .filter((t) => t.startsWith(base) && /^\d{1,15}$/.test(t.slice(base.length)))
    .map((t) => Number(t.slice(base.length)))
    .sort((a, b) => a - b);
}

/** The epoch string of a generation. */
export const epochOf = (generation: number): string => `g${generation.toString(36)}`;
