/**
 * Every key and channel this package touches, in one place (the README's key layout is this
 * file). The prefix is validated by the options schema. Names in braces are Redis Cluster
 * hash tags: keys that one Lua script touches together share a slot.
 */
export class KeySpace {
  constructor(readonly prefix: string) {}

  /** Pub/sub (or sharded pub/sub) channel of a bus topic. */
  topic(topic: string): string {
    return `${this.prefix}t:${topic}`;
  }

  /** Registry join/update/leave notices. */
  get registryChannel(): string {
    return `${this.prefix}registry`;
  }

  /** A node record (JSON string, PX = node TTL). */
  node(id: string): string {
    return `${this.prefix}{reg}:node:${id}`;
  }

  /** Sorted set of node ids scored by expiry time (ms, Redis clock). */
  get nodeIndex(): string {
    return `${this.prefix}{reg}:nodes`;
  }

  /** A lease: `<token>:<holder>` with PX = lease TTL. */
  lease(name: string): string {
    return `${this.prefix}{reg}:lease:${name}`;
  }

  /** The lease's fencing counter (INCR). */
  leaseFence(name: string): string {
    return `${this.prefix}{reg}:fence:${name}`;
  }

  /** A session hash (PX = session TTL). */
  session(id: string): string {
    return `${this.prefix}{ss}:s:${id}`;
  }

  /** Set of a user's session ids. */
  userSessions(userId: string): string {
    return `${this.prefix}{ss}:u:${userId}`;
  }

  /** Set of the session ids a node is responsible for. */
  nodeSessions(nodeId: string): string {
    return `${this.prefix}{ss}:n:${nodeId}`;
  }

  /** An affinity key -> node id (PX = affinity TTL). */
  affinity(key: string): string {
    return `${this.prefix}{ss}:a:${key}`;
  }

  /** The Redis Stream of a history stream; entry ids are `<offset>-0`. */
  stream(name: string): string {
    return `${this.prefix}h:{${name}}`;
  }

  /** The stream's hash: `seq` (last offset) and `epoch`. */
  streamMeta(name: string): string {
    return `${this.prefix}h:{${name}}:m`;
  }

  /** One writer's recent appends to the stream, `<writer seq> -> <offset>:<epoch>` and `max` (PX 60 s): a resent append is not applied twice. */
  streamWriter(name: string, writer: string): string {
    return `${this.prefix}h:{${name}}:w:${writer}`;
  }
}
