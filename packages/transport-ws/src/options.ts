import type { IncomingMessage, Server } from 'node:http';
import { parseConfig } from '@switchyard/core/adapter';
import type { ClusterNodeApi, HistoryStore, Logger, MessageBus, PortSet } from '@switchyard/core';
import { z } from 'zod';
import { DEFAULT_PATH } from './protocol/version.js';

/** Decides whether a connection may join (or publish to) a room. */
export type RoomHook = (conn: { id: string; userId: string | undefined; data: Record<string, unknown> }, room: string) => boolean | Promise<boolean>;
/** What the `authenticate` hook gets. */
export interface AuthContext {
  /** The upgrade request (headers, URL, socket). */
  request: IncomingMessage;
  /** The token from `?token=`, `Authorization: Bearer`, or the hello's `token` field. */
  token: string | undefined;
  /** The client's IP address. */
  ip: string;
  /** `hello.params`, when authentication happens at the hello. */
  params?: Record<string, unknown> | undefined;
}

/** An accepted client: its user id (may be absent for anonymous) and data the application keeps on the connection. */
export interface AuthResult {
  userId?: string | undefined;
  data?: Record<string, unknown> | undefined;
}

/** Authenticates a connecting client; return null/false to refuse. */
export type AuthenticateHook = (ctx: AuthContext) => AuthResult | null | false | Promise<AuthResult | null | false>;

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', `${what} must be a function`);

