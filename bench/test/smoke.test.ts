import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceUrl } from '@switchyard/core/testing';
import { afterAll, describe, expect, it } from 'vitest';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
const redis = await serviceUrl('redis');
const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));

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

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(!redis)('bench smoke: a tiny fan-out on the memory and redis buses', () => {
  it('writes JSON per run, a Markdown table and the HTML report, and loses nothing', { timeout: 110_000 }, async () => {
    const r = await bench(['--bus', 'memory,redis', '--scenario', 'fanout', '--nodes', '2', '--clients', '20', '--rate', '20', '--duration', '1', '--deadline', '60', '--no-progress', '--out', out]);
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.code).toBe(0);
    const [stamp] = readdirSync(out);
    expect(stamp).toBeDefined();
    const dir = join(out, stamp as string);
    const runs = readdirSync(join(dir, 'runs')).map((f) => JSON.parse(readFileSync(join(dir, 'runs', f), 'utf8')) as { ok: boolean; system: string; metrics: Record<string, number> });
    expect(runs.map((x) => x.system).sort()).toEqual(['switchyard-memory', 'switchyard-redis']);
    for (const run of runs) {
      expect(run.ok).toBe(true);
      expect(run.metrics.sent).toBeGreaterThan(0);
      expect(run.metrics.received).toBe(run.metrics.expected_deliveries);
      expect(run.metrics.lost).toBe(0);
      expect(run.metrics.cross_p99_ms).toBeGreaterThan(0);
    }
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
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
});
