import { createHash } from 'node:crypto';
import { SwitchyardError } from '@switchyard/core';
import { IDENTIFIER_PATTERN } from './options.js';

/**
 * Quote a validated identifier for SQL. Refuses anything that is not a plain lower-case
 * identifier, so configuration can never smuggle SQL in, then quotes it anyway.
 */
export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new SwitchyardError('CONFIG_INVALID', `refusing identifier ${JSON.stringify(name)}`, { source: 'postgres' });
  }
  return `"${name.replace(/"/g, '""')}"`;
}

const TABLES = ['migrations', 'sessions', 'affinity', 'nodes', 'leases', 'streams', 'history', 'bus_payloads'] as const;
export type TableName = (typeof TABLES)[number];

/** Quoted, schema-qualified names of everything this package creates, from a validated schema and prefix. */
export class Names {
  readonly schema: string;
  private readonly tables: Record<TableName, string>;

  constructor(
    readonly schemaName: string,
    readonly prefix: string,
  ) {
    if (!IDENTIFIER_PATTERN.test(schemaName)) {
      throw new SwitchyardError('CONFIG_INVALID', `schema: must match ${IDENTIFIER_PATTERN.source}`, { source: 'postgres' });
    }
    if (!IDENTIFIER_PATTERN.test(prefix)) {
      throw new SwitchyardError('CONFIG_INVALID', `tablePrefix: must match ${IDENTIFIER_PATTERN.source}`, { source: 'postgres' });
    }
    this.schema = quoteIdent(schemaName);
    this.tables = Object.fromEntries(TABLES.map((t) => [t, `${this.schema}.${quoteIdent(prefix + t)}`])) as Record<TableName, string>;
  }

  /** `"schema"."<prefix>table"` */
  table(name: TableName): string {
    return this.tables[name];
  }

  /** An index name (unqualified, quoted): `"<prefix><suffix>"`. Suffixes are at most 22 characters. */
  index(suffix: string): string {
    return quoteIdent(this.prefix + suffix);
  }

  /**
   * A legal LISTEN/NOTIFY channel for an arbitrary name: the prefix, a kind letter and the
   * hex SHA-1 of schema and name, cut to 63 bytes. The real name travels in the payload and
   * listeners ignore mismatches, so a truncation collision costs a little work, never a wrong delivery.
   */
  channel(kind: 'b' | 'r', name: string): string {
    const hex = createHash('sha1').update(`${this.schemaName}\0${name}`).digest('hex');
    const room = 63 - this.prefix.length - 2;
    return `${this.prefix}${kind}_${hex.slice(0, Math.min(40, room))}`;
  }

  /** A stable 64-bit advisory lock key for this schema and prefix, as a decimal string for `$1::bigint`. */
  lockKey(purpose: string): string {
    const digest = createHash('sha1').update(`switchyard:${purpose}:${this.schemaName}:${this.prefix}`).digest();
    return digest.readBigInt64BE(0).toString();
  }
}
