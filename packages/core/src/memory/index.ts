export { MemoryHub, getDefaultHub } from './hub.js';
export { MemoryBus, type MemoryBusOptions } from './bus.js';
export { MemoryHistory, type MemoryHistoryOptions } from './history.js';
export { MemoryRegistry } from './registry.js';
export { MemorySessionStore } from './sessions.js';
