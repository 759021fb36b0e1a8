/**
 * The dashboard's browser files: plain HTML, CSS and ES-module JavaScript under `src/web/`,
 * served as they are (no build step). They are found next to this module when it runs from
 * `src/`, and in `../src/web/` when it runs from `dist/` (the package ships both folders).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { adminError } from './errors.js';

export interface Asset {
  type: string;
  body: Buffer;
}

/** File name -> content type: the only files served. */
export const ASSET_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'admin.js': 'text/javascript; charset=utf-8',
  'admin.css': 'text/css; charset=utf-8',
};

/** The folder holding the browser files. */
export function webDir(): string {
  for (const rel of ['./web/', '../src/web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw adminError('NOT_FOUND', `the dashboard's browser files are missing: looked for web/index.html next to ${fileURLToPath(import.meta.url)} and in ../src/web/ (is the package's src/ folder installed?)`);
}

let loading: Promise<Map<string, Asset>> | undefined;

/** Reads the browser files once (later calls share the result). */
export function loadAssets(): Promise<Map<string, Asset>> {
  loading ??= (async () => {
    const dir = webDir();
    const entries = await Promise.all(Object.entries(ASSET_FILES).map(async ([name, type]) => [name, { type, body: await readFile(`${dir}${name}`) }] as const));
    return new Map(entries);
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}
