import { createHash } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { SwitchyardError } from '@switchyard/core';
import { connectError, redisError } from './errors.js';
import type { RedisAdapterConfig, RedisClient } from './options.js';

/** Which connection a port needs: commands, or a connection in subscriber mode. */
export type ClientRole = 'command' | 'publisher' | 'subscriber';

/** A client and whether we own it (then `close()` quits it) or the caller does. */
export interface ClientHandle {
  client: RedisClient;
  owned: boolean;
}

const retry = (cfg: RedisAdapterConfig) => (times: number) =>
  Math.min(cfg.reconnectMinDelayMs * 2 ** Math.min(times - 1, 16), cfg.reconnectMaxDelayMs);

function redisOptions(cfg: RedisAdapterConfig, role: ClientRole): RedisOptions {
  return {
    lazyConnect: true,
    enableAutoPipelining: role !== 'subscriber',
    autoResubscribe: false,
    autoResendUnfulfilledCommands: true,
    enableOfflineQueue: true,
    // The bus' connections wait out an outage: its publishes are buffered, not failed.
    maxRetriesPerRequest: role === 'command' ? cfg.maxRetriesPerRequest : null,
    connectTimeout: cfg.connectTimeoutMs,
    // Every command (the handshake of a reconnect included) answers within this or fails.
    commandTimeout: cfg.commandTimeoutMs,
    // A socket we drop because its peer went silent gets no FIN back: destroy it this soon.
    disconnectTimeout: cfg.commandTimeoutMs,
    retryStrategy: retry(cfg),
    connectionName: `switchyard-${role}`,
  };
}

/**
 * Create (lazily, no I/O) the client a port needs, or hand back the caller's. A subscriber is
 * the caller's `subscriber`, else a duplicate of the caller's `client` (ours to close).
 */
export function createClient(cfg: RedisAdapterConfig, role: ClientRole): ClientHandle {
  if (cfg.client) {
    if (role !== 'subscriber') return { client: cfg.client, owned: false };
    if (cfg.subscriber) return { client: cfg.subscriber, owned: false };
    const dup = cfg.client instanceof Cluster
      ? cfg.client.duplicate(undefined, { lazyConnect: true, shardedSubscribers: true })
      : cfg.client.duplicate({
          lazyConnect: true,
          autoResubscribe: false,
          enableAutoPipelining: false,
          commandTimeout: cfg.commandTimeoutMs,
          disconnectTimeout: cfg.commandTimeoutMs,
        });
    return { client: dup, owned: true };
  }
  const base = redisOptions(cfg, role);
  if (cfg.mode === 'sharded') {
    const { retryStrategy: _r, enableOfflineQueue: _q, ...redisOpts } = base;
    const options: ClusterOptions = {
      lazyConnect: true,
      enableAutoPipelining: role !== 'subscriber',
      shardedSubscribers: role === 'subscriber',
      enableOfflineQueue: true,
      clusterRetryStrategy: retry(cfg),
      slotsRefreshTimeout: cfg.connectTimeoutMs,
      redisOptions: redisOpts,
    };
    return { client: new Cluster(cfg.nodes ?? [], options), owned: true };
  }
  if (cfg.url) return { client: new Redis(cfg.url, base), owned: true };
  const c = cfg.connection;
  return {
    client: new Redis({
      ...base,
      host: c?.host ?? '127.0.0.1',
      port: c?.port ?? 6379,
      username: c?.username,
      password: c?.password,
      db: c?.db ?? 0,
      tls: c?.tls ? {} : undefined,
    }),
    owned: true,
  };
}

/**
 * What a client reports while it dials: ioredis rejects a failed `connect()` with a bare
 * "Connection is closed." and says why (refused, unknown host, timed out, wrong password) only
 * in the `error` event before it, and a Cluster per node in `node error`.
 */
