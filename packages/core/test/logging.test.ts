import { afterEach, describe, expect, it } from 'vitest';
import { consoleLogger, createCluster, MemoryHub, type ClusterNode } from '../src/index.js';
import { flakyRegistry, waitFor } from '../src/testing/index.js';

const nodes: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

describe('the default logger', () => {
  it('prints warnings and errors (one line each, fields as JSON), more or nothing by level, and children carry the node', () => {
    const lines: string[] = [];
    const log = consoleLogger({ level: 'warn', write: (l) => lines.push(l) }); // (the tests' environment sets SWITCHYARD_LOG_LEVEL=silent)
    log.debug('not shown');
    log.info('not shown');
    log.warn({ err: new Error('boom'), port: 6379 }, 'redis unreachable');
    log.child?.({ nodeId: 'n1' }).error('fenced');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT.* WARN switchyard: redis unreachable \{"err":"boom","port":6379\}$/);
    expect(lines[1]).toMatch(/ ERROR switchyard node=n1: fenced$/);
    const quiet: string[] = [];
    consoleLogger({ level: 'silent', write: (l) => quiet.push(l) }).error('x');
    expect(quiet).toEqual([]);
    const all: string[] = [];
    consoleLogger({ level: 'debug', write: (l) => all.push(l) }).debug('shown');
    expect(all).toHaveLength(1);
  });

  it('a cluster logs the loss and the recovery of its bus and of its registry once each, not once per retry', async () => {
    const hub = new MemoryHub();
    const lines: string[] = [];
    const link = flakyRegistry(hub);
    const n = createCluster({ hub, nodeId: 'a', heartbeatIntervalMs: 20, nodeTimeoutMs: 3000, registry: link.registry, logger: consoleLogger({ level: 'warn', write: (l) => lines.push(l) }) });
    nodes.push(n);
    await n.start();
    hub.setOnline(false);
    link.set('fail');
    // many heartbeat intervals of failure
    await waitFor(() => lines.some((l) => l.includes('registry unreachable')), 5000);
    await waitFor(async () => Number(/switchyard_heartbeat_failures_total\{[^}]*\} (\d+)/.exec(await n.metricsRegistry.metrics())?.[1]) >= 5, 5000);
    hub.setOnline(true);
    link.set('ok');
    await waitFor(() => lines.some((l) => l.includes('registry reachable again')) && lines.some((l) => l.includes('bus connection back')), 5000);
    const count = (s: string) => lines.filter((l) => l.includes(s)).length;
    expect(count('bus connection lost')).toBe(1);
    expect(count('bus connection back')).toBe(1);
    expect(count('registry unreachable')).toBe(1);
    expect(count('registry reachable again')).toBe(1);
    expect(count('heartbeat failed')).toBe(0);
  });
});
