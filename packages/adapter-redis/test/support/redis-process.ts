import { waitFor } from '@switchyard/core/testing';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when `redis-server` and `redis-cli` can be run here. */
export const hasRedisBinaries = (): boolean =>
  spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

/** A free loopback port; with `clusterBus`, port + 10000 is free too (Redis Cluster's bus port). */
export async function freePort(clusterBus = false): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    if (!clusterBus) return port;
    if (port < 55_000 && (await portFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair found');
}

/** Send one inline command and resolve with the first reply line (e.g. `+PONG`). */
export function rawCommand(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let data = '';
    const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(data);
    };
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n')) finish();
    });
    socket.once('error', (err) => finish(err));
  });
}

export interface PrivateRedisOptions {
  /** Keep an append-only file fsynced on every write (survives SIGKILL). */
  aof?: boolean;
  /** Extra redis-server arguments. */
  args?: string[];
  port?: number;
}

/**
 * A redis-server process of our own on a loopback port, never the shared one: tests may kill
 * and restart it. Data lives in a temp dir removed by `destroy()`.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  readonly dir: string;

  private constructor(readonly port: number, private readonly options: PrivateRedisOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'sy-redis-'));
  }

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const r = new PrivateRedis(options.port ?? (await freePort()), options);
    await r.startProcess();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async startProcess(): Promise<void> {
    const persistence = this.options.aof
      ? ['--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no'];
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir, ...persistence, ...(this.options.args ?? [])];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`redis-server on ${this.port} exited with ${child.exitCode}`);
      return (await rawCommand(this.port, 'PING').catch(() => '')).startsWith('+PONG');
    }, 10_000, 20);
  }

  /** Stop the process (SIGKILL simulates a crash) and wait until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.startProcess();
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A loopback TCP proxy in front of a Redis port. While `blocked`, it drops every connection, so
 * a client behind it stays offline while others reconnect: that orders a restart test.
 */
export class TcpProxy {
  blocked = false;
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((client) => this.accept(client));

  private constructor(private readonly targetPort: number) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const p = new TcpProxy(targetPort);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', () => resolve()));
    return p;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.once('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const run = (cmd: string, args: string[], timeoutMs = 30_000): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} failed: ${stderr || err.message}`)) : resolve(stdout)));
  });

/** Three cluster-enabled redis-servers on loopback, joined with `redis-cli --cluster create`, no replicas. */
export class PrivateCluster {
  private constructor(readonly servers: PrivateRedis[]) {}

  static async start(size = 3): Promise<PrivateCluster> {
    const servers: PrivateRedis[] = [];
    try {
      for (let i = 0; i < size; i++) {
        const port = await freePort(true);
        servers.push(
          await PrivateRedis.start({
            port,
            args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000'],
          }),
        );
      }
      await run('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '0', '--cluster-yes']);
      for (const s of servers) {
        await waitFor(async () => (await run('redis-cli', ['-p', String(s.port), 'cluster', 'info'])).includes('cluster_state:ok'), 20_000, 100);
      }
      return new PrivateCluster(servers);
    } catch (err) {
      await Promise.all(servers.map((s) => s.destroy()));
      throw err;
    }
  }

  get nodes(): Array<{ host: string; port: number }> {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.destroy()));
  }
}