function watchDial(client: RedisClient): { failure(err: unknown, timeoutMs: number): SwitchyardError; stop(): void } {
  let last: unknown;
  const nodes = new Set<string>();
  const onError = (err: unknown) => (last = err);
  const onNodeError = (err: unknown, address: unknown) => {
    last = err;
    if (typeof address === 'string') nodes.add(address);
  };
  const emitter = client as unknown as NodeJS.EventEmitter;
  emitter.on('error', onError);
  emitter.on('node error', onNodeError);
  return {
    failure(err, timeoutMs) {
      let target: string;
      let tls: boolean;
      if (client instanceof Cluster) {
        target = nodes.size > 0 ? [...nodes].join(', ') : 'the cluster seed nodes';
        tls = client.options.redisOptions?.tls !== undefined;
      } else {
        const o = client.options;
        target = o.path ? o.path : `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
        tls = o.tls !== undefined;
      }
      return connectError(last ?? err, { target, tls, timeoutMs });
    },
    stop() {
      emitter.off('error', onError);
      emitter.off('node error', onNodeError);
    },
  };
}

/**
 * Open the client if it is not yet, and resolve once it is ready. A failure names the server,
 * the cause in plain words and what to check (see `connectError`), the driver's error as `cause`.
 */
export async function ensureReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'end') throw redisError('CLOSED', 'the client has ended (disconnected): pass an open one');
  const dial = watchDial(client);
  try {
    if (client.status === 'wait') {
      try {
        await client.connect();
      } catch (err) {
        throw dial.failure(err, timeoutMs);
      }
      if ((client.status as string) === 'ready') return;
    }
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('end', onEnd);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      // ioredis ends a client that gave up reconnecting: the server is unreachable, like any connection loss.
      const onEnd = () => done(redisError('BUS_UNAVAILABLE', 'the client ended before it was ready'));
      const timer = setTimeout(() => done(dial.failure(Object.assign(new Error(`not ready within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }), timeoutMs)), timeoutMs);
      client.on('ready', onReady);
      client.on('end', onEnd);
    });
  } finally {
    dial.stop();
  }
}

/** Quit a client we own; force-disconnect if quitting fails. Caller-owned clients are left alone. */
export async function releaseClient(handle: ClientHandle): Promise<void> {
  if (!handle.owned) return;
  const c = handle.client;
  if (c.status === 'end') return;
  if (c.status !== 'ready') {
    c.disconnect();
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([c.quit(), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
  } catch {
    // fall through to disconnect
  } finally {
    clearTimeout(timer);
  }
  if ((c.status as string) !== 'end') c.disconnect();
}

/**
 * ioredis generates `<command>Buffer` for every command at runtime but does not type the
 * scripting ones; `callBuffer` breaks under auto-pipelining, so we use these.
 */
interface BufferScripting {
  evalshaBuffer(sha: string, numKeys: number, ...args: Array<string | number | Buffer>): Promise<unknown>;
  evalBuffer(script: string, numKeys: number, ...args: Array<string | number | Buffer>): Promise<unknown>;
}

/** A Lua script run by EVALSHA, loaded with EVAL on NOSCRIPT. Never added to the client. */
export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error)?.message).includes('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }

  /**
   * Run the script once per `[keys, args]` in one pipeline (one write, one round trip); calls
   * Redis answers NOSCRIPT (a restarted or flushed server) run again with EVAL. Rejects with the
   * first other error.
   */
  async runMany(client: RedisClient, calls: ReadonlyArray<readonly [string[], Array<string | number | Buffer>]>): Promise<unknown[]> {
    const pipeline = client.pipeline();
    for (const [keys, args] of calls) pipeline.evalsha(this.sha, keys.length, ...keys, ...args);
    const results = (await pipeline.exec()) ?? [];
    const out: unknown[] = [];
    const reload: Promise<void>[] = [];
    for (let i = 0; i < calls.length; i++) {
      const [err, value] = results[i] ?? [new Error('no reply in the pipeline'), undefined];
      if (!err) out[i] = value;
      else if (String(err.message).includes('NOSCRIPT')) {
        const [keys, args] = calls[i] as readonly [string[], Array<string | number | Buffer>];
        reload.push(client.eval(this.source, keys.length, ...keys, ...args).then((v) => void (out[i] = v)));
      } else throw err;
    }
    await Promise.all(reload);
    return out;
  }

  async runBuffer(client: RedisClient, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
    try {
      return await (client as unknown as BufferScripting).evalshaBuffer(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error)?.message).includes('NOSCRIPT')) throw err;
      return (client as unknown as BufferScripting).evalBuffer(this.source, keys.length, ...keys, ...args);
    }
  }
}
