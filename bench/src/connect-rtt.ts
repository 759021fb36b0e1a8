/**
 * Connect latency over a slow link: a node in this process, clients dialling it through a proxy
 * that delays every chunk by ONE_WAY ms each way, time from `createClient` to the welcome, with
 * the early hello (the hello in the upgrade request) and without (the hello as a frame).
 *
 *   npm run connect-rtt -w @switchyard/bench            # ONE_WAY=25 (a 50 ms round trip)
 *   ONE_WAY=100 npm run connect-rtt -w @switchyard/bench
 *
 * Loopback only; 10 connections per setting, one at a time.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { createCluster, MemoryHub } from '@switchyard/core';
import { createNode } from '@switchyard/transport-ws';
import { createClient } from '@switchyard/transport-ws/client';

const ONE_WAY = Number(process.env.ONE_WAY ?? 25);
const node = createNode({ cluster: createCluster({ hub: new MemoryHub(), nodeId: 'n1' }), port: 0, host: '127.0.0.1' });
await node.start();
const target = new URL(node.url);
const proxy = net.createServer((c) => {
  const s = net.connect(Number(target.port), '127.0.0.1');
  const pipe = (a: net.Socket, b: net.Socket) => a.on('data', (d) => setTimeout(() => b.write(d), ONE_WAY));
  pipe(c, s);
  pipe(s, c);
  c.on('close', () => s.destroy());
  s.on('close', () => c.destroy());
  c.on('error', () => undefined);
  s.on('error', () => undefined);
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const url = `ws://127.0.0.1:${(proxy.address() as net.AddressInfo).port}${target.pathname}`;
for (const earlyHello of [true, false]) {
  const ms: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const client = createClient({ url, WebSocket, earlyHello });
    client.room('lobby');
    await client.ready();
    ms.push(performance.now() - t0);
    client.close();
  }
  ms.sort((a, b) => a - b);
  console.log(`earlyHello ${earlyHello}, round trip ${2 * ONE_WAY} ms: createClient to welcome median ${Math.round(ms[5] as number)} ms (min ${Math.round(ms[0] as number)}, max ${Math.round(ms[9] as number)})`);
}
proxy.close();
await node.close({ graceMs: 0 });
