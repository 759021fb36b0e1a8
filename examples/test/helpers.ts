/**
 * Shared by the examples' tests: start a program as a child process and read what it prints,
 * poll with a deadline, and find Chromium for the browser test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Polls `fn` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 15_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A TypeScript program of the repo run with tsx, its output kept. */
export class Program {
  readonly child: ChildProcess;
  output = '';
  private exited: Promise<number | null>;

  constructor(script: string, args: string[] = [], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, ['--conditions=@switchyard/source', '--import', 'tsx', script, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the first match of `re` in the output (waits for it). */
  async match(re: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return waitFor(() => {
      if (this.child.exitCode !== null) throw new Error(`program exited with ${this.child.exitCode}:\n${this.output}`);
      return this.output.match(re);
    }, what, timeoutMs);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves with the exit code. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  /** Writes a line to the program's stdin. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  wait(): Promise<number | null> {
    return this.exited;
  }
}

export const CHROMIUM = '/usr/bin/chromium';

/** Chromium's path, or null (skip) when it is missing outside CI; throws in CI. */
export function chromiumOrSkip(): string | null {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing and CI=true: install it (apt-get install -y chromium)`);
  console.warn(`[examples] skipping the browser test: ${CHROMIUM} not found (apt-get install -y chromium)`);
  return null;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A free TCP port on 127.0.0.1 (free when asked; bind it soon). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A short random suffix for key prefixes and schema names, so runs never share state. */
export const runId = () => Math.random().toString(36).slice(2, 8);
