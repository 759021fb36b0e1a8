import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest PostgreSQL server binaries on this machine (Debian layout), if any. */
export function findPgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A throwaway PostgreSQL cluster on a free loopback port, in a temp dir, for tests that stop and
 * restart the server. Never touches the shared server. As root, every pg command runs as the
 * `postgres` OS user (the server refuses to run as root).
 */
export class PrivatePostgres {
  readonly dir: string;
  readonly data: string;
  port = 0;
  private running = false;

  constructor(private readonly bin: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'sy-pg-'));
    this.data = join(this.dir, 'data');
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private async pg(tool: string, args: string[]): Promise<void> {
    const cmd = [join(this.bin, tool), ...args];
    if (process.getuid?.() === 0) {
      const quoted = cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      await run('su', ['postgres', '-s', '/bin/sh', '-c', quoted], { timeout: 60_000 });
    } else {
      await run(cmd[0] as string, cmd.slice(1), { timeout: 60_000 });
    }
  }

  async init(): Promise<void> {
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(this.dir, Number(stdout.trim()), Number(gid.trim()));
    }
    this.port = await freePort();
    await this.pg('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await this.start();
  }

  async start(): Promise<void> {
    await this.pg('pg_ctl', [
      '-D', this.data, '-l', join(this.dir, 'server.log'), '-w', '-t', '30',
      '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=50`,
      'start',
    ]);
    this.running = true;
  }

  /** `fast` closes sessions cleanly; `immediate` is a crash (recovery replays the WAL on start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '30', 'stop']);
    this.running = false;
  }

  async destroy(): Promise<void> {
    if (this.running) await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
