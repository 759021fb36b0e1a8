import { compareOptionsTable, optionsTableContract, readOptionsTable } from '@switchyard/core/testing';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clusterConfigSchema } from '../src/config/schema.js';

// createCluster's own options (ports, logger, container hook) are not cluster configuration: they are the OWN_KEYS of create-cluster.ts.
const source = readFileSync(new URL('../src/create-cluster.ts', import.meta.url), 'utf8');
const ownKeys = [...(/const OWN_KEYS = \[([^\]]*)\]/.exec(source)?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1] as string);

optionsTableContract('core createCluster', {
  readme: new URL('../README.md', import.meta.url),
  section: 'Options (`createCluster`)',
  schema: clusterConfigSchema,
  also: ownKeys,
});

describe('the README options table check', () => {
  it('finds createCluster own options in its source', () => {
    expect(ownKeys).toEqual(expect.arrayContaining(['adapter', 'bus', 'logger', 'configure']));
  });

  it('names what the table lacks and what it has too many, nested groups included', () => {
    const schema = z
      .strictObject({
        url: z.string().optional(),
        retries: z.number().default(3),
        history: z.strictObject({ maxLength: z.number().default(10), maxAgeMs: z.number().default(0) }).prefault({}),
        batch: z.strictObject({ size: z.number().default(1) }).prefault({}),
        limit: z.union([z.literal(false), z.strictObject({ rate: z.number() })]).default(false),
      })
      .refine((o) => o.retries >= 0);
    const readme = [
      '# pkg',
      '## Options',
      '',
      '| option | default | meaning |',
      '|---|---|---|',
      '| `url` / `retired` | none | where |',
      '| `history.maxLength` | `10` | kept \\| trimmed |',
      '| `batch` | `{ size: 1 }` | batching |',
      '| `limit.rate`, `limit.burst` | | |',
      '',
      '## Next',
      '| `retries` | | |',
    ].join('\n');
    const names = readOptionsTable(readme, 'Options');
    expect(names).toEqual(['url', 'retired', 'history.maxLength', 'batch', 'limit.rate', 'limit.burst']);
    expect(compareOptionsTable(names, schema, ['logger'])).toEqual({ missing: ['retries', 'history.maxAgeMs', 'logger'], unknown: ['retired', 'limit.burst'] });
    expect(() => readOptionsTable(readme, 'Usage')).toThrow(/no section "Usage"/);
  });
});
