import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGES = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports and re-exports of a file (type-only ones included), as absolute .ts paths. */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    out.push(resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts')));
  }
  return out;
}

/** The import cycles among `files` (each once, as a path of relative names). */
function cycles(files: string[], root: string, read: (file: string) => string[] = (f) => importsOf(f)): string[][] {
  const graph = new Map(files.map((f) => [f, read(f).filter((t) => t !== f)]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      if (!graph.has(t)) continue;
      if (state.get(t) === 'open') found.push(stack.slice(stack.indexOf(t)).map((p) => relative(root, p)));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

describe('the source tree', () => {
  const packages = readdirSync(PACKAGES).filter((p) => statSync(join(PACKAGES, p, 'src'), { throwIfNoEntry: false })?.isDirectory());

  it('finds the packages it checks', () => {
    expect(packages).toEqual(expect.arrayContaining(['core', 'transport-ws', 'adapter-redis', 'adapter-nats', 'adapter-kafka', 'store-postgres']));
  });

  it.each(packages)('%s: no import cycle among its source files (type imports included)', (pkg) => {
    const src = join(PACKAGES, pkg, 'src');
    expect(cycles(sources(src), src)).toEqual([]);
  });

  it('the check sees a cycle when there is one, type imports and re-exports included', () => {
    const fake = new Map([
      ['/x/a.ts', "import { b } from './b.js';\n"],
      ['/x/b.ts', "import type { C } from './c.js';\n"],
      ['/x/c.ts', "export { a } from './a.js';\nexport const d = 1;\n"],
      ['/x/d.ts', "import { c } from './c.js';\n"],
    ]);
    expect(cycles([...fake.keys()], '/x', (f) => importsOf(f, fake.get(f) as string))).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
