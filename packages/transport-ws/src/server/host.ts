import type { IncomingMessage } from 'node:http';
import type { ClusterNodeApi, Logger } from '@switchyard/core';
import type { RoomJoins, SessionService } from '@switchyard/core/adapter';
import type { WebSocket, WebSocketServer } from 'ws';
import type { NodeOptions } from '../options.js';
import type { Batcher } from './batcher.js';
import type { ServerConnection, ConnectionHost } from './connection.js';
import type { TransportMetrics } from './metrics.js';
import type { IpLimiter } from './rate-limit.js';
import type { ReplayCache } from './replay-cache.js';
import type { LocalIndex } from './rooms.js';
import type { RoomFrame } from './room-frame.js';

/**
 * The node as its server helpers see it (upgrade, dispatch, handshake, membership, drain,
 * heartbeat, early hello): what they share, without the application API of `SwitchyardNode`.
 * The node makes one and keeps it private; tests reach it with {@link internalsOf}.
 */
export interface NodeInternals extends ConnectionHost {
  readonly id: string;
  readonly options: NodeOptions;
  readonly cluster: ClusterNodeApi;
  readonly logger: Logger;
  readonly metrics: TransportMetrics;
  readonly batcher: Batcher;
  /** Sessions, placement and drain targets (core). */
  readonly sessions: SessionService;
  /** What replays share: history entries encoded once. */
  readonly replays: ReplayCache;
  /** Room joins with their replay (core), bound to this node's index, frames and sockets. */
  readonly joins: RoomJoins<ServerConnection, RoomFrame>;
  /** Open (welcomed) connections and their rooms and users. */
  readonly index: LocalIndex;
  /** Every socket, welcomed or not. */
  readonly sockets: Set<ServerConnection>;
  readonly ipLimiter: IpLimiter;
  /** The WebSocket server (after start). */
  readonly wss: WebSocketServer | undefined;
  /** True when the node created its http.Server. */
  readonly ownServer: boolean;
  /** True while new upgrades are accepted. */
  readonly accepting: boolean;
  /** True from the moment draining starts. */
  readonly draining: boolean;
  /** True when `room` keeps history here. */
  historyFor(room: string): boolean;
  /** A new socket (before the hello). */
  newConnection(ws: WebSocket, req: IncomingMessage, ip: string): ServerConnection;
  /** The hello is done: the application hears of the connection. */
  emitConnection(conn: ServerConnection): void;
}

const registry = new WeakMap<object, NodeInternals>();

/** @internal the node registers its internals once. */
export function registerInternals(node: object, internals: NodeInternals): void {
  registry.set(node, internals);
}

/** @internal a node's internals (tests, and the node's own helpers). */
export function internalsOf(node: object): NodeInternals {
  const i = registry.get(node);
  if (!i) throw new Error('not a Switchyard node');
  return i;
}
