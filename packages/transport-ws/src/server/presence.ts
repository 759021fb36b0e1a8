import type { QueryResult } from '@switchyard/core';
import { z } from 'zod';
import type { LocalIndex } from './rooms.js';

/** Query names this package answers on every node (cluster-wide queries of core). */
export const PresenceQueries = {
  roomMembers: 'ws.room-members',
  stats: 'ws.stats',
} as const;

/** One connection in a room, somewhere in the cluster. */
export interface RoomMember {
  connectionId: string;
  /** The authenticated user, or null for an anonymous connection. */
  userId: string | null;
  /** The node that holds the connection. */
  node: string;
}

export interface RoomMembers {
  members: RoomMember[];
  /** Nodes that did not answer within the timeout, or could not answer (an older node, an error): their members are not listed. */
  missing: string[];
  /** True when every node asked answered. */
  complete: boolean;
}

export interface ConnectionCount {
  /** Open (welcomed) connections on the nodes that answered. */
  total: number;
  /** Open connections per node that answered. */
  byNode: Record<string, number>;
  /** Nodes that did not answer in time or could not answer. */
  missing: string[];
  /** True when every node asked answered. */
  complete: boolean;
}

export interface PresenceOptions {
  /** How long to wait for the other nodes, ms (default: the node's `timeouts.queryTimeoutMs`). */
  timeoutMs?: number;
}

const membersAnswer = z.array(z.object({ connectionId: z.string().min(1), userId: z.string().nullable() }));
const statsAnswer = z.object({ connections: z.number().int().nonnegative(), rooms: z.number().int().nonnegative() });
const roomArgs = z.object({ room: z.string().min(1) });

/** This node's answers: what its own index holds. */
export function presenceHandlers(index: LocalIndex) {
  return {
    [PresenceQueries.roomMembers]: (args: unknown) => {
      const { room } = roomArgs.parse(args);
      const out: Array<z.infer<typeof membersAnswer>[number]> = [];
      for (const c of index.inRoom(room)) if (c.state === 'open') out.push({ connectionId: c.id, userId: c.userId ?? null });
      return out;
    },
    [PresenceQueries.stats]: () => ({ connections: index.size, rooms: index.roomCount() }),
  };
}

/**
 * Split a query result into validated answers and the nodes that count as missing: silent
 * ones, ones that answered with an error, and ones whose answer does not have the expected shape.
 */
function collect<T>(r: QueryResult, schema: z.ZodType<T>): { answers: Array<{ node: string; value: T }>; missing: string[] } {
  const missing = new Set([...r.missing, ...r.errors.map((e) => e.node)]);
  const answers: Array<{ node: string; value: T }> = [];
  for (const { node, result } of r.results) {
    const parsed = schema.safeParse(result);
    if (parsed.success) answers.push({ node, value: parsed.data });
    else missing.add(node);
  }
  return { answers, missing: [...missing].sort() };
}

export function toRoomMembers(r: QueryResult): RoomMembers {
  const { answers, missing } = collect(r, membersAnswer);
  const members = answers.flatMap(({ node, value }) => value.map((m) => ({ connectionId: m.connectionId, userId: m.userId, node })));
  members.sort((a, b) => (a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0));
  return { members, missing, complete: missing.length === 0 };
}

export function toConnectionCount(r: QueryResult): ConnectionCount {
  const { answers, missing } = collect(r, statsAnswer);
  const byNode: Record<string, number> = {};
  let total = 0;
  for (const { node, value } of answers) {
    byNode[node] = value.connections;
    total += value.connections;
  }
  return { total, byNode, missing, complete: missing.length === 0 };
}
