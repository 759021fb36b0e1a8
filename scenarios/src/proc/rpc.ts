import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Messages on the IPC channel between the driver and a node process. */
type Req = { kind: 'req'; id: number; cmd: string; args: unknown };
type Res = { kind: 'res'; id: number; ok: boolean; result?: unknown; error?: string };
type Evt = { kind: 'evt'; event: string; data: unknown };
type Msg = Req | Res | Evt;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A forked process running `entry` from source (tsx, the `@switchyard/source` condition),
 * driven by request/response over IPC. The child exits when the channel closes, so it never
 * outlives the driver, whichever way the driver ends.
 */
export class Child {
  readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly listeners = new Map<string, Array<(data: unknown) => void>>();
  private exitInfo: string | undefined;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    entry: URL,
  ) {
    this.proc = fork(fileURLToPath(entry), [name], {
      cwd: ROOT,
      execArgv: ['--conditions=@switchyard/source', '--import', 'tsx'],
      env: { ...process.env, SCENARIO_CHILD: name },
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
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new Error(this.exitInfo));
        }
        this.pending.clear();
        resolve();
      });
    });
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Send a command and wait for its answer (rejects when the child dies or after `timeoutMs`). */
  call<T>(cmd: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(this.exitInfo));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: (v) => resolve(v as T), reject, timer });
      this.proc.send({ kind: 'req', id, cmd, args } satisfies Req);
    });
  }

  on(event: string, listener: (data: unknown) => void): void {
    const l = this.listeners.get(event) ?? [];
    l.push(listener);
    this.listeners.set(event, l);
  }

  /** kill -9, and wait for the exit. */
  async kill(): Promise<void> {
    if (this.alive) this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** Ask the child to stop cleanly; kill it when it does not within `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.alive) return;
    await this.call('stop', {}, timeoutMs).catch(() => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private onMessage(m: Msg): void {
    if (m.kind === 'res') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${this.name}: ${m.error}`));
    } else if (m.kind === 'evt') {
      for (const l of this.listeners.get(m.event) ?? []) l(m.data);
    }
  }
}

export type Handler = (args: never) => unknown;

/** Child side: answer the driver's commands; exit when the driver goes away. */
export function serve(handlers: Record<string, Handler>): { emit: (event: string, data: unknown) => void } {
  const send = (m: Msg) => {
    if (process.connected) process.send?.(m);
  };
  process.on('message', (m: Msg) => {
    if (m.kind !== 'req') return;
    const h = handlers[m.cmd];
    if (!h) return send({ kind: 'res', id: m.id, ok: false, error: `unknown command ${m.cmd}` });
    Promise.resolve()
      .then(() => h(m.args as never))
      .then(
        (result) => send({ kind: 'res', id: m.id, ok: true, result }),
        (err: unknown) => send({ kind: 'res', id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.on('uncaughtException', (err) => process.stderr.write(`uncaught: ${err.stack ?? String(err)}\n`));
  process.on('unhandledRejection', (err) => process.stderr.write(`unhandled rejection: ${err instanceof Error ? err.stack : String(err)}\n`));
  return { emit: (event, data) => send({ kind: 'evt', event, data }) };
}