/** Every option of `createNode`, with its default. test/readme-options.test.ts keeps the README's options table in line with it. */
export const nodeOptionsSchema = z
  .strictObject({
    /** The core cluster node this WebSocket node serves (from `createCluster`); made from `adapter` when absent. */
    cluster: z
      .custom<ClusterNodeApi>((v) => typeof v === 'object' && v !== null && typeof (v as ClusterNodeApi).publish === 'function' && typeof (v as ClusterNodeApi).place === 'function', 'cluster must be a cluster node (createCluster)')
      .optional(),
    /**
     * Without `cluster`: the backend for every port (`createRedisAdapter({ url })`); the node makes
     * its cluster node with the defaults (a random node id, the URL it listens on). Neither: in-memory.
     */
    adapter: z.custom<PortSet>((v) => typeof v === 'object' && v !== null, 'adapter must be an object of ports (e.g. createRedisAdapter(...))').optional(),
    /** Attach to this http.Server (upgrades on `path` only; other paths are left alone). */
    server: z.custom<Server>((v) => typeof v === 'object' && v !== null && typeof (v as Server).on === 'function' && typeof (v as Server).listen === 'function', 'server must be an http.Server').optional(),
    /** Listen on this port when no `server` is given (0 picks a free one). */
    port: z.number().int().min(0).max(65535).optional(),
    /** Listen address when no `server` is given. */
    host: z.string().min(1).default('127.0.0.1'),
    /** WebSocket path. */
    path: z.string().regex(/^\/[^\s?#]*$/, 'path must start with / and hold no query').default(DEFAULT_PATH),
    /** URL clients use to reach this node (redirects, /route); derived from the listening address when absent. */
    publicUrl: z.string().regex(/^wss?:\/\//, 'publicUrl must start with ws:// or wss://').optional(),
    /** Take the client IP from the first X-Forwarded-For entry (behind a trusted proxy). */
    trustProxy: z.boolean().default(false),
    /** Allowed Origin header values (absent: any). Requests without an Origin pass. */
    origins: z.array(z.string().min(1)).optional(),
    /** Keep the upgrade request on `conn.request` for the connection's life (default: released after the `connection` event, about 1 KB per connection). */
    keepRequest: z.boolean().default(false),
    /** Batching: a room's messages go out as one frame of at most maxMessages, a busy room at most every maxDelayMs (an idle one at once); a backlogged socket's queue likewise. */
    batch: z.strictObject({ maxMessages: z.number().int().min(1).max(10_000).default(64), maxDelayMs: z.number().min(0).max(1000).default(5) }).prefault({}),
    /** Per-connection send queue: bound in messages, and socket buffer bytes above which we stop writing. */
    sendQueue: z.strictObject({ maxMessages: z.number().int().min(1).default(1024), highWaterBytes: z.number().int().min(1024).default(1_048_576) }).prefault({}),
    /** permessage-deflate, opt-in: false, or the size in bytes from which messages are compressed. */
    perMessageDeflate: z.union([z.literal(false), z.strictObject({ threshold: z.number().int().min(0).default(1024) })]).default(false),
    /** What one client (or one client IP) may cost the node, and how many clients it takes in at once. */
    limits: z
      .strictObject({
        /** Largest client frame in bytes (ws `maxPayload`); bigger frames close with 1009. */
        maxPayload: z.number().int().min(64).default(65_536),
        /** Deepest nesting of arrays and objects accepted in a client frame; deeper is `bad_frame` (reason too_deep). */
        maxFrameDepth: z.number().int().min(4).max(1000).default(64),
        /** Bad frames tolerated per connection before closing with 4000. */
        maxBadFrames: z.number().int().min(0).default(10),
        /** Open connections allowed per client IP (0: no limit); more are refused with HTTP 429. */
        maxConnectionsPerIp: z.number().int().min(0).default(0),
        /** Token bucket per connection (client frames), or false for none. */
        rateLimit: z
          .union([z.literal(false), z.strictObject({ messagesPerSecond: z.number().positive().default(100), burst: z.number().int().min(1).default(200), maxStrikes: z.number().int().min(0).default(20) })])
          .default({ messagesPerSecond: 100, burst: 200, maxStrikes: 20 }),
        /** Most messages replayed per room on a join or resume; more is reported as a gap. */
        maxReplay: z.number().int().min(0).default(1000),
        /**
         * Upgrades taken per event-loop turn; more arriving at once (a failover storm) wait for the
         * next turns, so the node's heartbeats keep their beat and it never fences itself under load.
         */
        maxUpgradesPerTurn: z.number().int().min(1).max(10_000).default(32),
        /**
         * Clients being accepted at once (from the upgrade to the welcome for a hello carried in the
         * upgrade, to the 101 otherwise); more wait their turn. Bounds the session and history
         * requests a crowd of resuming clients puts on the backend at once, so the node's heartbeat
         * does not queue behind them.
         */
        maxHellosInFlight: z.number().int().min(1).max(100_000).default(64),
        /**
         * On the server the node creates: connections the kernel holds while the node is busy (the
         * listen backlog, default 4096; Linux caps it at `net.core.somaxconn`). When a failover sends
         * more clients at once than it holds, the rest are dropped and their TCP retries after 1 s.
         * For a server you pass in, give the backlog to its `listen()`.
         */
        listenBacklog: z.number().int().min(1).max(65_535).optional(),
      })
      .prefault({}),
    /** How long the node waits for clients, sockets and the other nodes, ms. */
    timeouts: z
      .strictObject({
        /** Server ping interval; a client silent for this long after a ping is closed with 4010. */
        heartbeatMs: z.number().int().min(50).default(25_000),
        /** The hello must arrive within this long of the upgrade, else close 4010. */
        helloTimeoutMs: z.number().int().min(50).default(10_000),
        /**
         * On the server the node creates: a request (an upgrade) whose headers are not complete
         * within this long is cut (Node's headersTimeout, checked every second), so slow or stalled
         * upgrades cannot hold sockets. For a server you pass in, set `server.headersTimeout` yourself
         * and create it with `connectionsCheckingInterval` (see the README).
         */
        headersTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
        /** After a close frame, a socket that does not finish the close handshake is destroyed after this long. */
        closeTimeoutMs: z.number().int().min(10).default(5_000),
        /** Default timeout of cluster-wide presence queries (`roomMembers`, `connectionCount`). */
        queryTimeoutMs: z.number().int().min(1).max(60_000).default(1000),
      })
      .prefault({}),
    /** Authenticate a client from its token and request; absent: anonymous connections are allowed. */
    authenticate: fn<AuthenticateHook>('authenticate').optional(),
    /** Allow or refuse a room join (client joins, hello rooms). Default: allow. */
    authorizeJoin: fn<RoomHook>('authorizeJoin').optional(),
    /** Allow or refuse a client publish to a room. Default: only members of the room. */
    authorizePublish: fn<RoomHook>('authorizePublish').optional(),
    /** Rooms that keep history (offsets, replay on join/resume): true, or a predicate per room. */
    rooms: z.strictObject({ history: z.union([z.boolean(), fn<(room: string) => boolean>('rooms.history')]).default(false) }).prefault({}),
    /** Graceful shutdown: clients moved per batch, jitter between batches, and the default grace period. */
    drain: z.strictObject({ batchSize: z.number().int().min(1).default(100), batchIntervalMs: z.number().int().min(0).default(50), graceMs: z.number().int().min(0).default(10_000) }).prefault({}),
    /** Serve /health, /ready, /metrics, /cluster, /route on the server we create (ignored when attached: mount `node.httpHandler`). */
    http: z.boolean().default(true),
    /** Prefix of the HTTP endpoints, e.g. `/switchyard` serves `/switchyard/health`... (default: none). */
    httpPrefix: z.string().regex(/^(\/[A-Za-z0-9_.~-]+)*$/, 'httpPrefix must look like /a/b without a trailing slash').default(''),
    logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).info === 'function', 'logger must be pino-compatible').optional(),
  })
  .refine((o) => !(o.server && o.port !== undefined), { message: 'give either server or port, not both', path: ['port'] })
  .refine((o) => !(o.server && o.limits.listenBacklog !== undefined), {
    message: 'limits.listenBacklog applies to a server the node creates (port); give your server the backlog when it listens: server.listen({ port, backlog }), Fastify app.listen({ port, backlog })',
    path: ['limits', 'listenBacklog'],
  })
  .refine((o) => !(o.cluster && o.adapter), { message: 'give either cluster or adapter (the cluster has its ports already)', path: ['adapter'] });

export type NodeOptionsInput = z.input<typeof nodeOptionsSchema>;
export type NodeOptions = z.output<typeof nodeOptionsSchema>;

const moved = (group: 'limits' | 'timeouts', keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, `moved to ${group}.${k}`]));

