/**
 * Typed events: the node and the client take optional event maps; the compiler checks sends and
 * narrows handlers (the @ts-expect-error lines fail the type-check if they ever compile), and
 * untyped use keeps working. `npm run typecheck` covers this file; the test also runs it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, MemoryHub } from '@switchyard/core';
import { waitFor } from '@switchyard/core/testing';
import WebSocket from 'ws';
import { createEmitter, createNode, type SwitchyardNode } from '../src/index.js';
import { createClient, type SwitchyardClient } from '../src/client/index.js';

interface ServerEvents {
  chat: { text: string; user: string };
  joined: { user: string };
}
interface ClientEvents {
  typing: { room: string };
  whoami: null;
}

const nodes: SwitchyardNode<ServerEvents, ClientEvents>[] = [];
const clients: SwitchyardClient<ServerEvents, ClientEvents>[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

describe('typed events', () => {
  it('checks sends and narrows handlers on both sides; untyped use still compiles', async () => {
    const node = createNode<ServerEvents, ClientEvents>({ cluster: createCluster({ hub: new MemoryHub(), logLevel: 'silent' }), port: 0 });
    nodes.push(node);
    const typing: string[] = [];
    node.on('connection', (conn) => {
      conn.handle('typing', (data) => void typing.push(data.room)); // data is { room: string }
      // @ts-expect-error whoami carries null, not a room
      conn.handle('whoami', (data) => void typing.push(data.room));
      // @ts-expect-error no such event
      conn.handle('typo', () => undefined);
      conn.on('message', (_data, event) => {
        // @ts-expect-error event is one of the map's names
        if (event === 'nope') typing.push('never');
      });
      conn.send('joined', { user: 'ann' });
      // @ts-expect-error no such event
      conn.send('joind', { user: 'ann' });
    });
    await node.start();

    const client = createClient<ServerEvents, ClientEvents>({ url: node.url, WebSocket });
    clients.push(client);
    const texts: string[] = [];
    const lobby = client.room('lobby');
    lobby.on('message', (m) => {
      if (m.event === 'chat') texts.push(`${m.data.user}: ${m.data.text}`); // narrowed
    });
    await client.ready();
    await waitFor(() => lobby.state === 'subscribed');
    client.send('typing', { room: 'lobby' });
    await node.to('lobby').send('chat', { text: 'hi', user: 'bob' });
    // compiled, never run: what the compiler refuses
    const refused = () => {
      // @ts-expect-error typing needs a room
      client.send('typing', { text: 'x' });
      // @ts-expect-error chat needs a user
      void node.to('lobby').send('chat', { text: 'hi' });
      // @ts-expect-error unknown event
      void node.broadcast('chatt', null);
    };
    void refused;
    await waitFor(() => texts.length === 1 && typing.length === 1);
    expect(texts).toEqual(['bob: hi']);
    expect(typing).toEqual(['lobby']);

    // an emitter with the same map, and untyped use
    const emitter = createEmitter<ServerEvents>({ bus: node.cluster.bus, closePorts: false });
    // @ts-expect-error unknown event
    void emitter.to('lobby').send('chatt', { text: '', user: '' }).catch(() => undefined);
    await emitter.close();
    const untyped = createNode({ cluster: createCluster({ hub: new MemoryHub(), logLevel: 'silent' }), port: 0 });
    void untyped.to('any').send('whatever', { any: 'thing' }).catch(() => undefined);
    void untyped.to('any').send(undefined, 42).catch(() => undefined);
  });
});
