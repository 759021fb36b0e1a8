import type { ReassignResult, RoomCursor, SessionRecord } from '../model/session.js';
import type { Lifecycle } from './lifecycle.js';

/**
 * Where each session lives and what it follows: session id -> node, user -> sessions, rooms
 * and last offsets, plus affinity keys -> node. Every record has a TTL that `touch` extends.
 */
export interface SessionStore extends Lifecycle {
  readonly name: string;
  /** Create or replace a session, alive for `ttlMs`. */
  put(session: SessionRecord, ttlMs: number): Promise<void>;
  /**
   * Optional: write several sessions in one round trip, each exactly as `put` would. The node
   * gathers the sessions of clients opening at about the same time (a connect storm, the clients
   * of a dead node) into one call; a store without it gets one `put` each.
   */
  putMany?(sessions: readonly SessionRecord[], ttlMs: number): Promise<void>;
  get(sessionId: string): Promise<SessionRecord | null>;
  /**
   * Optional: read several sessions in one round trip, each exactly as `get` would, the results in
   * the order of `sessionIds` (null: none). The node gathers the reads of clients resuming at about
   * the same time (the clients of a dead node) into one call; a store without it gets one `get` each.
   */
  getMany?(sessionIds: readonly string[]): Promise<Array<SessionRecord | null>>;
  /** Extend the TTL. False when the session is gone. */
  touch(sessionId: string, ttlMs: number): Promise<boolean>;
  delete(sessionId: string): Promise<void>;
  /** Sessions of a user, any node. */
  byUser(userId: string): Promise<SessionRecord[]>;
  /** Sessions a node is responsible for. */
  byNode(nodeId: string): Promise<SessionRecord[]>;
  /** Record that the session is in `room` at `cursor` (join, or a new offset). */
  setRoom(sessionId: string, room: string, cursor: RoomCursor): Promise<void>;
  /** Forget the session's membership of `room`. */
  removeRoom(sessionId: string, room: string): Promise<void>;
  /**
   * Move sessions from `fromNodeId` to the nodes named in `assignments` (session id -> node id),
   * atomically per session and only while the session is still on `fromNodeId`. When two
   * coordinators race, each session ends on exactly one node and each call reports only what
   * it moved.
   */
  reassign(fromNodeId: string, assignments: Record<string, string>): Promise<ReassignResult>;
  /** The node an affinity key is pinned to, if any. */
  getAffinity(key: string): Promise<string | null>;
  /** Pin an affinity key to a node for `ttlMs`. */
  setAffinity(key: string, nodeId: string, ttlMs: number): Promise<void>;
}
