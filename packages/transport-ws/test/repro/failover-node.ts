/**
 * One Switchyard node on Redis for the failover timeline script (run by failover-timeline.ts with tsx).
 * argv: id prefix publishRate. Prints `{"url": ...}` once listening; on IPC 'publish' streams to room h-stream.
 */
import { createCluster, type BalancerStrategy, type NodeInfo } from '@switchyard/core';
import { createRedisAdapter } from '@switchyard/adapter-redis';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createNode } from '../../src/index.js';

const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

const [id = 'n0', prefix = 'repro:', rate = '50'] = process.argv.slice(2);
const stayLocal: BalancerStrategy = { name: 'stay-local', pick: (nodes: readonly NodeInfo[]) => nodes.find((n) => n.id === id) ?? (nodes[0] as NodeInfo) };
const a = createRedisAdapter({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: prefix, registryReconcileMs: 500 });
const cluster = createCluster({
  nodeId: id,
  bus: a.bus,
  registry: a.registry,
  sessions: a.sessions,
  history: a.history,
  balancer: stayLocal,
  heartbeatIntervalMs: 250,
  nodeTimeoutMs: 1000,
  sessionTtlMs: 600_000,
  rebalance: { enabled: false },
} as Parameters<typeof createCluster>[0]);
cluster.on('node:dead', (n) => process.send?.({ dead: n.id, at: Date.now() }));
const node = createNode({ cluster, port: 0, host: '127.0.0.1', timeouts: { heartbeatMs: 5000 }, limits: { rateLimit: false }, rooms: { history: (r: string) => r.startsWith('h-') }, drain: { graceMs: 0 } });
await node.start();
const upgrades: number[] = [];
let killAt = 0;
const handshakes: number[] = [];
node.httpServer?.prependListener('upgrade', (req) => {
  const t = Date.now();
  if (killAt) upgrades.push(t - killAt);
  (req as unknown as { __t: number }).__t = t;
});
node.on('connection', (conn) => {
  const c = conn as unknown as { request?: { __t?: number } };
  if (killAt && c.request?.__t) handshakes.push(Date.now() - c.request.__t);
});
process.send?.({ url: node.url });
let seq = 0;
process.on('message', (m: { cmd: string; ms?: number; at?: number }) => {
  if (m.cmd === 'publish') {
    const t = setInterval(() => void node.to('h-stream').send('m', { seq: ++seq, at: Date.now() }).catch(() => undefined), 1000 / Number(rate));
    setTimeout(() => {
      clearInterval(t);
      process.send?.({ sent: seq });
    }, m.ms ?? 5000);
  }
  if (m.cmd === 'lag-reset') { lag.reset(); killAt = Date.now(); }
  if (m.cmd === 'hs') { const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.floor((p / 100) * (a.length - 1))]; process.send?.({ hs: { id, upgrades: upgrades.length, firstUpgrade: upgrades[0], lastUpgrade: upgrades.at(-1), welcomed: handshakes.length, hsP50: q(handshakes, 50), hsMax: q(handshakes, 100) } }); }
  if (m.cmd === 'lag') process.send?.({ lag: { id, p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 } });
  if (m.cmd === 'stop') void node.close({ graceMs: 0 }).finally(() => process.exit(0));
});
