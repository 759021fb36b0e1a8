import type { z } from 'zod';
import { SwitchyardError } from '../errors.js';
import type { Logger } from '../logger.js';

/** One bad option of a CONFIG_INVALID error: `details.issues` is a list of these, in every package. */
export interface ConfigIssue {
  /** The option, dotted for a nested one (`history.maxLength`); empty for the options as a whole. */
  path: string;
  /** What is wrong with it, in plain words. */
  message: string;
}

export interface ParseConfigOptions {
  /** Top-level keys the caller takes out before validating (a factory's own options): named as known in an unknown-key hint. */
  alsoKnown?: readonly string[];
  /** What is being validated, in the message: `invalid <what>: ...` (default `configuration`). */
  what?: string;
  /**
   * Deprecated option names still accepted, old dotted path → new dotted path
   * (`{ bufferSize: 'publishBufferSize', historyMaxLength: 'history.maxLength' }`). An old name
   * given alone is moved to the new one, with one warning on the options' own `logger` (if any);
   * given beside the new one, the new one wins (warned when they differ).
   */
  aliases?: Readonly<Record<string, string>>;
  /**
   * Option names of earlier releases that are refused, old dotted path → what to do instead, in
   * plain words (`{ heartbeatMs: 'moved to timeouts.heartbeatMs' }`): an old name given (an
   * unknown key to a strict schema) is named with that message rather than `unknown option`.
   */
  retired?: Readonly<Record<string, string>>;
}

/**
 * Validate options with a zod schema and return them with their defaults; anything bad throws
 * one SwitchyardError CONFIG_INVALID (with `source`) naming every bad option and the reason,
 * `details.issues` a `ConfigIssue[]`. An unknown key (with a strict schema) is named with the
 * closest known one: `unknown option balancr (did you mean balancer?)`.
 *
 * The one options parser of every package: an adapter calls it from its `parse...Options`.
 * `options` may be the `alsoKnown` list alone (older callers).
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  source = 'core',
  options: readonly string[] | ParseConfigOptions = {},
): z.output<S> {
  const { alsoKnown = [], what = 'configuration', aliases, retired } = isKnownList(options) ? { alsoKnown: options } : options;
  const result = schema.safeParse(aliases ? renameAliases(input, aliases, source) : input);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.flatMap((i) => {
    const at = i.path.map(String);
    if (i.code !== 'unrecognized_keys') return [{ path: at.join('.'), message: i.message }];
    const known = at.length === 0 ? [...keysAt(schema, at), ...alsoKnown] : keysAt(schema, at);
    return i.keys.map((k) => {
      const instead = retired?.[[...at, k].join('.')];
      if (instead !== undefined) return { path: [...at, k].join('.'), message: instead };
      const near = closest(k, known);
      return { path: [...at, k].join('.'), message: `unknown option${near ? ` (did you mean ${[...at, near].join('.')}?)` : known.length ? ` (known: ${known.join(', ')})` : ''}` };
    });
  });
  throw new SwitchyardError('CONFIG_INVALID', `invalid ${what}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, {
    source,
    details: { issues },
  });
}

const isKnownList = (o: readonly string[] | ParseConfigOptions): o is readonly string[] => Array.isArray(o);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy of `input` with each deprecated name moved to its new one (objects along the way copied, never mutated). */
function renameAliases(input: unknown, aliases: Readonly<Record<string, string>>, source: string): unknown {
  if (!isRecord(input)) return input;
  const out: Record<string, unknown> = { ...input };
  const logger = isRecord(out.logger) && typeof out.logger.warn === 'function' ? (out.logger as unknown as Logger) : undefined;
  const warnings: string[] = [];
  for (const [from, to] of Object.entries(aliases)) {
    const old = take(out, from.split('.'));
    if (old === undefined) continue;
    const current = get(out, to.split('.'));
    if (current === undefined) {
      put(out, to.split('.'), old);
      warnings.push(`option ${from} is deprecated: it is now ${to}`);
    } else if (current !== old) {
      warnings.push(`options ${from} (deprecated) and ${to} both given: ${to} is used`);
    }
  }
  for (const w of warnings) logger?.warn({ source }, `[switchyard] [${source}] ${w}`);
  return out;
}

/** Remove and return the value at `path`, copying the objects it goes through. */
function take(root: Record<string, unknown>, path: string[]): unknown {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isRecord(next)) return undefined;
    node = node[key] = { ...next };
  }
  const last = path[path.length - 1] as string;
  if (!(last in node)) return undefined;
  const value = node[last];
  delete node[last];
  return value;
}

function get(root: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = root;
  for (const key of path) node = isRecord(node) ? node[key] : undefined;
  return node;
}

/** Set the value at `path`, creating (or copying) the objects it goes through. */
function put(root: Record<string, unknown>, path: string[], value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = node[key] = isRecord(next) ? { ...next } : {};
  }
  node[path[path.length - 1] as string] = value;
}

type Def = { type?: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType>; in?: z.ZodType; options?: z.ZodType[] };
const defOf = (t: z.ZodType | undefined): Def | undefined => (t as unknown as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The keys an object schema at `path` knows (through optional, default, pipes and unions). */
function keysAt(schema: z.ZodType, path: string[]): string[] {
  let t: z.ZodType | undefined = schema;
  const unwrap = (x: z.ZodType | undefined): Record<string, z.ZodType> | undefined => {
    for (let i = 0; i < 10 && x; i++) {
      const d = defOf(x);
      if (!d) return undefined;
      if (d.shape) return d.shape;
      if (d.options) {
        const obj = d.options.map((o) => unwrap(o)).find((s) => s !== undefined);
        return obj;
      }
      x = d.innerType ?? d.in;
    }
    return undefined;
  };
  for (const key of path) t = unwrap(t)?.[key];
  return Object.keys(unwrap(t) ?? {});
}

/** The known key nearest `key` (edit distance at most a third of its length, at least 2), if any. */
function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}
