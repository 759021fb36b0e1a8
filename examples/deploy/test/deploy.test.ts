/**
 * What the deploy README says: the compose file parses and wires health checks and
 * `service_healthy` dependencies; HAProxy and nginx accept their configurations (checked by
 * the real binaries when installed); the Grafana dashboard is valid JSON on Switchyard's
 * metrics; and loopback.ts runs the same topology without Docker, where two clients behind the
 * load balancer exchange a message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WebSocket } from 'ws';
import pg from 'pg';
import { serviceUrl } from '@switchyard/core/testing';
import { createClient, type SwitchyardClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { Program, runId, waitFor } from '../../test/helpers.js';

const file = (name: string) => readFileSync(fileURLToPath(new URL(`../${name}`, import.meta.url)), 'utf8');
const has = (bin: string) => spawnSync(bin, ['-v'], { stdio: 'ignore' }).status === 0;
const redisUrl = await serviceUrl('redis');
const databaseUrl = await serviceUrl('postgres');

interface Service {
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
  profiles?: string[];
}

describe('examples/deploy files', () => {
  it('compose.yaml: Redis, Postgres, three nodes and HAProxy, each gated on its dependencies being healthy', () => {
    const compose = parse(file('compose.yaml'), { merge: true }) as { services: Record<string, Service> };
    const s = compose.services;
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['redis', 'postgres', 'node1', 'node2', 'node3', 'haproxy']));
    for (const name of ['redis', 'postgres', 'node1', 'node2', 'node3']) expect(s[name]?.healthcheck?.test.length, name).toBeGreaterThan(0);
    for (const n of ['node1', 'node2', 'node3']) {
      expect(s[n]?.depends_on).toEqual({ redis: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
      expect(s[n]?.healthcheck?.test.join(' ')).toContain('/ready');
      expect(s[n]?.environment?.NODE_ID).toBe(n);
      expect(s[n]?.environment?.PUBLIC_URL).toBe(`ws://localhost:8080/n/${n}/ws`);
    }
    for (const front of ['haproxy', 'nginx']) {
      expect(s[front]?.depends_on).toEqual({ node1: { condition: 'service_healthy' }, node2: { condition: 'service_healthy' }, node3: { condition: 'service_healthy' } });
    }
  });

  it('haproxy.cfg: WebSocket-ready (long tunnel timeout, /ready checks, no stickiness)', () => {
    const cfg = file('haproxy.cfg');
    expect(cfg).toMatch(/timeout tunnel\s+1h/);
    expect(cfg.match(/option httpchk GET \/ready/g)?.length).toBe(4);
    expect(cfg).not.toMatch(/^\s*(cookie|stick|balance source)/m);
  });

  it.skipIf(!has('haproxy'))('haproxy -c accepts haproxy.cfg', () => {
    const r = spawnSync('haproxy', ['-c', '-f', fileURLToPath(new URL('../haproxy.cfg', import.meta.url))], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('Configuration file is valid');
  });

  it('nginx.conf: upgrade headers, long read timeout, passive health checks', () => {
    const cfg = file('nginx.conf');
    expect(cfg).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(cfg).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(cfg).toMatch(/proxy_read_timeout 1h;/);
    expect(cfg).toMatch(/max_fails=2 fail_timeout=5s/);
    expect(cfg).not.toMatch(/^\s*(ip_hash|sticky|hash \$)/m);
  });

  it.skipIf(!has('nginx'))('nginx -t accepts nginx.conf (node names pointed at loopback)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-nginx-'));
    try {
      // nginx resolves upstream names while checking; compose's names do not exist here.
      writeFileSync(join(dir, 'nginx.conf'), file('nginx.conf').replace(/node[123]:8080/g, '127.0.0.1:9'));
      const r = spawnSync('nginx', ['-t', '-c', join(dir, 'nginx.conf'), '-p', dir, '-g', `pid ${join(dir, 'nginx.pid')}; error_log stderr;`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('syntax is ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('grafana-dashboard.json: valid JSON whose queries use Switchyard metrics', () => {
    const d = JSON.parse(file('grafana-dashboard.json')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    expect(d.panels.length).toBeGreaterThan(10);
    for (const p of d.panels) for (const t of p.targets) expect(t.expr, p.title).toMatch(/switchyard_/);
  });

  it('reports which binaries checked the configurations', () => {
    const missing = ['haproxy', 'nginx'].filter((b) => !has(b));
    if (missing.length) console.warn(`[examples/deploy] ${missing.join(' and ')} not installed: only the structural checks ran (apt-get install -y haproxy nginx-light)`);
    expect(existsSync(fileURLToPath(new URL('../Dockerfile', import.meta.url)))).toBe(true);
  });
});

describe.skipIf(!redisUrl || !databaseUrl)('examples/deploy loopback.ts (the compose topology without Docker)', () => {
  let program: Program | undefined;
  let schema = '';
  const clients: SwitchyardClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    const code = await program?.stop();
    expect(code, program?.output).toBe(0);
    program = undefined;
    const db = new pg.Client({ connectionString: databaseUrl as string });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  });

  const balancers = [...(has('haproxy') ? ['haproxy'] : []), 'node'];
  it.each(balancers)('three nodes behind %s: clients dialing the balancer exchange a message', async (lb) => {
    schema = `sy_deploy_${runId()}`;
    program = new Program('examples/deploy/loopback.ts', ['--port', '0', '--lb', lb], {
      REDIS_URL: redisUrl as string,
      DATABASE_URL: databaseUrl as string,
      KEY_PREFIX: `deploy-test-${runId()}:`,
      PG_SCHEMA: schema,
    });
    const lbUrl = (await program.match(/on (ws:\/\/127\.0\.0\.1:\d+\/ws)/, 'the load balancer', 60_000))[1] as string;
    const ready = await fetch(lbUrl.replace('ws://', 'http://').replace('/ws', '/n/node2/ready'));
    expect(ready.status).toBe(200);

    const got: string[] = [];
    for (const name of ['ada', 'bob']) {
      const c = createClient({ url: lbUrl, params: { name }, WebSocket: WebSocket as unknown as WebSocketConstructor });
      c.on('error', () => undefined);
      const room = c.room('lobby');
      room.on('message', (m) => got.push(`${name} got ${(m.data as { text: string }).text}`));
      clients.push(c);
    }
    await Promise.all(clients.map((c) => c.ready()));
    await waitFor(() => clients.every((c) => c.room('lobby').state === 'subscribed'), 'both in the lobby');
    // Placement may have redirected a client to a node's own route through the balancer.
    for (const c of clients) expect(c.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/(ws|n\/node[123]\/ws)$/);
    await (clients[0] as SwitchyardClient).room('lobby').publish('chat', { text: 'through the balancer' });
    await waitFor(() => got.includes('bob got through the balancer'), 'bob receives ada\'s message');
  });
});
