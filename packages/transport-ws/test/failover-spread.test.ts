/**
 * Clients of a crashed node come back fast: they spread over the surviving nodes (not all onto
 * the next URL of their shared list), never dial the dead node first, and are not redirected
 * again when the failover has meanwhile moved their sessions to another node.
 * Three nodes of one in-memory cluster on real loopback sockets; the SDK over `ws`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, MemoryHub, type BalancerStrategy, type NodeInfo } from '@switchyard/core';
import { waitFor } from '@switchyard/core/testing';
import { WebSocket } from 'ws';
import { createNode, type SwitchyardNode } from '../src/index.js';
import { createClient, type SwitchyardClient } from '../src/client/index.js';
import { crash } from './helpers.js';

const NODE_TIMEOUT_MS = 600;
let nodes: SwitchyardNode[] = [];
let clients: SwitchyardClient[] = [];

/** Every node keeps the clients that dial it (the test decides the spread), as a deployment behind a plain load balancer. */
const stayLocal = (id: string): BalancerStrategy => ({ name: 'stay-local', pick: (ns: readonly NodeInfo[]) => ns.find((n) => n.id === id) ?? (ns[0] as NodeInfo) });

async function startCluster(): Promise<SwitchyardNode[]> {
  const hub = new MemoryHub();
  nodes = ['n1', 'n2', 'n3'].map((id) =>
    createNode({
      cluster: createCluster({ hub, nodeId: id, heartbeatIntervalMs: 50, nodeTimeoutMs: NODE_TIMEOUT_MS, history: true, balancer: stayLocal(id) }),
      port: 0,
      rooms: { history: true },
      limits: { rateLimit: false },
    }),
  );
  await Promise.all(nodes.map((x) => x.start()));
  await waitFor(() => nodes.every((x) => x.cluster.healthyNodes().length === 3 && x.cluster.healthyNodes().every((h) => h.url !== '')), 5000);
  return nodes;
}

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await Promise.all(nodes.map((x) => x.close({ graceMs: 0 })));
  nodes = [];
});

describe('failover of many clients', () => {
  it('spreads the clients of a killed node over the survivors, with no redirect, all receiving again within the node timeout + 2 s', async () => {
    await startCluster();
    const [sender, , victim] = nodes as [SwitchyardNode, SwitchyardNode, SwitchyardNode];
    const n = 60;
    // the displaced clients may dial again only once the cluster has declared the victim dead and
    // its failover has moved their sessions (to the coordinator): the worst case for redirects
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let gated = false;
    // every client lists its own node first and the others in one shared order, as a config file would
    const urls = [victim.url, sender.url, nodes[1]!.url];
    const dials: string[] = [];
    const redirects: string[] = [];
    const cs = Array.from({ length: n }, () => {
      const c = createClient({
        WebSocket,
        urls,
        reconnect: { baseMs: 100, maxMs: 2000, firstRetryMaxMs: 100 },
        getToken: () => (gated ? gate.then(() => undefined) : undefined),
      });
      c.on('connecting', (e) => gated && dials.push(e.url));
      c.on('redirect', (e) => redirects.push(e.url));
      clients.push(c);
      return c;
    });
    const rooms = cs.map((c) => c.room('stream'));
    await waitFor(() => rooms.every((r) => r.state === 'subscribed'), 10_000);
    expect(cs.every((c) => c.connection?.node === victim.id)).toBe(true);
    const sessions = cs.map((c) => c.sessionId);
    const last = new Map<SwitchyardClient, number>();
    cs.forEach((c, i) => rooms[i]!.on('message', (m) => last.set(c, m.data as number)));

    let seq = 0;
    await sender.to('stream').send('n', ++seq);
    await waitFor(() => cs.every((c) => last.get(c) === seq));

    gated = true;
    const failedOver = new Promise<Record<string, string>>((resolve) => nodes.slice(0, 2).forEach((x) => x.cluster.on('failover', (f) => resolve(f.assignments))));
    await crash(victim);
    for (let i = 0; i < 5; i++) await sender.to('stream').send('n', ++seq);
    const moved = await failedOver;
    // the failover moved every session to one node (the coordinator's balancer keeps them local)
    expect(Object.keys(moved).length).toBe(n);
    expect(new Set(Object.values(moved)).size).toBe(1);
    release();

    await waitFor(() => cs.every((c) => c.state === 'connected') && rooms.every((r) => r.state === 'subscribed'), NODE_TIMEOUT_MS + 2000);
    await sender.to('stream').send('n', ++seq);
    await waitFor(() => cs.every((c) => last.get(c) === seq), NODE_TIMEOUT_MS + 2000);

    // nobody dialled the dead node again, nobody was sent on to another node, both survivors took a share
    expect(dials.filter((u) => u === victim.url)).toEqual([]);
    expect(redirects).toEqual([]);
    const landed = new Map<string, number>();
    for (const c of cs) landed.set(c.connection?.node as string, (landed.get(c.connection?.node as string) ?? 0) + 1);
    expect([...landed.keys()].sort()).toEqual([sender.id, nodes[1]!.id].sort());
    for (const count of landed.values()) expect(count).toBeGreaterThanOrEqual(n / 5);
    // sessions resumed where they landed, nothing missed
    expect(cs.map((c) => c.sessionId)).toEqual(sessions);
    expect(cs.every((c) => c.connection?.resumed === true)).toBe(true);
  });
});
