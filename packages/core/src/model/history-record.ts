/**
 * What a room's history keeps of each message: the transport's data, and who must not get it
 * (`except`) and its headers, so that a replay or a hole filled from history reaches exactly
 * the sockets the live message would have reached.
 *
 * Stored as JSON `{"$":1,"d":<data>,"x":[...],"h":{...}}`. Entries written before this format
 * (plain JSON of the data) are read as `{ data }`.
 */
export interface HistoryRecord {
  data: unknown;
  except?: string[] | undefined;
  headers?: Record<string, string> | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeHistoryRecord(r: HistoryRecord): Uint8Array {
  const rec: Record<string, unknown> = { $: 1, d: r.data === undefined ? null : r.data };
  if (r.except?.length) rec.x = r.except;
  if (r.headers) rec.h = r.headers;
  return encoder.encode(JSON.stringify(rec));
}

/** Decode a history entry's payload; undefined when it is not JSON. */
export function decodeHistoryRecord(payload: Uint8Array): HistoryRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(payload));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || (raw as { $?: unknown }).$ !== 1) return { data: raw };
  const o = raw as { d?: unknown; x?: unknown; h?: unknown };
  const except = Array.isArray(o.x) ? o.x.filter((v): v is string => typeof v === 'string') : undefined;
  const headers = typeof o.h === 'object' && o.h !== null && !Array.isArray(o.h) ? (o.h as Record<string, string>) : undefined;
  return { data: o.d, ...(except ? { except } : {}), ...(headers ? { headers } : {}) };
}
