/**
 * Failover timeline at small scale: 3 node processes on Redis, N SDK clients in this process
 * spread evenly (own URL first, like the bench), a room with history streaming from node 0;
 * SIGKILL node 2 and record per moved client: close, every dial (URL, outcome), welcome, first message after.
 * Run: node --conditions=@switchyard/source --import tsx packages/transport-ws/test/repro/failover-timeline.ts [clients=300]
 */
import { execSync, fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createClient, type WebSocketConstructor } from '../../src/client/index.js';

const N = Number(process.argv[2] ?? 300);
const prefix = `repro${Math.random().toString(36).slice(2, 8)}:`;
const here = fileURLToPath(new URL('./failover-node.ts', import.meta.url));
const procs: ChildProcess[] = [];
const urls: string[] = [];
let deadAt = 0;
for (let i = 0; i < 3; i++) {
  const p = fork(here, [`n${i}`, prefix, '50'], { execArgv: ['--conditions=@switchyard/source', '--import', 'tsx', ...(process.env.PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/sy-prof'] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  procs.push(p);
  urls.push(await new Promise<string>((res) => p.on('message', (m: { url?: string; dead?: string; at?: number }) => {
    if (m.url) res(m.url);
    if (m.dead === 'n2' && !deadAt) deadAt = m.at as number;
  })));
}
await new Promise((r) => setTimeout(r, 1500));
interface Trace { dials: string[]; after: number; closeAt?: number; welcomeAt?: number; welcomeNode?: string; firstAfter?: number; last: number; }
const traces: Trace[] = [];
let killAt = 0;
const clients = [];
for (let i = 0; i < N; i++) {
  const own = i % 3;
  const list = [urls[own] as string, ...urls.filter((_, j) => j !== own)];
  const tr: Trace = { dials: [], last: 0, after: 0 };
  traces.push(tr);
  class Traced extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { perMessageDeflate: false });
      const t0 = Date.now();
      const tag = () => `${killAt ? Date.now() - killAt : 'pre'}`;
      if (killAt) tr.dials.push(`+${t0 - killAt} dial ${url.slice(-10)}`);
      const req = (this as unknown as { _req?: import('node:http').ClientRequest })._req;
      req?.on('socket', (sock) => sock.on('connect', () => killAt && tr.dials.push(`+${tag()} tcp`)));
      this.on('open', () => killAt && tr.dials.push(`+${tag()} open`));
      this.on('error', (e) => killAt && tr.dials.push(`+${tag()} err ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      this.on('close', (c) => killAt && tr.dials.push(`+${tag()} close ${c}`));
    }
  }
  const c = createClient({ urls: list, WebSocket: Traced as unknown as WebSocketConstructor, handshakeTimeoutMs: 20_000, reconnect: { baseMs: 100, maxMs: 2000, firstRetryMaxMs: 100 }, maxRedirects: 2 });
  c.on('disconnected', (e) => { if (killAt && !tr.closeAt) { tr.closeAt = Date.now(); tr.dials.push(`+${Date.now() - killAt} disconnected ${e.code} delay ${e.delayMs}`); } });
  c.on('redirect', (e) => killAt && tr.dials.push(`+${Date.now() - killAt} redirect ${e.url.slice(-10)}`));
  c.on('connected', (e) => { if (killAt) { tr.welcomeAt = Date.now(); tr.welcomeNode = e.node; tr.dials.push(`+${Date.now() - killAt} welcome ${e.node}`); } });
  c.room('h-stream').on('message', () => { tr.last = Date.now(); if (tr.welcomeAt) tr.after++; if (killAt && tr.welcomeAt && !tr.firstAfter) tr.firstAfter = Date.now(); });
  clients.push(c);
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 50));
}
const t = Date.now();
while (clients.some((c) => c.state !== 'connected') && Date.now() - t < 30_000) await new Promise((r) => setTimeout(r, 100));
console.log(`connected ${clients.filter((c) => c.state === 'connected').length}/${N}`);
const byNode: Record<string, number> = {};
for (const c of clients) byNode[c.connection?.node ?? '?'] = (byNode[c.connection?.node ?? '?'] ?? 0) + 1;
console.log('placement', byNode);
procs[0]?.send({ cmd: 'publish', ms: 8000 });
await new Promise((r) => setTimeout(r, 1500));
const victims = new Set(clients.map((c, i) => (c.connection?.node === 'n2' ? i : -1)).filter((i) => i >= 0));
const nstat = () => Object.fromEntries(execSync('nstat -az TcpExtListenOverflows TcpExtListenDrops 2>/dev/null').toString().trim().split('\n').slice(1).map((l) => l.split(/\s+/)).map(([k, v]) => [k, Number(v)]));
const ns0 = nstat();
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
for (const p of procs.slice(0, 2)) p.send({ cmd: 'lag-reset' });
killAt = Date.now();
procs[2]?.kill('SIGKILL');
await new Promise((r) => setTimeout(r, 8000));
lag.disable();
const ns1 = nstat();
console.log('listen overflows during the window (machine-wide)', Object.fromEntries(Object.keys(ns1).map((k) => [k, ns1[k] - (ns0[k] ?? 0)])));
console.log('client-process lag ms', { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 });
for (const p of procs.slice(0, 2)) { p.on('message', (m: { lag?: unknown; hs?: unknown }) => { if (m.lag) console.log('server lag ms', m.lag); if (m.hs) console.log('server handshakes', m.hs); }); p.send({ cmd: 'lag' }); p.send({ cmd: 'hs' }); }
await new Promise((r) => setTimeout(r, 7000));
const moved = [...victims].map((i) => traces[i] as Trace);
const pct = (xs: number[], p: number) => { const a = [...xs].sort((x, y) => x - y); return a.length ? a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))] : NaN; };
const w = moved.filter((x) => x.welcomeAt).map((x) => (x.welcomeAt as number) - killAt);
const f = moved.filter((x) => x.firstAfter).map((x) => (x.firstAfter as number) - killAt);
const closes = moved.filter((x) => x.closeAt).map((x) => (x.closeAt as number) - killAt);
console.log(JSON.stringify({ clients: N, moved: moved.length, deadAfter: deadAt ? deadAt - killAt : null, close: { p50: pct(closes, 50), max: pct(closes, 100) }, welcome: { n: w.length, p50: pct(w, 50), p99: pct(w, 99), max: pct(w, 100) }, firstMsg: { n: f.length, p50: pct(f, 50), p99: pct(f, 99), max: pct(f, 100) } }));
const slow = moved.filter((x) => !x.firstAfter || (x.firstAfter as number) - killAt > 900).slice(0, 4);
for (const s of slow) console.log(s.after, s.dials.join(' | '));
const steps: Record<string, number[]> = {};
for (const x of moved) {
  let prev: [number, string] | undefined;
  for (const d of x.dials) {
    const m = /^\+(\d+) (\w+)/.exec(d);
    if (!m) continue;
    const t = Number(m[1]);
    const kind = m[2] as string;
    if (prev && ['tcp', 'open', 'welcome', 'redirect', 'err', 'close'].includes(kind)) (steps[`${prev[1]}->${kind}`] ??= []).push(t - prev[0]);
    if (['dial', 'tcp', 'open'].includes(kind)) prev = [t, kind];
  }
}
console.log('step durations ms (n, p50, max):', Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, [v.length, pct(v, 50), pct(v, 100)]])));
const stayed = traces.filter((_, i) => !victims.has(i));
console.log('clients not moved that heard something after the kill:', stayed.filter((x) => x.last > killAt).length, '/', stayed.length);
console.log('msgs after welcome (moved):', moved.map((x) => x.after).slice(0, 20).join(','));
for (const c of clients) c.close();
for (const p of procs.slice(0, 2)) p.send({ cmd: 'stop' });
setTimeout(() => process.exit(0), 1500);
