/** Who a message is for. */
export type Address =
  | { kind: 'all' }
  | { kind: 'room'; room: string }
  | { kind: 'user'; userId: string }
  | { kind: 'connection'; connectionId: string; nodeId?: string | undefined }
  | { kind: 'node'; nodeId: string };

export const toAll = (): Address => ({ kind: 'all' });
export const toRoom = (room: string): Address => ({ kind: 'room', room });
export const toUser = (userId: string): Address => ({ kind: 'user', userId });
export const toConnection = (connectionId: string, nodeId?: string): Address => ({ kind: 'connection', connectionId, nodeId });
export const toNode = (nodeId: string): Address => ({ kind: 'node', nodeId });

/** Bus topics are Switchyard's own names; adapters map them to channels, subjects or keys. */
export const Topics = {
  all: 'all',
  clusterEvents: 'cluster.events',
  room: (room: string) => `room.${room}`,
  user: (userId: string) => `user.${userId}`,
  node: (nodeId: string) => `node.${nodeId}`,
} as const;

/**
 * The bus topic an address is published on. A connection is reached through the inbox of
 * the node that holds it when that node is known, else through the cluster-wide topic.
 */
export function topicFor(address: Address): string {
  switch (address.kind) {
    case 'all':
      return Topics.all;
    case 'room':
      return Topics.room(address.room);
    case 'user':
      return Topics.user(address.userId);
    case 'node':
      return Topics.node(address.nodeId);
    case 'connection':
      return address.nodeId ? Topics.node(address.nodeId) : Topics.all;
  }
}

/** History stream name for a room. */
export const historyStream = (room: string): string => `room.${room}`;
