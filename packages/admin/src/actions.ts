/**
 * What the dashboard's buttons do, through the cluster's own controls: drain a node (core sends
 * the `drain` control to it; it enters `draining` and moves every client elsewhere with a
 * redirect hint and 1012), disconnect one connection wherever it is (`node.disconnect`: a
 * control to the node that holds it), and list one node's connections (a query to that node).
 */
import { nodeOfConnection, type SwitchyardNode } from '@switchyard/transport-ws';
import { AdminQueries, type ConnectionsReport, type NodeAgent } from './agent.js';
import type { EventLog } from './events.js';
import { HttpError } from './http-error.js';

export interface DrainResult {
  node: string;
  action: 'drain';
  /** The node's state before the request (`draining` when it already was: nothing new is sent). */
  previous: string;
}

export interface DisconnectResult {
  connection: string;
  node: string;
  action: 'disconnect';
  code: number;
}

const REASON_MAX = 123;

export class AdminActions {
  constructor(
    private readonly node: SwitchyardNode,
    private readonly agent: NodeAgent,
    private readonly log: EventLog,
    private readonly options: { disconnectCode: number; queryTimeoutMs: number; maxConnections: number },
  ) {}

  async drain(nodeId: string): Promise<DrainResult> {
    const target = this.node.cluster.nodes().find((n) => n.id === nodeId);
    if (!target) throw new HttpError(404, 'unknown_node', `no node ${nodeId} in the cluster`);
    if (target.state === 'dead') throw new HttpError(409, 'node_dead', `${nodeId} is dead: there is nothing left to drain (its sessions fail over by themselves)`);
    if (target.state !== 'draining') {
      this.log.add('drain', `drain of ${nodeId} requested from the dashboard: its clients are told to move to other nodes`, { node: nodeId, level: 'warn' });
      await this.node.cluster.control('drain', {}, nodeId).catch((err: unknown) => {
        this.log.add('drain', `drain of ${nodeId} could not be sent: ${(err as Error).message}`, { node: nodeId, level: 'warn' });
        throw new HttpError(503, 'unavailable', `the drain of ${nodeId} could not be sent over the cluster's bus: ${(err as Error).message}`);
      });
    }
    return { node: nodeId, action: 'drain', previous: target.state };
  }

  async disconnect(connectionId: string, body: { code?: unknown; reason?: unknown }): Promise<DisconnectResult> {
    const owner = nodeOfConnection(connectionId);
    if (!owner) throw new HttpError(400, 'bad_request', `${connectionId} is not a connection id (<node id>~<random>)`);
    const target = this.node.cluster.nodes().find((n) => n.id === owner);
    if (!target || target.state === 'dead') throw new HttpError(404, 'unknown_node', `connection ${connectionId} belongs to ${owner}, which is not a live node of the cluster`);
    const code = body.code === undefined ? this.options.disconnectCode : body.code;
    if (typeof code !== 'number' || !Number.isInteger(code) || (code !== 1000 && (code < 4000 || code > 4999))) {
      throw new HttpError(400, 'bad_request', 'code must be 1000 (the client may reconnect) or an application code from 4000 to 4999 (4003: it stays away)');
    }
    const reason = body.reason === undefined ? 'disconnected by an administrator' : body.reason;
    if (typeof reason !== 'string' || Buffer.byteLength(reason) > REASON_MAX) throw new HttpError(400, 'bad_request', `reason must be a string of at most ${REASON_MAX} bytes`);
    await this.node.disconnect(connectionId, { code, reason });
    this.log.add('disconnect', `connection ${connectionId} on ${owner} disconnected from the dashboard (${code})`, { node: owner });
    return { connection: connectionId, node: owner, action: 'disconnect', code };
  }

  async connections(nodeId: string, limit: number, room?: string): Promise<ConnectionsReport & { node: string }> {
    const max = Math.min(limit, this.options.maxConnections);
    if (nodeId === this.node.id) return { node: nodeId, ...this.agent.connections(max, room) };
    if (!this.node.cluster.nodes().some((n) => n.id === nodeId && (n.state === 'ready' || n.state === 'draining'))) {
      throw new HttpError(404, 'unknown_node', `no live node ${nodeId} in the cluster`);
    }
    const r = await this.node.cluster.query<ConnectionsReport>(AdminQueries.connections, { limit: max, ...(room ? { room } : {}) }, { nodes: [nodeId], timeoutMs: this.options.queryTimeoutMs });
    const answer = r.results[0]?.result;
    if (answer && Array.isArray(answer.connections)) return { node: nodeId, ...answer };
    if (r.errors.length) throw new HttpError(502, 'no_agent', `${nodeId} cannot list its connections: it does not run the admin agent (mountAdmin or attachAdminAgent on it)`);
    throw new HttpError(504, 'timeout', `${nodeId} did not answer within ${this.options.queryTimeoutMs} ms`);
  }
}
