import { connect } from 'node:net';

/** True when something accepts TCP connections on host:port within `ms`. */
export function answers(host: string, port: number, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** host and port of `redis://h:p`, `nats://h:p`, `postgres://u@h:p/db` or `h:p`. */
export function hostPort(url: string): { host: string; port: number } {
  const m = /^(?:[a-z]+:\/\/)?(?:[^@/]*@)?([^:/]+):(\d+)/i.exec(url);
  if (!m) throw new Error(`cannot read host:port from ${url}`);
  return { host: m[1] as string, port: Number(m[2]) };
}
