/**
 * The SDK as a browser gets it: `src/client/index.ts` bundled by esbuild for the browser holds
 * only the SDK's own files and the dependency-free part of the protocol module: no core, no
 * `ws`, no zod (the node's client-frame schemas), no Node.js module. And the protocol module's
 * entry (`@switchyard/transport-ws/protocol`) re-exports everything its files export. No
 * services, no browser (client-browser.test.ts runs the bundle in Chromium when it is there).
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const entry = fileURLToPath(new URL('../src/client/index.ts', import.meta.url));

async function bundle(minify: boolean): Promise<{ text: string; inputs: string[] }> {
  const out = await build({ entryPoints: [entry], bundle: true, minify, format: 'esm', platform: 'browser', target: 'es2020', write: false, metafile: true, logLevel: 'silent' });
  const meta = out.metafile as Metafile;
  return { text: out.outputFiles[0]?.text ?? '', inputs: Object.keys(meta.inputs).map((p) => relative(pkg, p).replaceAll('\\', '/')) };
}

describe('the SDK bundle for a browser', () => {
  it('holds the SDK and the dependency-free protocol files only: no core, ws, zod or node: module', async () => {
    const { text, inputs } = await bundle(false);
    expect(inputs.length).toBeGreaterThan(3);
    expect(inputs.filter((p) => !/^src\/(client|protocol)\/[\w-]+\.ts$/.test(p)), 'files from outside src/client and src/protocol').toEqual([]);
    expect(inputs, 'the zod schemas are the node side only').not.toContain('src/protocol/client-frames.ts');
    expect(inputs).toEqual(expect.arrayContaining(['src/protocol/version.ts', 'src/protocol/close-codes.ts', 'src/protocol/server-frames.ts']));
    expect(text).not.toMatch(/@switchyard\/core|from ['"]ws['"]|['"]node:|\brequire\(|\bBuffer\b/);
  });

  it('stays small: minified + gzipped under 20 KB', async () => {
    const { text } = await bundle(true);
    const gz = gzipSync(text, { level: 9 }).length;
    console.info(`[client-bundle] SDK for the browser: ${text.length} bytes minified, ${gz} bytes gzipped`);
    expect(gz).toBeGreaterThan(1000);
    expect(gz).toBeLessThan(20 * 1024);
  });
});

describe('@switchyard/transport-ws/protocol', () => {
  it('re-exports every value its files export', async () => {
    const index = await import('../src/protocol/index.js');
    const files = readdirSync(join(pkg, 'src/protocol')).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    const missing: string[] = [];
    for (const file of files) {
      const mod = (await import(pathToFileURL(join(pkg, 'src/protocol', file)).href)) as Record<string, unknown>;
      for (const name of Object.keys(mod)) if (!(name in index)) missing.push(`src/protocol/${file}: ${name}`);
    }
    expect(files.length).toBeGreaterThan(3);
    expect(missing, 'export these from src/protocol/index.ts').toEqual([]);
  });
});
