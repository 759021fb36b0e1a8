/**
 * A tiny HTTP/WebSocket load balancer in Node, for running the deployment topology without
 * HAProxy: least connections over the nodes whose /ready answers 200 (checked every second),
 * `/n/<name>/...` routed to that node with the prefix stripped, upgrades piped both ways.
 * It mirrors haproxy.cfg; it is for trying things on a laptop, not for production.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface Backend {
  name: string;
  host: string;
  port: number;
}

interface State extends Backend {
  ready: boolean;
  open: number;
}

export class MiniLb {
  private readonly backends: State[];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(backends: Backend[]) {
    this.backends = backends.map((b) => ({ ...b, ready: false, open: 0 }));
    this.server = createServer((req, res) => {
      const target = this.route(req);
      if (!target) return void res.writeHead(503).end('no ready node');
      const up = request({ host: target.host, port: target.port, method: req.method, path: req.url, headers: this.forwarded(req) }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
    });
    this.server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => this.tunnel(req, client, head));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    await this.check();
    this.timer = setInterval(() => void this.check(), 1000);
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Picks the backend: the named one for `/n/<name>/`, else the ready one with the fewest tunnels. */
  private route(req: IncomingMessage): State | undefined {
    const m = /^\/n\/([^/]+)(\/.*)$/.exec(req.url ?? '/');
    if (m) {
      req.url = m[2];
      return this.backends.find((b) => b.name === m[1] && b.ready);
    }
    const ready = this.backends.filter((b) => b.ready);
    return ready.sort((a, b) => a.open - b.open)[0];
  }

  private forwarded(req: IncomingMessage): IncomingMessage['headers'] {
    const ip = req.socket.remoteAddress ?? '';
    const xff = req.headers['x-forwarded-for'];
    return { ...req.headers, 'x-forwarded-for': xff ? `${String(xff)}, ${ip}` : ip };
  }

  private tunnel(req: IncomingMessage, client: Socket, head: Buffer): void {
    const target = this.route(req);
    if (!target) return void client.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
    const up = connect(target.port, target.host, () => {
      const headers = this.forwarded(req);
      const lines = [`${req.method} ${req.url} HTTP/1.1`, ...Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : v === undefined ? [] : [`${k}: ${v}`]))];
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    target.open++;
    this.sockets.add(up);
    const done = () => {
      if (!this.sockets.delete(up)) return;
      target.open--;
      client.destroy();
      up.destroy();
    };
    up.on('close', done).on('error', done);
    client.on('close', done).on('error', done);
  }

  private async check(): Promise<void> {
    await Promise.all(
      this.backends.map(
        (b) =>
          new Promise<void>((resolve) => {
            const r = request({ host: b.host, port: b.port, path: '/ready', timeout: 1000 }, (res) => {
              b.ready = res.statusCode === 200;
              res.resume();
              resolve();
            });
            r.on('error', () => {
              b.ready = false;
              resolve();
            });
            r.on('timeout', () => r.destroy());
            r.end();
          }),
      ),
    );
  }
}
