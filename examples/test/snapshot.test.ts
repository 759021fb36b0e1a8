/**
 * The dashboard's "healthy / known nodes" figure: both counts come from the same list, so a node
 * killed a moment ago (still listed as ready by the registry until the node timeout) is known
 * but not healthy, and healthy never exceeds known (the page once showed "2 / 1" after a kill).
 */
import { describe, expect, it } from 'vitest';
import type { NodeInfo } from '@switchyard/core';
import { makeNode } from '@switchyard/core/testing';
import type { DemoNode, LocalCluster, ProcessState } from '../demo/local-cluster.js';
import { SnapshotBuilder } from '../demo/snapshot.js';
import { LatencyWindow, RateMeter } from '../demo/stats.js';

const demoNode = (id: string, process: ProcessState) =>
  ({
    id,
    url: `ws://127.0.0.1:1/${id}`,
    port: 1,
    process,
    alive: process === 'running' || process === 'draining' || process === 'starting',
    ws: { connections: new Map() },
    cluster: { isCoordinator: () => false },
    busIn: new RateMeter(),
    busLatency: new LatencyWindow(),
    socketOutRate: 0,
    rooms: () => ({}),
    users: () => [],
  }) as unknown as DemoNode;

const fakeCluster = (nodes: DemoNode[], registry: NodeInfo[]) =>
  ({ nodes, registryView: () => registry, prune: () => undefined, busLatency: new LatencyWindow() }) as unknown as LocalCluster;

const totals = (nodes: DemoNode[], registry: NodeInfo[]) => {
  const t = new SnapshotBuilder({ cluster: fakeCluster(nodes, registry), bots: undefined, bus: { name: 'memory', where: 'here' }, startedAt: 0 }).build().totals;
  return `${t.healthy} / ${t.nodes}`;
};

describe('dashboard totals: healthy / known nodes', () => {
  const running = demoNode('node-1', 'running');
  const stopped = demoNode('node-2', 'stopped');
  const killed = demoNode('node-3', 'killed');

  it('a node killed a moment ago is known (the registry still lists it) but not healthy', () => {
    // node-2 stopped and deregistered; node-3 killed, its record still says ready
    expect(totals([running, stopped, killed], [makeNode('node-1'), makeNode('node-3')])).toBe('1 / 2');
  });

  it('once it is declared dead it is no longer known', () => {
    expect(totals([running, stopped, killed], [makeNode('node-1'), makeNode('node-3', { state: 'dead' })])).toBe('1 / 1');
  });

  it('draining and starting nodes are known, not healthy; nodes of other processes count by their registry state', () => {
    const registry = [makeNode('node-1'), makeNode('node-4', { state: 'draining' }), makeNode('node-5', { state: 'starting' }), makeNode('remote-1'), makeNode('remote-2', { state: 'dead' })];
    expect(totals([running, demoNode('node-4', 'draining'), demoNode('node-5', 'starting')], registry)).toBe('2 / 4');
  });

  it('healthy never exceeds known, whatever the registry and the process say', () => {
    const processes: ProcessState[] = ['starting', 'running', 'draining', 'stopped', 'killed'];
    const states: Array<NodeInfo['state'] | null> = ['starting', 'ready', 'draining', 'dead', null];
    for (const p of processes) {
      for (const s of states) {
        const [healthy, known] = totals([demoNode('n', p)], s ? [makeNode('n', { state: s })] : []).split(' / ').map(Number) as [number, number];
        expect(healthy, `${p} / ${s}`).toBeLessThanOrEqual(known);
      }
    }
  });
});
