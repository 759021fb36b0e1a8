/**
 * Every TypeScript snippet in README.md, docs/*.md and the packages' and examples' READMEs
 * compiles (strict, against the workspace's sources). How snippets are found, and how a
 * fragment declares the names it uses, is written in snippets.ts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';
import { checkSnippets, documentationSnippets, extractSnippets, type SnippetError } from './snippets.js';

const dir = join(repoRoot, '.cache', `snippets-${process.pid}`);
const snippets = documentationSnippets();
let errors: SnippetError[] = [];

describe('documentation snippets', () => {
  beforeAll(() => {
    errors = checkSnippets(snippets, dir);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the snippets of every documentation file, none skipped without a reason', () => {
    const files = new Set(snippets.map((s) => s.file));
    for (const f of ['README.md', 'docs/getting-started.md', 'packages/core/README.md', 'packages/transport-ws/README.md', 'packages/adapter-redis/README.md']) expect(files).toContain(f);
    expect(snippets.length).toBeGreaterThanOrEqual(20);
    for (const s of snippets) if (s.skip !== undefined) expect(s.skip, `${s.file}:${s.line}`).not.toBe('no reason given');
  });

  it.each(snippets.map((s) => [`${s.file}:${s.line}`, s] as const))('%s compiles', (_name, snippet) => {
    const mine = errors.filter((e) => e.snippet === snippet).map((e) => `${e.snippet.file}:${e.line}: TS${e.code} ${e.message}`);
    expect(mine, 'declare names the snippet takes from its surroundings in a <!-- snippet-context ... --> comment before the fence (see examples/test/snippets.ts)').toEqual([]);
  });
});

describe('the snippet checker', () => {
  const scratch = join(repoRoot, '.cache', `snippets-self-${process.pid}`);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('reports undefined names, wrong API use and bad imports at their Markdown line; a context comment declares what a fragment needs', () => {
    const md = [
      '# a page', //                                                                1
      '```ts', //                                                                   2
      "import { createClient } from '@switchyard/transport-ws/client';", //          3
      "const client = createClient({ url: 'ws://127.0.0.1:4000/ws', token });", //  4  token: undefined
      "client.room('lobby').on('message', (m) => render(m.data));", //               5  render: undefined
      '```', //                                                                     6
      '<!-- snippet-context', //                                                    7
      "import type { SwitchyardNode } from '@switchyard/transport-ws';", //         8
      'declare const node: SwitchyardNode;', //                                     9
      '-->', //                                                                     10
      '', //                                                                        11
      '```typescript', //                                                           12
      "await node.to('lobby').send('chat', { text: 'hi' });", //                    13  fine
      "node.nope();", //                                                            14  no such method
      '```', //                                                                     15
      '<!-- snippet-check: skip needs a package we do not install -->', //          16
      '```ts', //                                                                   17
      "import { Server } from 'socket.io';", //                                     18
      '```', //                                                                     19
      '```ts', //                                                                   20
      "import { nothing } from '@switchyard/core';", //                             21
      '```', //                                                                     22
      '```js', //                                                                   23
      'not checked at all', //                                                      24
      '```', //                                                                     25
    ].join('\n');
    const found = extractSnippets(md, 'page.md');
    expect(found.map((s) => [s.line, s.skip])).toEqual([[2, undefined], [12, undefined], [17, 'needs a package we do not install'], [20, undefined]]);
    const got = checkSnippets(found, scratch).map((e) => `${e.snippet.file}:${e.line}: TS${e.code}`);
    expect(got.sort()).toEqual(['page.md:14: TS2339', 'page.md:21: TS2305', 'page.md:4: TS18004', 'page.md:5: TS2304'].sort());
  }, 120_000);
});
