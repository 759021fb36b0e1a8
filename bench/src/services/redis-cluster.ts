import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { answers } from './probe.js';

/** A private three-master Redis Cluster on loopback ports, for the sharded bus. Stopped by `stop()`. */
export class LocalRedisCluster {
  readonly ports: number[];
  private readonly procs: ChildProcess[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'bench-redis-cluster-'));

  constructor(basePort = 27000 + Math.floor(Math.random() * 2000) * 3) {
    this.ports = [basePort, basePort + 1, basePort + 2];
  }

  get seeds(): string[] {
    return this.ports.map((p) => `127.0.0.1:${p}`);
  }

  async start(): Promise<void> {
    for (const port of this.ports) {
      const p = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(this.dir, `nodes-${port}.conf`), '--save', '', '--appendonly', 'no', '--dir', this.dir, '--protected-mode', 'no'],
        { stdio: 'ignore' },
      );
      this.procs.push(p);
    }
    for (const port of this.ports) await waitFor(() => answers('127.0.0.1', port, 200), 10_000, `redis-server on ${port}`);
    const r = spawnSync('redis-cli', ['--cluster', 'create', ...this.seeds, '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stderr || r.stdout}`);
    const probe = new Redis({ host: '127.0.0.1', port: this.ports[0], lazyConnect: true });
    await probe.connect();
    try {
      await waitFor(async () => /cluster_state:ok/.test(String(await probe.cluster('INFO'))), 20_000, 'cluster_state:ok');
    } finally {
      probe.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
