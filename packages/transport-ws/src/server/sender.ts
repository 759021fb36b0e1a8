import { toAll, toConnection, toNode, toRoom, toUser, type Address, type ClusterNodeApi, type PublishResult } from '@switchyard/core';

/** What a Sender publishes through: a cluster node, or a publish-only emitter. */
export type Publisher = Pick<ClusterNodeApi, 'publish'>;
import type { Priority, WireMessage } from '../protocol/server-frames.js';
import type { AnyEvents, EventData, EventMap, EventName } from '../client/events.js';

export interface SendOptions {
  /** Append to the room's history first (room sends; default: the node's `rooms.history` setting). */
  history?: boolean;
  /** Send-queue priority on the receiving sockets (default `normal`; `low` may be dropped under back-pressure). */
  priority?: Priority;
}

/** The node id a connection id carries (`<node id>~<random>`), if any. */
export const nodeOfConnection = (connectionId: string): string | undefined => {
  const i = connectionId.lastIndexOf('~');
  return i > 0 ? connectionId.slice(0, i) : undefined;
};

/**
 * A chainable send to one address, Socket.IO style: `node.to('lobby').except(conn.id).send('chat', data)`.
 * Published once on the bus; every node with local targets encodes it once and writes it to them.
 */
export class Sender<S extends EventMap = AnyEvents> {
  constructor(
    private readonly cluster: Publisher,
    private readonly address: Address,
    private readonly historyDefault: boolean,
    private readonly excluded: readonly string[] = [],
  ) {}

  /** Leave out these connection ids. */
  except(...connectionIds: Array<string | readonly string[]>): Sender<S> {
    return new Sender<S>(this.cluster, this.address, this.historyDefault, [...this.excluded, ...connectionIds.flat()]);
  }

  /** Send; resolves with the history offset for rooms that keep history. */
  send<E extends EventName<S>>(event: E, data: EventData<S, E>, options: SendOptions = {}): Promise<PublishResult> {
    const message: WireMessage = { ...(event !== undefined ? { event } : {}), data: data === undefined ? null : data, ...(options.priority && options.priority !== 'normal' ? { p: options.priority } : {}) };
    const history = this.address.kind === 'room' && (options.history ?? this.historyDefault);
    return this.cluster.publish(this.address, message, { ...(this.excluded.length ? { except: [...this.excluded] } : {}), ...(history ? { history: true } : {}) });
  }
}

export const addresses = {
  all: toAll,
  room: toRoom,
  user: toUser,
  node: toNode,
  connection: (id: string) => toConnection(id, nodeOfConnection(id)),
};
