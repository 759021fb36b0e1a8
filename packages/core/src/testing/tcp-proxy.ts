import { connect, createServer, type Server, type Socket } from 'node:net';

/** How the proxy treats traffic: forward it, reset every connection, or swallow it without answering. */
export type ProxyMode = 'pass' | 'reset' | 'blackhole';

export interface TcpProxyOptions {
  /** Where connections are forwarded. */
  target: { host?: string; port: number };
  /** Listen address (loopback only; default 127.0.0.1). */
  host?: string;
  /** Listen port (default 0: a free one). */
  port?: number;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  piped: boolean;
}

/**
 * A TCP proxy a test controls, to cut one process off from a service (a partition) while the
 * others keep it: `pass()` forwards, `reset()` destroys every connection with a RST and resets
 * new ones until `pass()`, `blackhole()` keeps the connections open but moves no byte in either
 * direction (nothing is answered, nothing is lost: held bytes flow again after `pass()`, as
 * over a network that heals within TCP's retransmission time). New connections made during a
 * blackhole are accepted and held the same way.
 */
export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private _mode: ProxyMode = 'pass';
  private _port = 0;
  /** Connections accepted since start. */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: TcpProxyOptions,
  ) {}

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const server = createServer({ pauseOnConnect: true });
    const proxy = new TcpProxy(server, options);
    server.on('connection', (s) => proxy.onConnection(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    proxy._port = (server.address() as { port: number }).port;
    return proxy;
  }

  get port(): number {
    return this._port;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  get mode(): ProxyMode {
    return this._mode;
  }

  /** Open client connections. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Forward traffic (again); bytes held by a blackhole are delivered now. */
  pass(): void {
    this._mode = 'pass';
    for (const p of this.pairs) this.flow(p);
  }

  /** Destroy every connection with a RST, and reset new ones until `pass()`. */
  reset(): void {
    this._mode = 'reset';
    for (const p of [...this.pairs]) this.kill(p);
  }

  /** Keep connections open but forward nothing, either way, until `pass()`. */
  blackhole(): void {
    this._mode = 'blackhole';
    for (const p of this.pairs) this.hold(p);
  }

  async close(): Promise<void> {
    for (const p of [...this.pairs]) this.kill(p);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(client: Socket): void {
    this.accepted++;
    const pair: Pair = { client, upstream: undefined, piped: false };
    this.pairs.add(pair);
    client.on('error', () => this.kill(pair));
    client.on('close', () => this.kill(pair));
    if (this._mode === 'reset') return this.kill(pair);
    if (this._mode === 'pass') this.flow(pair);
  }

  /** Connect upstream if not yet, and let bytes move both ways. */
  private flow(pair: Pair): void {
    if (!this.pairs.has(pair)) return;
    if (!pair.upstream) {
      const upstream = connect({ host: this.options.target.host ?? '127.0.0.1', port: this.options.target.port });
      pair.upstream = upstream;
      upstream.on('error', () => this.kill(pair));
      upstream.on('close', () => this.kill(pair));
    }
    if (!pair.piped) {
      pair.piped = true;
      pair.client.pipe(pair.upstream);
      pair.upstream.pipe(pair.client);
    }
    pair.client.resume();
    pair.upstream.resume();
  }

  /** Stop moving bytes (unpiped, so a pending 'drain' cannot start them again). */
  private hold(pair: Pair): void {
    if (pair.piped && pair.upstream) {
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.piped = false;
    }
    pair.client.pause();
    pair.upstream?.pause();
  }

  private kill(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    for (const s of [pair.client, pair.upstream]) {
      if (!s || s.destroyed) continue;
      if (typeof s.resetAndDestroy === 'function' && s.readyState !== 'opening') s.resetAndDestroy();
      else s.destroy();
    }
  }
}
