import { MemoryBus, MemoryHistory, MemoryRegistry, MemorySessionStore } from '../src/adapter.js';
import { MemoryHub } from '../src/index.js';
import { busContract, historyContract, registryContract, sessionContract } from '../src/testing/index.js';

const hub = new MemoryHub();

busContract('memory', { create: () => new MemoryBus({ hub, maxPayloadBytes: 1024 * 1024 }) });
historyContract('memory', { create: (retention) => new MemoryHistory({ hub, ...retention }) });
registryContract('memory', { create: () => new MemoryRegistry({ hub }), minTtlMs: 200 });
sessionContract('memory', { create: () => new MemorySessionStore({ hub }), minTtlMs: 200 });
