/**
 * What the postgres-sessions README says: a session survives restarting every node. Two node
 * processes on Postgres; ada joins a history room and leaves; both nodes stop and start again
 * (new processes); bob posts while ada is away; ada comes back with her session id and offset
 * (a plain WebSocket speaking the protocol) and gets `resumed: true` and the missed message.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import pg from 'pg';
import { serviceUrl } from '@switchyard/core/testing';
import { createClient, type SwitchyardClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';
import { freePort, Program, runId, waitFor } from '../../test/helpers.js';

const databaseUrl = await serviceUrl('postgres');
const WS = WebSocket as unknown as WebSocketConstructor;

describe.skipIf(!databaseUrl)('examples/postgres-sessions', () => {
  const schema = `sy_example_${runId()}`;
  let nodes: Program[] = [];
  const clients: SwitchyardClient[] = [];

  const startNodes = async (ports: number[]) => {
    nodes = ports.map((port, i) => new Program('examples/postgres-sessions/server.ts', [], { DATABASE_URL: databaseUrl as string, PG_SCHEMA: schema, PORT: String(port), NODE_ID: `pg-${i + 1}` }));
    await Promise.all(nodes.map((n) => n.match(/listening on ws:\/\//, 'a node listening')));
  };
  const stopNodes = async () => {
    const codes = await Promise.all(nodes.map((n) => n.stop()));
    expect(codes, nodes.map((n) => n.output).join('\n')).toEqual(codes.map(() => 0));
  };

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
    const db = new pg.Client({ connectionString: databaseUrl as string });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  });

  it('a session survives restarting every node, and the missed message is replayed', async () => {
    const ports = [await freePort(), await freePort()];
    const urls = ports.map((p) => `ws://127.0.0.1:${p}/ws`);
    await startNodes(ports);

    const ada = createClient({ urls, params: { name: 'ada' }, WebSocket: WS });
    clients.push(ada);
    const ops = ada.room('ops');
    await ada.ready();
    await waitFor(() => ops.state === 'subscribed', 'ada in #ops');
    const first = await ops.publish('note', { text: 'before the restart' });
    expect(first.offset).toBeTypeOf('number');
    const session = ada.sessionId as string;
    const welcomeRooms = ada.connection?.rooms ?? {};
    const epoch = welcomeRooms.ops?.epoch;
    ada.close();

    await stopNodes();
    await startNodes(ports); // every node is a new process

    const bob = createClient({ url: urls[1] as string, params: { name: 'bob' }, WebSocket: WS });
    clients.push(bob);
    const bobOps = bob.room('ops');
    await bob.ready();
    await waitFor(() => bobOps.state === 'subscribed', 'bob in #ops');
    const missed = await bobOps.publish('note', { text: 'while ada was away' });
    expect(missed.offset).toBeGreaterThan(first.offset as number);

    // ada returns: same session id, from the offset she had seen.
    const frames: Array<Record<string, unknown>> = [];
    const ws = new WebSocket(urls[0] as string, 'switchyard.v1');
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ t: 'hello', v: 1, session, params: { name: 'ada' }, noRedirect: true, rooms: { ops: { offset: first.offset, ...(epoch ? { epoch } : {}) } } }));
    const welcome = await waitFor(() => frames.find((f) => f.t === 'welcome'), 'welcome');
    expect(welcome.session).toBe(session);
    expect(welcome.resumed).toBe(true);
    expect(welcome.user).toBe('ada');
    const replayed = await waitFor(() => frames.find((f) => f.t === 'msg' && JSON.stringify(f).includes('while ada was away')), 'the missed message replayed');
    expect(replayed.room).toBe('ops');
    ws.close();
  });
});
