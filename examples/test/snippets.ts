/**
 * Type-checks the TypeScript snippets of the documentation. Every fenced block marked `ts` or
 * `typescript` becomes a module of its own, compiled together with the repository's TypeScript
 * and `tsconfig.base.json` (strict; the workspace packages resolve to their sources through the
 * `@switchyard/source` condition), from a directory under the ignored `.cache/`.
 *
 * A snippet must compile as written. A name it uses without defining (a fragment about `node`,
 * an application's own `pool`) is declared in an HTML comment right before the fence, which
 * readers of the rendered page do not see:
 *
 *     <!-- snippet-context
 *     import type { SwitchyardNode } from '@switchyard/transport-ws';
 *     declare const node: SwitchyardNode;
 *     -->
 *     ```ts
 *     await node.to('lobby').send('chat', { text: 'hi' });
 *     ```
 *
 * The context is put before the snippet (it may import and `declare` whatever the snippet
 * needs). `<!-- snippet-check: skip <why> -->` before a fence leaves the block out; say why.
 * A relative import (`./tier-balancer.js`) is resolved from the Markdown file's folder.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './helpers.js';

export interface Snippet {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** Line of the opening fence (1-based). */
  line: number;
  code: string;
  /** TypeScript put before the snippet (from a snippet-context comment). */
  context: string;
  /** Why it is not checked, when a snippet-check: skip comment says so. */
  skip?: string;
}

export interface SnippetError {
  snippet: Snippet;
  /** Line in the Markdown file (1-based), or the fence's line for an error in the context. */
  line: number;
  code: number;
  message: string;
}

/** The Markdown files whose snippets are checked: README.md, docs/*.md, packages/* and examples/* READMEs. */
export function documentationFiles(root = repoRoot): string[] {
  const md = (dir: string) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.md')).map((f) => join(dir, f));
  const readmes = (dir: string) =>
    readdirSync(join(root, dir), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => (readdirSync(join(root, dir, d.name)).includes('README.md') ? [join(dir, d.name, 'README.md')] : []));
  return ['README.md', ...md('docs'), ...readmes('packages'), ...readmes('examples')];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;

/** The `ts` / `typescript` blocks of one Markdown text, with the context comment before each. */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (!open) continue;
    const [, indent, fence, lang] = open as unknown as [string, string, string, string];
    let end = i + 1;
    while (end < lines.length && !(lines[end] as string).trimStart().startsWith(fence)) end++;
    if (lang === 'ts' || lang === 'typescript') {
      const code = lines
        .slice(i + 1, end)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
        .join('\n');
      out.push({ file, line: i + 1, code, ...commentsBefore(lines, i) });
    }
    i = end;
  }
  return out;
}

/** The snippet-context and snippet-check comments between the previous block of text and the fence at `i`. */
function commentsBefore(lines: string[], i: number): { context: string; skip?: string } {
  // walk up over blank lines and HTML comments only
  let j = i - 1;
  let text = '';
  while (j >= 0) {
    const l = lines[j] as string;
    if (l.trim() === '') {
      j--;
      continue;
    }
    if (!l.trimEnd().endsWith('-->')) break;
    let k = j;
    while (k >= 0 && !(lines[k] as string).includes('<!--')) k--;
    if (k < 0) break;
    text = `${lines.slice(k, j + 1).join('\n')}\n${text}`;
    j = k - 1;
  }
  const result: { context: string; skip?: string } = { context: '' };
  for (const m of text.matchAll(/<!--\s*snippet-(context|check)\b:?([\s\S]*?)-->/g)) {
    const [, kind, body] = m as unknown as [string, string, string];
    if (kind === 'context') result.context += `${body.trim()}\n`;
    else if (/^\s*skip\b/.test(body)) result.skip = body.replace(/^\s*skip\b:?/, '').trim() || 'no reason given';
  }
  return result;
}

/** Writes every snippet to `dir` and type-checks them in one program; the errors, mapped back to the Markdown. */
export function checkSnippets(snippets: Snippet[], dir: string): SnippetError[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const byPath = new Map<string, { snippet: Snippet; contextLines: number }>();
  snippets.forEach((s, n) => {
    if (s.skip !== undefined) return;
    const name = `${String(n).padStart(3, '0')}-${s.file.replace(/[^A-Za-z0-9]+/g, '-')}-L${s.line}.ts`;
    const context = s.context ? `${s.context.trimEnd()}\n` : '';
    const isModule = /^\s*(import|export)\s/m.test(context + s.code);
    // relative imports point where they do from the Markdown file's folder
    const from = join(repoRoot, dirname(s.file));
    const source = `${context}${s.code}`.replace(/(\bfrom\s+|\bimport\s*\(\s*)(['"])(\.\.?\/[^'"]+)\2/g, (_m, lead: string, q: string, spec: string) => {
      const target = relative(dir, join(from, spec)).split('\\').join('/');
      return `${lead}${q}${target.startsWith('.') ? target : `./${target}`}${q}`;
    });
    // a module of its own (top-level await, no clash between snippets)
    writeFileSync(join(dir, name), `${source}\n${isModule ? '' : 'export {};\n'}`);
    byPath.set(join(dir, name), { snippet: s, contextLines: context ? context.split('\n').length - 1 : 0 });
  });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: relative(dir, join(repoRoot, 'tsconfig.base.json')), compilerOptions: { noEmit: true, declaration: false, declarationMap: false, sourceMap: false }, include: ['*.ts'] }));
  const config = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
  if (!config) throw new Error('could not read the snippets tsconfig');
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const errors: SnippetError[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const entry = d.file ? byPath.get(d.file.fileName) : undefined;
    if (!entry) throw new Error(`TS${d.code} outside the snippets (${d.file?.fileName ?? 'no file'}): ${message}`);
    const fileLine = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
    const inSnippet = fileLine - entry.contextLines;
    errors.push({ snippet: entry.snippet, line: inSnippet >= 0 ? entry.snippet.line + 1 + inSnippet : entry.snippet.line, code: d.code, message });
  }
  return errors;
}

/** Every snippet of the documentation files. */
export function documentationSnippets(root = repoRoot): Snippet[] {
  return documentationFiles(root).flatMap((f) => extractSnippets(readFileSync(join(root, f), 'utf8'), f));
}
