import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Messages on the IPC channel between the runner and its children. */
type Req = { kind: 'req'; id: number; cmd: string; args: unknown };
type Res = { kind: 'res'; id: number; ok: boolean; result?: unknown; error?: string };
type Evt = { kind: 'evt'; event: string; data: unknown };
type Msg = Req | Res | Evt;

const BENCH_DIR = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = { server: fileURLToPath(new URL('../server/main.ts', import.meta.url)), client: fileURLToPath(new URL('../client/main.ts', import.meta.url)) };

/** A forked node or client process, driven by request/response over IPC. */
export class Child {
  readonly proc: ChildProcess;
  readonly name: string;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, Array<(data: unknown) => void>>();
  private exitInfo: string | undefined;
  readonly exited: Promise<void>;

  constructor(role: 'server' | 'client', name: string, env: Record<string, string> = {}) {
    this.name = name;
    this.proc = fork(ENTRY[role], [name], {
      cwd: BENCH_DIR,
      execArgv: [
        '--conditions=@switchyard/source', '--import', 'tsx', '--expose-gc', '--max-old-space-size=4096',
        // BENCH_CPU_PROF=DIR: node processes write a V8 CPU profile there when they exit (client processes too with BENCH_CPU_PROF_CLIENTS=1)
        ...((role === 'server' || process.env.BENCH_CPU_PROF_CLIENTS === '1') && process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      ],
      env: { ...process.env, ...env, BENCH_CHILD: name },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    let stderr = '';
    this.proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    this.proc.on('message', (m: Msg) => this.onMessage(m));
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exitInfo = `${name} exited (code ${code}, signal ${signal})${stderr ? `: ${stderr.trim().split('\n').slice(-6).join(' | ')}` : ''}`;
        for (const p of this.pending.values()) p.reject(new Error(this.exitInfo));
        this.pending.clear();
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  private onMessage(m: Msg): void {
    if (m.kind === 'res') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${this.name}: ${m.error}`));
    } else if (m.kind === 'evt') {
      for (const l of this.listeners.get(m.event) ?? []) l(m.data);
    }
  }

  /** Send a command and wait for its answer (rejects when the child dies or after `timeoutMs`). */
  call<T>(cmd: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(this.exitInfo));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ kind: 'req', id, cmd, args } satisfies Req);
    });
  }

  on(event: string, listener: (data: unknown) => void): void {
    const l = this.listeners.get(event) ?? [];
    l.push(listener);
    this.listeners.set(event, l);
  }

  /** Wait until the child is up (it sends `ready`). */
  ready(timeoutMs = 60_000): Promise<void> {
    return this.call('ping', {}, timeoutMs).then(() => undefined);
  }

  /** kill -9, and wait for the exit. */
  async kill(): Promise<void> {
    if (this.alive) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

export type Handler = (args: never) => unknown;

/** Child side: answer the runner's commands; exit when the runner goes away. */
export function serve(handlers: Record<string, Handler>): { emit: (event: string, data: unknown) => void } {
  const send = (m: Msg) => {
    if (process.connected) process.send?.(m);
  };
  process.on('message', (m: Msg) => {
    if (m.kind !== 'req') return;
    const h = m.cmd === 'ping' ? () => 'pong' : handlers[m.cmd];
    if (!h) {
      send({ kind: 'res', id: m.id, ok: false, error: `unknown command ${m.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => h(m.args as never))
      .then(
        (result) => send({ kind: 'res', id: m.id, ok: true, result }),
        (err: unknown) => send({ kind: 'res', id: m.id, ok: false, error: err instanceof Error ? `${err.message}` : String(err) }),
      );
  });
  // The runner is gone (or killed us off the channel): never outlive it.
  process.on('disconnect', () => process.exit(0));
  process.on('uncaughtException', (err) => {
    process.stderr.write(`uncaught: ${err.stack ?? err}\n`);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`unhandled rejection: ${err instanceof Error ? err.stack : String(err)}\n`);
  });
  return { emit: (event, data) => send({ kind: 'evt', event, data }) };
}
