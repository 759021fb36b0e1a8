import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';

export interface OptionsTableOptions {
  /** The README holding the table: a path or a file URL (`new URL('../README.md', import.meta.url)`). */
  readme: string | URL;
  /** The heading of the section the table is the first table of, without the `#`s, e.g. `Options`. */
  section: string;
  /** The zod object schema the table documents (through refinements, defaults and pipes). */
  schema: z.ZodType;
  /** Options the table documents that are not in the schema (a factory's own options, e.g. `createCluster`'s ports). */
  also?: readonly string[];
}

/** What the table and the schema disagree on, by option name (`group.key` for a nested option). */
export interface OptionsTableDrift {
  /** In the schema (or `also`), missing from the table. */
  missing: string[];
  /** In the table, not in the schema. */
  unknown: string[];
}

type Def = { type?: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[] };
const defOf = (t: z.ZodType | undefined): Def | undefined => (t as unknown as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The object shape a schema validates, through optional, default, prefault, pipes and unions (its object member); undefined when it is no object. */
function shapeOf(schema: z.ZodType | undefined): Record<string, z.ZodType> | undefined {
  let t = schema;
  for (let i = 0; i < 20 && t; i++) {
    const d = defOf(t);
    if (!d) return undefined;
    if (d.shape) return d.shape;
    if (d.options) return d.options.map(shapeOf).find((s) => s !== undefined);
    t = d.innerType ?? d.in;
  }
  return undefined;
}

/**
 * The option names of the first table of a README section: every backticked name in the first
 * cell of each row (`a` / `b` and `a`, `b` name two options), in order.
 */
export function readOptionsTable(markdown: string, section: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^#{1,6} /.test(l) && l.replace(/^#{1,6} /, '').trim() === section);
  if (start < 0) throw new Error(`no section "${section}" in the README`);
  const names: string[] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6} /.test(line)) break;
    if (!line.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    const firstCell = line.slice(1).split(/(?<!\\)\|/)[0] ?? '';
    if (!inTable) {
      inTable = true; // the header row
      continue;
    }
    if (/^\s*:?-+:?\s*$/.test(firstCell)) continue;
    for (const m of firstCell.matchAll(/`([^`]+)`/g)) names.push(m[1] as string);
  }
  if (!inTable) throw new Error(`no table in section "${section}" of the README`);
  return names;
}

/**
 * Compare a table's option names with a schema's keys. A nested group (an object option such
 * as `history`) is covered when the table names the group itself, or names each of its keys
 * as `group.key`; naming only some of them leaves the others missing.
 */
export function compareOptionsTable(names: readonly string[], schema: z.ZodType, also: readonly string[] = []): OptionsTableDrift {
  const shape = shapeOf(schema);
  if (!shape) throw new Error('the schema is not an object schema');
  const documented = new Set(names);
  const missing: string[] = [];
  for (const key of [...Object.keys(shape), ...also]) {
    if (documented.has(key)) continue;
    const group = shapeOf(shape[key]);
    const nested = group ? Object.keys(group).map((k) => `${key}.${k}`) : [];
    if (nested.length > 0 && nested.some((n) => documented.has(n))) missing.push(...nested.filter((n) => !documented.has(n)));
    else missing.push(key);
  }
  const unknown = [...documented].filter((n) => {
    const [key, sub, ...rest] = n.split('.');
    if (sub === undefined) return !(key! in shape) && !also.includes(key!);
    const group = shapeOf(shape[key!]);
    return rest.length > 0 || !group || !(sub in group);
  });
  return { missing, unknown };
}

/**
 * A README options table kept in line with the zod schema it documents: the test fails naming
 * every option the schema has and the table lacks, and every one the table names that the
 * schema does not know.
 */
export function optionsTableContract(name: string, options: OptionsTableOptions): void {
  describe(`README options table: ${name}`, () => {
    it(`names every option of the schema under "${options.section}", and no other`, () => {
      const markdown = readFileSync(options.readme, 'utf8');
      const names = readOptionsTable(markdown, options.section);
      expect(compareOptionsTable(names, options.schema, options.also)).toEqual({ missing: [], unknown: [] });
    });
  });
}
