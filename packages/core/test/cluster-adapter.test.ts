import { describe, expect, it } from 'vitest';
import { createCluster, createMemoryAdapter, MemoryHub } from '../src/index.js';
import { MemoryBus } from '../src/adapter.js';
import type { ClusterAdapter } from '../src/index.js';
import { adapterContract, bytes } from '../src/testing/index.js';

// Every memory adapter of the contract on its own hub; the hub going offline makes the bus buffer.
const hubs = new WeakMap<object, MemoryHub>();
adapterContract('memory', {
  create: () => {
    const hub = new MemoryHub();
    const adapter = createMemoryAdapter({ hub });
    hubs.set(adapter, hub);
    return adapter;
  },
  event: 'publish_buffered',
  provoke: async (adapter) => {
    hubs.get(adapter)?.setOnline(false);
    await adapter.bus.publish('room.offline', bytes('held'));
    hubs.get(adapter)?.setOnline(true);
  },
});

/** An adapter whose lifecycle calls are recorded. */
function recorded(adapter: ClusterAdapter): { adapter: ClusterAdapter; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    adapter: {
      ...adapter,
      connect: () => (calls.push('connect'), adapter.connect()),
      close: () => (calls.push('close'), adapter.close()),
      instrument: (o) => (calls.push('instrument'), adapter.instrument(o)),
    },
  };
}

describe('createCluster({ adapter })', () => {
  it('fills a port the backend lacks from the hub and still uses the adapter for the others', async () => {
    const hub = new MemoryHub();
    const memory = createMemoryAdapter({ hub });
    // a backend with a bus and history only, like Kafka
    const { adapter, calls } = recorded({ ...memory, registry: undefined, sessions: undefined, capabilities: { bus: true, registry: false, sessions: false, history: true } });
    const node = createCluster({ adapter, hub, logLevel: 'silent' });
    await node.start();
    expect(node.bus).toBe(memory.bus);
    expect(node.history).toBe(memory.history);
    expect(node.registry).toBeDefined();
    await node.stop();
    expect(calls).toEqual(['instrument', 'connect', 'close']);
  });

  it('connects the ports one by one when one of them is replaced (the adapter is not used whole)', async () => {
    const hub = new MemoryHub();
    const { adapter, calls } = recorded(createMemoryAdapter({ hub }));
    const bus = new MemoryBus({ hub });
    const node = createCluster({ adapter, bus, hub, logLevel: 'silent' });
    await node.start();
    expect(node.bus).toBe(bus);
    expect(node.registry).toBe(adapter.registry);
    await node.stop();
    expect(calls).toEqual([]);
    expect(bus.status).toBe('closed');
  });

  it('also when history is turned off', async () => {
    const hub = new MemoryHub();
    const { adapter, calls } = recorded(createMemoryAdapter({ hub }));
    const node = createCluster({ adapter, history: false, hub, logLevel: 'silent' });
    await node.start();
    expect(node.history).toBeUndefined();
    await node.stop();
    expect(calls).toEqual([]);
  });

  it('still takes a plain set of ports without a lifecycle', async () => {
    const hub = new MemoryHub();
    const bus = new MemoryBus({ hub });
    const node = createCluster({ adapter: { bus }, hub, logLevel: 'silent' });
    await node.start();
    expect(node.bus).toBe(bus);
    await node.stop();
    expect(bus.status).toBe('closed');
  });
});
