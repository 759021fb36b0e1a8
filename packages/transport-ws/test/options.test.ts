import { describe, expect, it } from 'vitest';
import { createCluster, MemoryBus } from '@switchyard/core';
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
