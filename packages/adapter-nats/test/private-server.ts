import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@switchyard/core/testing';

/** True when a `nats-server` binary is on the PATH. */
export const hasNatsServer = (): boolean => spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** A free loopback port, found by letting the OS pick one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
  });

/**
 * A private NATS server with JetStream on a loopback port and its own store directory, for
 * tests that stop and restart the broker. Never the shared one on 4222.
 */
export class PrivateNatsServer {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'sy-nats-'));
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateNatsServer> {
    const s = new PrivateNatsServer(await freePort());
    await s.start();
    return s;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** Start (again) on the same port and store directory; resolves once the port answers. */
  async start(): Promise<void> {
    if (this.proc) return;
    const proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.dir], { stdio: 'ignore' });
    this.proc = proc;
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = undefined;
    });
    await waitFor(() => answers(this.port), 10_000, 25);
  }

  /** Stop the server (SIGTERM: a restart, JetStream flushes its files) and wait for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await exited;
    this.proc = undefined;
  }

  /** Stop and remove the store directory. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
