/**
 * The dashboard's files: the HTML and CSS as they are, and the two scripts (dashboard, chat
 * with the client SDK) bundled for the browser with esbuild when the demo starts.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface Asset {
  type: string;
  body: string;
}

const web = (name: string) => fileURLToPath(new URL(`./web/${name}`, import.meta.url));

/** Builds every asset in memory; throws with esbuild's message when a script does not compile. */
export async function buildAssets(): Promise<Map<string, Asset>> {
  const result = await build({
    entryPoints: { dashboard: web('dashboard.ts'), chat: web('chat.ts') },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Resolve the Switchyard packages to their TypeScript sources (no build step needed).
    conditions: ['@switchyard/source'],
    outdir: 'out',
    minify: true,
    sourcemap: false,
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  for (const f of result.outputFiles) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    assets.set(`/assets/${name}`, { type: 'text/javascript; charset=utf-8', body: f.text });
  }
  const html = 'text/html; charset=utf-8';
  assets.set('/', { type: html, body: await readFile(web('index.html'), 'utf8') });
  assets.set('/chat', { type: html, body: await readFile(web('chat.html'), 'utf8') });
  assets.set('/assets/style.css', { type: 'text/css; charset=utf-8', body: await readFile(web('style.css'), 'utf8') });
  return assets;
}
