/**
 * A message handler's refusal on a real node with the SDK: `MessageRefused` reaches the client
 * as `refused` with its words (cut at MAX_REFUSAL_LENGTH); any other throw stays `internal`
 * and none of its words leave the node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MAX_REFUSAL_LENGTH, MessageRefused, type SwitchyardNode } from '../src/index.js';
import { createClient, type SwitchyardClient, type SwitchyardClientError } from '../src/client/index.js';
import { startNodes, TestClient } from './helpers.js';

const nodes: SwitchyardNode[] = [];
const clients: SwitchyardClient[] = [];
const raws: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(raws.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

const failure = (p: Promise<unknown>): Promise<SwitchyardClientError> =>
  p.then(
    () => {
      throw new Error('the request succeeded');
    },
    (e: unknown) => e as SwitchyardClientError,
  );

describe('MessageRefused: a handler refuses in its own words', () => {
  it('the request rejects with serverCode refused and the words; other throws stay internal', async () => {
    nodes.push(...(await startNodes(['a'])));
    const [node] = nodes as [SwitchyardNode];
    node.on('connection', (conn) => {
      conn.on('message', async (data, event) => {
        if (event === 'join-channel') throw new MessageRefused(`you are not in channel ${String(data)}`);
        if (event === 'long') throw new MessageRefused('é'.repeat(MAX_REFUSAL_LENGTH + 50));
        if (event === 'bug') throw new Error('secret: db password is hunter2');
        return { ok: data };
      });
    });
    const c = createClient({ WebSocket, url: node.url });
    clients.push(c);
    await c.ready();

    const refused = await failure(c.request('join-channel', 'ops'));
    expect(refused).toMatchObject({ code: 'BACKEND_ERROR', serverCode: 'refused', serverMessage: 'you are not in channel ops' });
    expect(refused.message).toContain('refused: you are not in channel ops');

    const long = await failure(c.request('long', null));
    expect(long.serverCode).toBe('refused');
    expect(long.serverMessage).toBe('é'.repeat(MAX_REFUSAL_LENGTH));

    const bug = await failure(c.request('bug', null));
    expect(bug).toMatchObject({ code: 'BACKEND_ERROR', serverCode: 'internal', serverMessage: 'the message handler failed' });
    expect(bug.message).not.toContain('hunter2');

    // the connection goes on
    expect(await c.request('echo', 1)).toEqual({ ok: 1 });
  });

  it('on the wire: an ack with ok false, code refused and the message', async () => {
    nodes.push(...(await startNodes(['a'])));
    const [node] = nodes as [SwitchyardNode];
    node.on('connection', (conn) => {
      conn.on('message', () => {
        throw new MessageRefused('not now');
      });
    });
    const { client } = await TestClient.connect(node.url);
    raws.push(client);
    client.send({ t: 'msg', id: 9, event: 'x', data: null });
    const ack = await client.waitFrame((f) => f.t === 'ack' && f.id === 9);
    expect(ack).toEqual({ t: 'ack', id: 9, ok: false, error: { code: 'refused', message: 'not now' } });
  });
});
