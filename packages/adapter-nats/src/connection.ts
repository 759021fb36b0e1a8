import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import { connectError, type ConnectTarget } from './errors.js';
import type { NatsAdapterConfig } from './options.js';

/**
 * One NATS connection shared by the ports of an adapter, counted by user. It is opened by
 * the first `acquire()` and closed by the last `release()`, unless the caller passed it in:
 * a connection we did not open is never closed by us. Creating a connector does no I/O.
 */
export class NatsConnector {
  private nc: NatsConnection | undefined;
  private opening: Promise<NatsConnection> | undefined;
  private users = 0;
  private jsClient: JetStreamClient | undefined;
  private jsManager: Promise<JetStreamManager> | undefined;

  constructor(readonly config: NatsAdapterConfig) {}

  /** True when we open (and so close) the connection ourselves. */
  get owned(): boolean {
    return this.config.connection === undefined;
  }

  /** The open connection, if any. */
  get connection(): NatsConnection | undefined {
    return this.nc;
  }

  /** Open (or share) the connection; pair every successful call with `release()`. */
  async acquire(): Promise<NatsConnection> {
    this.users++;
    try {
      return await this.open();
    } catch (err) {
      this.users--;
      throw err;
    }
  }

  /** Give the connection back; the last user closes it when we own it. */
  async release(): Promise<void> {
    if (this.users === 0) return;
    this.users--;
    if (this.users > 0) return;
    const nc = this.nc;
    this.nc = undefined;
    this.opening = undefined;
    this.jsClient = undefined;
    this.jsManager = undefined;
    if (nc && this.owned && !nc.isClosed()) await nc.close().catch(() => undefined);
  }

  /** A JetStream client on the open connection. */
  js(): JetStreamClient {
    if (!this.nc) throw new Error('not connected');
    this.jsClient ??= jetstream(this.nc, { timeout: this.config.requestTimeoutMs });
    return this.jsClient;
  }

  /** A JetStream manager on the open connection. */
  jsm(): Promise<JetStreamManager> {
    if (!this.nc) return Promise.reject(new Error('not connected'));
    this.jsManager ??= jetstreamManager(this.nc, { timeout: this.config.requestTimeoutMs });
    return this.jsManager;
  }

  /** Create the KV bucket if missing and open it. */
  async bucket(name: string, opts: Partial<KvOptions>): Promise<KV> {
    return new Kvm(this.js()).create(name, { timeout: this.config.requestTimeoutMs, ...opts });
  }

  private open(): Promise<NatsConnection> {
    if (this.nc && !this.nc.isClosed()) return Promise.resolve(this.nc);
    this.opening ??= (async () => {
      const c = this.config;
      try {
        const nc = c.connection ?? (await connect({
          servers: c.servers as string | string[],
          name: c.name,
          timeout: c.connectTimeoutMs,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: c.reconnectTimeWaitMs,
          pingInterval: c.pingIntervalMs,
          maxPingOut: c.maxPingOut,
          noAsyncTraces: !c.asyncTraces,
        }));
        this.nc = nc;
        return nc;
      } catch (err) {
        this.opening = undefined;
        throw connectError(err, { ...serversTarget(c.servers), timeoutMs: c.connectTimeoutMs });
      }
    })();
    return this.opening;
  }
}

/** `servers` as a message shows them: `host:port` each, no scheme, no credentials; TLS when any asks for it. */
function serversTarget(servers: string | string[] | undefined): ConnectTarget {
  const list = servers === undefined ? [] : Array.isArray(servers) ? servers : [servers];
  const hosts = list.map((s) => {
    const hostPort = s.replace(/^[a-z]+:\/\//i, '').replace(/^[^@/]*@/, '').replace(/\/.*$/, '');
    return /:\d+$/.test(hostPort) ? hostPort : `${hostPort}:4222`;
  });
  return { target: hosts.join(', ') || '(no servers)', tls: list.some((s) => /^(tls|wss):\/\//i.test(s)) };
}

/**
 * Keys of a KV bucket matching `filter` (e.g. `n.>`), read from the stream's per-subject state in
 * one request. Unlike `kv.keys()` this needs no consumer, so it cannot wait on a consumer that
 * misses its end while keys are being rewritten. Keys whose last entry is a delete marker are
 * included: callers `get` each key and skip those.
 */
export async function bucketKeys(jsm: JetStreamManager, bucket: string, filter: string): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const si = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}${filter}` });
  return Object.keys(si.state.subjects ?? {}).map((s) => s.slice(prefix.length));
}
