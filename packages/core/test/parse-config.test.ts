import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isSwitchyardError } from '../src/index.js';
import { parseConfig, type ConfigIssue } from '../src/adapter.js';

/** An adapter-like schema: flat options, a nested group, a refinement across two options. */
const schema = z
  .strictObject({
    url: z.string().regex(/^demo:\/\//, 'must start with demo://').optional(),
    publishBufferSize: z.number().int().min(0).default(10_000),
    history: z
      .strictObject({
        maxLength: z.number().int().min(1).default(1000),
        readLimit: z.number().int().min(1).default(1000),
      })
      .prefault({}),
  })
  .refine((o) => o.history.readLimit <= o.history.maxLength, { message: 'must not exceed history.maxLength', path: ['history', 'readLimit'] });

function failure(input: unknown, ...rest: [string?, Parameters<typeof parseConfig>[3]?]): { message: string; source: string; issues: ConfigIssue[] } {
  try {
    parseConfig(schema, input, ...rest);
  } catch (err) {
    expect(isSwitchyardError(err, 'CONFIG_INVALID')).toBe(true);
    const e = err as { message: string; source: string; details: { issues: ConfigIssue[] } };
    return { message: e.message, source: e.source, issues: e.details.issues };
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('parseConfig, the one options parser of every package', () => {
  it('returns the options with their defaults', () => {
    expect(parseConfig(schema, {})).toEqual({ publishBufferSize: 10_000, history: { maxLength: 1000, readLimit: 1000 } });
    expect(parseConfig(schema, { history: { maxLength: 5, readLimit: 5 } }).history).toEqual({ maxLength: 5, readLimit: 5 });
  });

  it('names every bad option with its reason, in the message and in details.issues as { path, message }', () => {
    const f = failure({ url: 'http://x', publishBufferSize: -1, history: { readLimit: 0 } }, 'demo');
    expect(f.source).toBe('demo');
    expect(f.message).toMatch(/^\[switchyard\] \[demo\] invalid configuration: /);
    expect(f.issues.map((i) => i.path).sort()).toEqual(['history.readLimit', 'publishBufferSize', 'url']);
    for (const issue of f.issues) {
      expect(Object.keys(issue).sort()).toEqual(['message', 'path']);
      expect(f.message).toContain(`${issue.path}: ${issue.message}`);
    }
    expect(f.issues.find((i) => i.path === 'url')?.message).toBe('must start with demo://');
  });

  it('says "did you mean" for an unknown key near a known one, at the top and inside a group', () => {
    const top = failure({ publishBuferSize: 5 });
    expect(top.issues).toEqual([{ path: 'publishBuferSize', message: 'unknown option (did you mean publishBufferSize?)' }]);
    const nested = failure({ history: { maxLenght: 5 } });
    expect(nested.message).toContain('history.maxLenght: unknown option (did you mean history.maxLength?)');
  });

  it('lists the known options when an unknown key is near none of them', () => {
    const f = failure({ history: { zzzzzzzz: 1 } });
    expect(f.issues[0]).toEqual({ path: 'history.zzzzzzzz', message: 'unknown option (known: maxLength, readLimit)' });
  });

  it('takes the names a factory handles itself as known (alsoKnown), as a list or in the options', () => {
    const strict = z.strictObject({ size: z.number().optional() });
    const hint = (options: Parameters<typeof parseConfig>[3]) => {
      try {
        parseConfig(strict, { adaptr: 1 }, 'core', options);
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(hint(['adapter'])).toContain('adaptr: unknown option (did you mean adapter?)');
    expect(hint({ alsoKnown: ['adapter'] })).toContain('adaptr: unknown option (did you mean adapter?)');
    expect(hint({})).not.toContain('did you mean');
  });

  it('names a retired option with what to do instead, beside the other issues', () => {
    const retired = { bufferSize: 'moved to publishBufferSize', 'history.size': 'moved to history.maxLength', ttlMs: 'removed: set it on createCluster' };
    const f = failure({ bufferSize: 5, ttlMs: 1, publishBuferSize: 5, history: { size: 3 } }, 'demo', { retired });
    expect(f.issues).toEqual(expect.arrayContaining([
      { path: 'bufferSize', message: 'moved to publishBufferSize' },
      { path: 'ttlMs', message: 'removed: set it on createCluster' },
      { path: 'publishBuferSize', message: 'unknown option (did you mean publishBufferSize?)' },
      { path: 'history.size', message: 'moved to history.maxLength' },
    ]));
    expect(f.issues).toHaveLength(4);
    expect(f.message).toContain('bufferSize: moved to publishBufferSize');
  });

  it('reports a refinement across options at the option it names, and says what was validated', () => {
    const f = failure({ history: { maxLength: 10, readLimit: 20 } }, 'demo', { what: 'demo options' });
    expect(f.message).toContain('invalid demo options: history.readLimit: must not exceed history.maxLength');
    expect(f.issues).toEqual([{ path: 'history.readLimit', message: 'must not exceed history.maxLength' }]);
  });

  it('says (root) for options that are not an object at all', () => {
    const f = failure('redis://x');
    expect(f.issues[0]?.path).toBe('');
    expect(f.message).toMatch(/invalid configuration: \(root\): /);
  });

  it('moves deprecated names to their new ones, one warning each on the options\' logger, the caller\'s object untouched', () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_o: unknown, msg?: string) => void warnings.push(String(msg)) };
    const withLogger = z.strictObject({
      publishBufferSize: z.number().int().min(0).default(10_000),
      history: z.strictObject({ maxLength: z.number().int().min(1).default(1000) }).prefault({}),
      logger: z.unknown().optional(),
    });
    const aliases = { bufferSize: 'publishBufferSize', historyMaxLength: 'history.maxLength' };
    const input = { bufferSize: 5, historyMaxLength: 50, logger };
    const o = parseConfig(withLogger, input, 'demo', { aliases });
    expect(o).toMatchObject({ publishBufferSize: 5, history: { maxLength: 50 } });
    expect(input).toEqual({ bufferSize: 5, historyMaxLength: 50, logger });
    expect(warnings).toEqual([
      '[switchyard] [demo] option bufferSize is deprecated: it is now publishBufferSize',
      '[switchyard] [demo] option historyMaxLength is deprecated: it is now history.maxLength',
    ]);
    // Both names: the new one wins, warned only when they differ.
    expect(parseConfig(withLogger, { bufferSize: 5, publishBufferSize: 6, logger }, 'demo', { aliases }).publishBufferSize).toBe(6);
    expect(warnings[2]).toBe('[switchyard] [demo] options bufferSize (deprecated) and publishBufferSize both given: publishBufferSize is used');
    parseConfig(withLogger, { bufferSize: 6, publishBufferSize: 6, logger }, 'demo', { aliases });
    expect(warnings).toHaveLength(3);
    // A bad value under an old name is named by its new one.
    expect(failure({ bufferSize: -1 }, 'demo', { aliases: { bufferSize: 'publishBufferSize' } }).issues.map((i) => i.path)).toEqual(['publishBufferSize']);
  });
});
