/**
 * The compose topology without Docker: three node processes (node.ts) on the Redis and
 * PostgreSQL of this machine, behind HAProxy (when `haproxy` is installed, with haproxy.cfg
 * rewritten for loopback) or behind mini-lb.ts. Clients connect to ws://127.0.0.1:<port>/ws.
 *
 *   node --conditions=@switchyard/source --import tsx examples/deploy/loopback.ts [--port 8080] [--lb auto|haproxy|node] [--exit-after s]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MiniLb } from './mini-lb.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, lb: { type: 'string', default: 'auto' }, 'exit-after': { type: 'string' } } });

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const haveHaproxy = spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0;
const useHaproxy = values.lb === 'haproxy' || (values.lb === 'auto' && haveHaproxy);
const lbPort = Number(values.port) || (await freePort());
const names = ['node1', 'node2', 'node3'];
const ports = await Promise.all(names.map(() => freePort()));

const children: ChildProcess[] = [];
const run = (label: string, cmd: string, args: string[], env: Record<string, string> = {}) => {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = (d: Buffer) => process.stdout.write(d.toString().replace(/^(?=.)/gm, `[${label}] `));
  child.stdout?.on('data', out);
  child.stderr?.on('data', out);
  children.push(child);
  return child;
};

for (const [i, name] of names.entries()) {
  run(name, process.execPath, ['--conditions=@switchyard/source', '--import', 'tsx', here('./node.ts')], {
    NODE_ID: name,
    HOST: '127.0.0.1',
    PORT: String(ports[i]),
    PUBLIC_URL: `ws://127.0.0.1:${lbPort}/n/${name}/ws`,
  });
}
const stop = async () => {
  await lb?.close();
  const exits = children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))));
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(exits);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  console.log('loopback topology stopped');
};
let lb: MiniLb | undefined;
let tmp: string | undefined;

const ready = async (port: number) => {
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node on port ${port} never became ready`);
};
try {
  await Promise.all(ports.map(ready));
  await startBalancer();
} catch (err) {
  console.error(`loopback failed: ${(err as Error).message}`);
  await stop();
  process.exit(1);
}
console.log(`load balancer (${useHaproxy ? 'haproxy' : 'mini-lb'}) on ws://127.0.0.1:${lbPort}/ws`);

async function startBalancer(): Promise<void> {
  if (useHaproxy) {
    tmp = mkdtempSync(join(tmpdir(), 'switchyard-haproxy-'));
    const statsPort = await freePort();
    let cfg = readFileSync(here('./haproxy.cfg'), 'utf8')
      .replace('bind :8080', `bind 127.0.0.1:${lbPort}`)
      .replace('bind :8404', `bind 127.0.0.1:${statsPort}`)
      // One process here holds at most 20,000 file descriptors; HAProxy asks for two per connection.
      .replace(/maxconn \d+/, 'maxconn 4000');
    for (const [i, name] of names.entries()) cfg = cfg.replaceAll(`${name}:8080`, `127.0.0.1:${ports[i]}`);
    writeFileSync(join(tmp, 'haproxy.cfg'), cfg);
    run('haproxy', 'haproxy', ['-db', '-f', join(tmp, 'haproxy.cfg')]);
  } else {
    lb = new MiniLb(names.map((name, i) => ({ name, host: '127.0.0.1', port: ports[i] as number })));
    await lb.listen(lbPort);
  }
  // Up when the balancer answers /ready through one of the nodes.
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${lbPort}/n/node1/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 200) throw new Error('the load balancer never answered');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const exitAfter = Number(values['exit-after'] ?? 0);
const timer = exitAfter > 0 ? setTimeout(() => void stop(), exitAfter * 1000) : undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    clearTimeout(timer);
    void stop();
  });
}
