/**
 * What the chat README says: two node processes on Redis, a client on each, a message from one
 * reaches the other (both ways), and the nodes stop cleanly on SIGTERM.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { serviceUrl } from '@switchyard/core/testing';
import { createClient, type SwitchyardClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { freePort, Program, runId, waitFor } from '../../test/helpers.js';

const redisUrl = await serviceUrl('redis');

describe.skipIf(!redisUrl)('examples/chat on Redis', () => {
  const programs: Program[] = [];
  let bob: SwitchyardClient | undefined;

  afterAll(async () => {
    bob?.close();
    const [ada, ...nodes] = programs.slice().reverse();
    await ada?.stop();
    const codes = await Promise.all(nodes.map((p) => p.stop()));
    expect(codes.every((c) => c === 0), programs.map((p) => p.output).join('\n---\n')).toBe(true);
  });

  it('two node processes, two clients on different nodes exchange messages', async () => {
    const prefix = `chat-test-${runId()}:`;
    const [portA, portB] = [await freePort(), await freePort()];
    for (const [id, port] of [['chat-a', portA], ['chat-b', portB]] as const) {
      programs.push(new Program('examples/chat/server.ts', [], { REDIS_URL: redisUrl as string, PORT: String(port), NODE_ID: id, KEY_PREFIX: prefix }));
    }
    await Promise.all(programs.map((p) => p.match(/listening on ws:\/\//, 'a node listening')));
    const urlA = `ws://127.0.0.1:${portA}/ws`;
    const urlB = `ws://127.0.0.1:${portB}/ws`;

    const ada = new Program('examples/chat/client.ts', ['--name', 'ada', '--url', urlA, '--pin']);
    programs.push(ada);
    await ada.match(/connected to chat-a as ada/, 'ada on chat-a');
    await ada.match(/in #lobby/, 'ada in the lobby');

    bob = createClient({ url: urlB, maxRedirects: 0, params: { name: 'bob' }, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const got: string[] = [];
    const lobby = bob.room('lobby');
    lobby.on('message', (m) => got.push(String((m.data as { text?: string }).text)));
    await bob.ready();
    expect(bob.connection?.node).toBe('chat-b');
    await waitFor(() => lobby.state === 'subscribed', 'bob in the lobby');

    await lobby.publish('chat', { user: 'bob', text: 'hello across nodes' });
    await ada.match(/\[#lobby\] bob: hello across nodes/, 'ada receives bob\'s message');

    ada.send('hi bob, from chat-a');
    await waitFor(() => got.includes('hi bob, from chat-a'), 'bob receives ada\'s message');

    ada.send('/who');
    await ada.match(/who: \{"node":"chat-a","users":\["ada"\]\}/, 'the server-side /who answer');
  });
});
