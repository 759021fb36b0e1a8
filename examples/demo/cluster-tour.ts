/**
 * A tour of the cluster runtime in one process: three nodes on the in-memory backend place
 * clients, route a room message, lose a node and fail its sessions over. Prints what happens.
 */
import { MemoryHub, createCluster, type ClusterNode } from '@switchyard/core';
import { Topics } from '@switchyard/core/adapter';

const log = (msg: string) => console.log(`${new Date().toISOString().slice(11, 23)}  ${msg}`);

export async function clusterTour(): Promise<void> {
  const hub = new MemoryHub();
  const nodes: ClusterNode[] = ['node-a', 'node-b', 'node-c'].map((id, i) =>
    createCluster({
      hub,
      nodeId: id,
      url: `ws://127.0.0.1:${4001 + i}/ws`,
      heartbeatIntervalMs: 200,
      nodeTimeoutMs: 1000,
      balancer: 'least-connections',
      affinity: 'user',
      failover: 'immediate',
      history: true,
    }),
  );
  for (const n of nodes) {
    n.on('node:dead', (d) => log(`${n.id}: declared ${d.id} dead (no heartbeat for 1 s)`));
    n.on('coordinator', (yes) => yes && log(`${n.id}: holds the coordinator lease`));
    n.on('failover', (f) => log(`${n.id}: failover of ${f.node} by ${f.from} (token ${f.token}): ${Object.keys(f.assignments).length} sessions moved`));
  }
  await Promise.all(nodes.map((n) => n.start()));
  log(`started ${nodes.length} nodes on the in-memory bus`);
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  await new Promise((r) => setTimeout(r, 300));

  const counts: Record<string, number> = {};
  for (let i = 0; i < 30; i++) {
    const p = await a.place({ userId: `user-${i}` });
    counts[p.node.id] = (counts[p.node.id] ?? 0) + 1;
    await a.sessions.put({ id: `session-${i}`, nodeId: p.node.id, userId: `user-${i}`, rooms: {}, createdAt: Date.now(), updatedAt: Date.now() }, 60_000);
  }
  log(`placed 30 users by least-connections with user affinity: ${JSON.stringify(counts)}`);

  await b.acquire(Topics.room('lobby'));
  await c.acquire(Topics.room('lobby'));
  for (const n of [b, c]) n.on('deliver', (e) => log(`${n.id}: room message at offset ${e.offset}: ${JSON.stringify(e.data)}`));
  await a.publish({ kind: 'room', room: 'lobby' }, { text: 'hello from node-a' }, { history: true });
  await new Promise((r) => setTimeout(r, 100));

  const victim = nodes.find((n) => !n.isCoordinator() && n !== a) ?? c;
  log(`halting ${victim.id} as a crash would (no goodbye)`);
  await victim.halt();
  await new Promise((r) => setTimeout(r, 2000));
  const survivors = nodes.filter((n) => n !== victim);
  for (const n of survivors) log(`${n.id} now holds ${(await n.sessions.byNode(n.id)).length} sessions`);
  await Promise.all(survivors.map((n) => n.stop()));
  log('stopped');
}
