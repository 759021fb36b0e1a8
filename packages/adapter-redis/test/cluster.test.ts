import { execFile } from 'node:child_process';
import { busContract, historyContract, registryContract, sessionContract } from '@switchyard/core/testing';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBus, RedisHistory, RedisRegistry, RedisSessionStore } from '../src/index.js';
import { hasRedisBinaries, PrivateCluster } from './support/redis-process.js';

const lines = (out: string) => out.split('\n').map((l) => l.trim()).filter(Boolean);
const redisCli = (port: number, ...args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 }, (err, out) => (err ? reject(err) : resolve(out))),
  );

const keyPrefix = `sy-cluster-${randomBytes(4).toString('hex')}:`;

describe.skipIf(!hasRedisBinaries())('sharded mode on a real Redis Cluster (3 private redis-servers)', () => {
  let cluster: PrivateCluster | undefined;
  beforeAll(async () => {
    cluster = await PrivateCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  const create = () => {
    if (!cluster) throw new Error('cluster did not start');
    return new RedisBus({ mode: 'sharded', nodes: cluster.nodes, keyPrefix, reconnectMinDelayMs: 20, reconnectMaxDelayMs: 200 });
  };

  it('subscribes with SSUBSCRIBE, so topics are spread over the shards and not broadcast', async () => {
    const bus = create();
    try {
      expect(bus.capabilities.sharded).toBe(true);
      await bus.connect();
      const topics = Array.from({ length: 30 }, (_, i) => `room.spread-${i}`);
      for (const t of topics) await bus.subscribe(t, () => undefined);
      const perShard = await Promise.all(
        (cluster as PrivateCluster).servers.map(async (s) => ({
          sharded: lines(await redisCli(s.port, 'PUBSUB', 'SHARDCHANNELS', `${keyPrefix}t:*`)),
          classic: lines(await redisCli(s.port, 'PUBSUB', 'CHANNELS', `${keyPrefix}t:*`)),
        })),
      );
      expect(perShard.filter((s) => s.sharded.length > 0).length).toBeGreaterThanOrEqual(2);
      expect(perShard.flatMap((s) => s.sharded).sort()).toEqual(topics.map((t) => `${keyPrefix}t:${t}`).sort());
      expect(perShard.flatMap((s) => s.classic)).toEqual([]);
    } finally {
      await bus.close();
    }
  });

  busContract('redis sharded (SSUBSCRIBE/SPUBLISH)', { create });

  // Keys one script touches share a hash tag, so the other ports run on a cluster too.
  const cfg = () => ({ mode: 'sharded' as const, nodes: (cluster as PrivateCluster).nodes, keyPrefix, reconnectMinDelayMs: 20, reconnectMaxDelayMs: 200 });
  historyContract('redis on a cluster', { create: (retention) => new RedisHistory({ ...cfg(), history: { ...retention } }) });
  registryContract('redis on a cluster', { create: () => new RedisRegistry({ ...cfg(), registryReconcileMs: 200 }), minTtlMs: 200 });
  sessionContract('redis on a cluster', { create: () => new RedisSessionStore(cfg()), minTtlMs: 200 });
});
