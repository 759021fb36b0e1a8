import { describe, expect, it } from 'vitest';
import { createCluster, isSwitchyardError, type SwitchyardError } from '@switchyard/core';
import { MemoryBus } from '@switchyard/core/adapter';
import WebSocket from 'ws';
import { createEmitter, createNode, nodeOptionsSchema, retiredNodeOptions } from '../src/index.js';
import { createClient } from '../src/client/index.js';

describe('unknown options', () => {
  it('createNode, createEmitter and createClient refuse a misspelled key and name the one it meant', () => {
    const cluster = createCluster({ logLevel: 'silent' });
    expect(() => createNode({ cluster, prot: 3000 } as never)).toThrow(/prot: unknown option \(did you mean port\?\)/);
    expect(() => createNode({ cluster, batch: { maxMesages: 5 } } as never)).toThrow(/batch\.maxMesages: unknown option \(did you mean batch\.maxMessages\?\)/);
    expect(() => createEmitter({ bus: new MemoryBus(), clusterkey: 'x'.repeat(20) } as never)).toThrow(/did you mean clusterKey\?/);
    expect(() => createClient({ urll: 'ws://127.0.0.1:1/ws', WebSocket } as never)).toThrow(/unknown option `urll` \(did you mean `url`\?\)/);
    expect(() => createClient({ url: 'ws://127.0.0.1:1/ws', WebSocket, reconnect: { basems: 10 } } as never)).toThrow(/`reconnect.basems` \(did you mean `reconnect.baseMs`\?\)/);
  });
});

describe('options of earlier releases', () => {
  const refusal = (input: Record<string, unknown>) => {
    try {
      createNode({ cluster: createCluster({ logLevel: 'silent' }), ...input } as never);
    } catch (err) {
      return err as SwitchyardError;
    }
    throw new Error('expected CONFIG_INVALID');
  };

  it('a tuning knob given at the top level is refused naming where it went: limits.* or timeouts.*', () => {
    const err = refusal({ heartbeatMs: 5000, maxPayload: 1024 });
    expect(isSwitchyardError(err, 'CONFIG_INVALID')).toBe(true);
    expect(err.source).toBe('ws');
    expect(err.message).toContain('heartbeatMs: moved to timeouts.heartbeatMs');
    expect(err.message).toContain('maxPayload: moved to limits.maxPayload');
    expect(err.message).not.toContain('unknown option');
    expect((err.details as { issues: unknown }).issues).toEqual(
      expect.arrayContaining([
        { path: 'heartbeatMs', message: 'moved to timeouts.heartbeatMs' },
        { path: 'maxPayload', message: 'moved to limits.maxPayload' },
      ]),
    );
    for (const [key, where] of Object.entries(retiredNodeOptions)) {
      if (key === 'sessionTtlMs') continue;
      expect(refusal({ [key]: 1 }).message).toContain(`${key}: ${where}`);
      expect(where).toMatch(/^moved to (limits|timeouts)\./);
      const [group, name] = where.slice('moved to '.length).split('.') as ['limits' | 'timeouts', string];
      expect(Object.keys(nodeOptionsSchema.shape[group].unwrap().shape)).toContain(name); // the new place exists
    }
  });

  it('sessionTtlMs is refused: the session TTL is set once, on createCluster', () => {
    expect(refusal({ sessionTtlMs: 60_000 }).message).toMatch(/sessionTtlMs: removed: .*set sessionTtlMs on createCluster/);
  });

  it('the same keys in their groups are taken, and the node reads them there', () => {
    const node = createNode({ cluster: createCluster({ logLevel: 'silent', sessionTtlMs: 60_000 }), limits: { maxPayload: 1024, rateLimit: false }, timeouts: { heartbeatMs: 5000 } });
    expect(node.options.limits).toMatchObject({ maxPayload: 1024, rateLimit: false, maxBadFrames: 10 });
    expect(node.options.timeouts).toMatchObject({ heartbeatMs: 5000, helloTimeoutMs: 10_000, queryTimeoutMs: 1000 });
    expect(node.sessionTtlMs).toBe(60_000);
    expect(() => createNode({ limits: { heartbeatMs: 5000 } } as never)).toThrow(/limits\.heartbeatMs: unknown option/);
  });
});

describe('a node from an adapter alone', () => {
  it('makes its own cluster node (random id, the URL it listens on) and stops it on close', async () => {
    const { MemoryHub } = await import('@switchyard/core');
    const { MemoryBus, MemoryRegistry, MemorySessionStore, MemoryHistory } = await import('@switchyard/core/adapter');
    const hub = new MemoryHub();
    const adapter = () => ({ bus: new MemoryBus({ hub }), registry: new MemoryRegistry({ hub }), sessions: new MemorySessionStore({ hub }), history: new MemoryHistory({ hub }) });
    const [a, b] = [createNode({ adapter: adapter(), port: 0, rooms: { history: true } }), createNode({ adapter: adapter(), port: 0 })];
    try {
      await Promise.all([a.start(), b.start()]);
      expect(a.id).toMatch(/^node-/);
      expect(a.cluster.self.url).toBe(a.url);
      expect(a.cluster.history).toBeDefined();
      const { waitFor } = await import('@switchyard/core/testing');
      await waitFor(() => a.cluster.healthyNodes().length === 2);
      expect(() => createNode({ cluster: a.cluster, adapter: adapter() } as never)).toThrow(/either cluster or adapter/);
    } finally {
      await Promise.all([a.close({ graceMs: 0 }), b.close({ graceMs: 0 })]);
    }
    expect(a.cluster.phase).toBe('stopped');
  });
});
