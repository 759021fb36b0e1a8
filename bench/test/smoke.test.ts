import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceUrl } from '@switchyard/core/testing';
import { afterAll, describe, expect, it } from 'vitest';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
const redis = await serviceUrl('redis');
const root = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
let outs = 0;

interface Run {
  ok: boolean;
  system: string;
  scenario: string;
  metrics: Record<string, number>;
  settings: { nodes: number };
}

/** A fresh output directory for one invocation. */
function outDir(): string {
  return join(root, String(outs++));
}

/** The one results directory an invocation wrote under `out`, and its runs. */
function results(out: string): { dir: string; runs: Run[] } {
  const [stamp] = readdirSync(out);
  expect(stamp).toBeDefined();
  const dir = join(out, stamp as string);
  return { dir, runs: readdirSync(join(dir, 'runs')).map((f) => JSON.parse(readFileSync(join(dir, 'runs', f), 'utf8')) as Run) };
}

/** Run the CLI for real: node processes and client processes on loopback, bounded by --deadline and a kill timer. */
function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@switchyard/source', '--import', 'tsx', 'src/cli.ts', ...args],
      { cwd: BENCH, timeout: 100_000, killSignal: 'SIGKILL', env: { ...process.env, REDIS_URL: redis ?? '' }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!redis)('bench smoke: tiny runs through the real CLI', () => {
  it('writes JSON per run, a Markdown table and the HTML report, and loses nothing', { timeout: 110_000 }, async () => {
    const out = outDir();
    const r = await bench(['--bus', 'memory,redis', '--scenario', 'fanout', '--nodes', '2', '--clients', '20', '--rate', '20', '--duration', '1', '--deadline', '60', '--no-progress', '--out', out]);
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.code).toBe(0);
    const { dir, runs } = results(out);
    expect(runs.map((x) => x.system).sort()).toEqual(['switchyard-memory', 'switchyard-redis']);
    for (const run of runs) {
      expect(run.ok).toBe(true);
      expect(run.metrics.sent).toBeGreaterThan(0);
      expect(run.metrics.received).toBe(run.metrics.expected_deliveries);
      expect(run.metrics.lost).toBe(0);
      expect(run.metrics.cross_p99_ms).toBeGreaterThan(0);
      // node CPU per delivery, and frames read from the nodes' Prometheus registries
      expect(run.metrics.node_cpu_us_per_delivery).toBeGreaterThan(0);
      expect(run.metrics.ws_messages_written).toBe(run.metrics.received);
      expect(run.metrics.ws_frames_written).toBeGreaterThan(0);
      expect(run.metrics.messages_per_frame).toBeGreaterThanOrEqual(1);
    }
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('### Node CPU per delivery, messages per frame, connect rate');
    expect(md).toMatch(/\| Switchyard · memory \|/);
    expect(md).toMatch(/\| Switchyard · redis \|/);
    expect(r.stdout).toContain('deliveries/s');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('uPlot');
    expect(html).toContain('id="lat-fanout"');
    expect(html).not.toMatch(/<script[^>]+src=/); // offline: nothing loaded from elsewhere
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { aggregates: unknown[] };
    expect(summary.aggregates).toHaveLength(2);
  });

  it('runs the raw ws ceilings, with and without room batching: every message unpacked, frames and connect rate reported', { timeout: 110_000 }, async () => {
    const out = outDir();
    // 1,200 msg/s over ws-batch's 3 meshed nodes: about two messages per node per 5 ms, so it writes arrays
    const r = await bench(['--bus', 'ws,ws-batch', '--scenario', 'fanout,connect-storm', '--clients', '20', '--rate', '1200', '--duration', '1', '--deadline', '60', '--no-progress', '--out', out]);
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.code).toBe(0);
    const { dir, runs } = results(out);
    expect(runs.map((x) => `${x.scenario} ${x.system}`).sort()).toEqual(['connect-storm ws', 'connect-storm ws-batch', 'fanout ws', 'fanout ws-batch']);
    for (const run of runs) {
      expect(run.ok).toBe(true);
      if (run.scenario === 'connect-storm') {
        expect(run.metrics.connections).toBe(20);
        expect(run.metrics.connections_per_s).toBeGreaterThan(0);
        continue;
      }
      // raw ws is one node; the batched ceiling runs the cluster's 3 nodes over its TCP mesh
      expect(run.settings.nodes).toBe(run.system === 'ws' ? 1 : 3);
      expect(run.metrics.lost).toBe(0);
      expect(run.metrics.received).toBe(run.metrics.expected_deliveries);
      expect(run.metrics.ws_messages_written).toBe(run.metrics.received);
      expect(run.metrics.node_cpu_us_per_delivery).toBeGreaterThan(0);
      if (run.system === 'ws') expect(run.metrics.messages_per_frame).toBe(1);
      else expect(run.metrics.messages_per_frame).toBeGreaterThan(1.2);
    }
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/\| raw ws \+ room batching \(ceiling, TCP mesh\) \|/);
    expect(md).toContain('connections/s, connect storm');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('id="connect-rate"');
  });
});
