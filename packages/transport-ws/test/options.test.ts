import { describe, expect, it } from 'vitest';
import { createCluster } from '@switchyard/core';
import { MemoryBus } from '@switchyard/core/adapter';
import WebSocket from 'ws';
import { createEmitter, createNode } from '../src/index.js';
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