/**
 * Top-level options of earlier releases that `createNode` refuses, with what to give instead
 * (the README's "Upgrading" lists them): the tuning knobs live in `limits` and `timeouts`, and the
 * session TTL is the cluster's alone.
 */
export const retiredNodeOptions: Readonly<Record<string, string>> = Object.freeze({
  ...moved('limits', ['maxPayload', 'maxFrameDepth', 'maxBadFrames', 'maxConnectionsPerIp', 'rateLimit', 'maxReplay', 'maxUpgradesPerTurn', 'maxHellosInFlight']),
  ...moved('timeouts', ['heartbeatMs', 'helloTimeoutMs', 'headersTimeoutMs', 'closeTimeoutMs', 'queryTimeoutMs']),
  sessionTtlMs: 'removed: the session TTL is the cluster\'s, set sessionTtlMs on createCluster',
});

/**
 * Validate options; a bad value throws SwitchyardError CONFIG_INVALID naming the field (an option
 * of an earlier release with where it went: `heartbeatMs: moved to timeouts.heartbeatMs`).
 */
export const parseNodeOptions = (input: unknown): NodeOptions => parseConfig(nodeOptionsSchema, input, 'ws', { retired: retiredNodeOptions });

export type { IncomingMessage };

/** Options of the ready JWT verifier `jwtAuth`. Give `secret` (HS256) or `jwksUrl`. */
export const jwtOptionsSchema = z
  .strictObject({
    /** Shared secret for HS256/HS384/HS512 tokens. */
    secret: z.string().min(16, 'at least 16 characters').optional(),
    /** JWKS endpoint for asymmetric tokens (RS256, ES256, EdDSA...). */
    jwksUrl: z.url().optional(),
    /** Required `iss`. */
    issuer: z.union([z.string(), z.array(z.string())]).optional(),
    /** Required `aud`. */
    audience: z.union([z.string(), z.array(z.string())]).optional(),
    /** Accepted algorithms (default: HS256 with a secret; the JWKS keys' algorithms otherwise). */
    algorithms: z.array(z.string()).optional(),
    /** Allowed clock skew, seconds. */
    clockToleranceSec: z.number().min(0).default(5),
    /** Verified tokens remembered (a reconnect storm checks each token's signature once); 0 turns it off. */
    cacheSize: z.number().int().min(0).default(10_000),
    /** How long a verified token is remembered, ms (never past its `exp`); a key removed from the JWKS stops being trusted within this time. */
    cacheTtlMs: z.number().int().min(0).default(60_000),
  })
  .refine((o) => (o.secret === undefined) !== (o.jwksUrl === undefined), { message: 'give exactly one of secret or jwksUrl', path: ['secret'] });

export type JwtOptionsInput = z.input<typeof jwtOptionsSchema>;

const port = <T>(what: string, methods: string[]) =>
  z.custom<T>((v) => typeof v === 'object' && v !== null && methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'), `${what} must implement ${methods.join(', ')}`);

/** Options of `createEmitter`: a publish-only sender for processes that are not nodes (workers, serverless functions). */
export const emitterOptionsSchema = z.strictObject({
  /** The cluster's message bus (an adapter instance, e.g. the Redis or NATS bus). */
  bus: port<MessageBus>('bus', ['publish', 'connect', 'close']),
  /** The cluster's history store, for room sends with `{ history: true }`. */
  history: port<HistoryStore>('history', ['append', 'connect', 'close']).optional(),
  /** The cluster key the nodes sign and check envelopes with (`clusterKey` of `createCluster`). */
  clusterKey: z.string().min(16, 'at least 16 characters').optional(),
  /** Sender id in the envelopes (`from`); must differ from every node id. Default `emitter-<random>`. */
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'id must be 1-64 characters from A-Z a-z 0-9 _ . : -').optional(),
  /** Rooms whose sends go to history by default: true, or a predicate per room (as the nodes' `rooms.history`). */
  rooms: z.strictObject({ history: z.union([z.boolean(), fn<(room: string) => boolean>('rooms.history')]).default(false) }).prefault({}),
  /** Close the bus and history store on `close()` (default true, like a cluster's ports); false when you share them. */
  closePorts: z.boolean().default(true),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).info === 'function', 'logger must be pino-compatible').optional(),
});

export type EmitterOptionsInput = z.input<typeof emitterOptionsSchema>;
export type EmitterOptions = z.output<typeof emitterOptionsSchema>;
