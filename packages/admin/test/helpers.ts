/**
 * Shared by the admin tests: nodes on one in-memory hub (real sockets, real HTTP), the
 * authorize hook the tests use, and small HTTP helpers.
 */
import type { IncomingMessage } from 'node:http';
import { createCluster, MemoryHub } from '@switchyard/core';
import { waitFor } from '@switchyard/core/testing';
import { createNode, type NodeOptionsInput, type SwitchyardNode } from '@switchyard/transport-ws';
import type { AdminPermissions } from '../src/index.js';

/** Start nodes on one hub, each listening on 127.0.0.1:0; resolves once every node sees all of them ready. */
export async function startNodes(ids: string[], options: Partial<NodeOptionsInput> = {}, hub = new MemoryHub()): Promise<SwitchyardNode[]> {
  const nodes = ids.map((id) => createNode({ cluster: createCluster({ hub, nodeId: id, heartbeatIntervalMs: 100, nodeTimeoutMs: 5000 }), port: 0, ...options }));
  await Promise.all(nodes.map((n) => n.start()));
  await waitFor(() => nodes.every((n) => n.cluster.healthyNodes().length >= ids.length && n.cluster.healthyNodes().every((x) => x.url !== '')), 10_000);
  return nodes;
}

/** `Authorization: Bearer admin` may read and act, `Bearer reader` may only read; anything else nothing. */
export function authorize(req: IncomingMessage): AdminPermissions | false {
  const auth = req.headers.authorization;
  if (auth === 'Bearer admin') return { read: true, act: true };
  if (auth === 'Bearer reader') return { read: true, act: false };
  return false;
}

/** The node's HTTP base, e.g. http://127.0.0.1:4001 */
export const httpBase = (node: SwitchyardNode): string => node.url.replace(/^ws/, 'http').replace(/\/ws$/, '');

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: <T = Record<string, unknown>>() => T;
}

export async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

export const as = (who: 'admin' | 'reader', extra: Record<string, string> = {}): Record<string, string> => ({ authorization: `Bearer ${who}`, ...extra });
export const action = { 'x-switchyard-admin': '1', 'content-type': 'application/json' };
