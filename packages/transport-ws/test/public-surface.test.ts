/**
 * What an application gets as a connection (`node.on('connection', conn => ...)`,
 * `node.connections`) is its API, not what the node drives: delivery, the send queue, room
 * cursors and replays, the hello. The type-level checks (expectTypeOf, @ts-expect-error) fail the
 * type-check (`npm run typecheck`) if a node-only member ever shows through `Connection`; the
 * runtime checks look at what the package exports.
 */
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import * as pkg from '../src/index.js';
import type { Connection, SwitchyardNode } from '../src/index.js';
import { connInternalsOf, ServerConnection } from '../src/server/connection.js';
import { startNodes, TestClient } from './helpers.js';

/** Every member of the application's `Connection`. */
type ApplicationApi =
  | 'id'
  | 'ip'
  | 'openedAt'
  | 'request'
  | 'userId'
  | 'sessionId'
  | 'params'
  | 'state'
  | 'authenticated'
  | 'badFrames'
  | 'pingSentAt'
  | 'awaitingPong'
  | 'closingSince'
  | 'data'
  | 'rooms'
  | 'queued'
  | 'on'
  | 'off'
  | 'handle'
  | 'send'
  | 'join'
  | 'leave'
  | 'close'
  | 'terminate';

/** The public members of the node's side that only the node uses. */
type NodeOnly =
  | 'ws'
  | 'bucket'
  | 'authenticate'
  | 'opened'
  | 'setSession'
  | 'countBadFrame'
  | 'heard'
  | 'ping'
  | 'releaseRequest'
  | 'cursors'
  | 'hold'
  | 'holding'
  | 'dropHeld'
  | 'cursorEntries'
  | 'deliver'
  | 'deliverRoom'
  | 'gapRoom'
  | 'pushRoom'
  | 'pushGap'
  | 'takeShared'
  | 'releaseHeld'
  | 'control'
  | 'release'
  | 'flush'
  | 'dispatchMessage'
  | 'closed';

const nodes: SwitchyardNode[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close({ graceMs: 0 })));
});

describe('Connection, as applications see it', () => {
  it('names the application API and nothing the node drives', () => {
    expectTypeOf<keyof Connection>().toEqualTypeOf<ApplicationApi>();
    // the node's side has the same API, and every other public member of it is one of NodeOnly
    expectTypeOf<ServerConnection>().toExtend<Connection>();
    expectTypeOf<Exclude<keyof ServerConnection, ApplicationApi>>().toEqualTypeOf<NodeOnly>();

    const app = (conn: Connection): void => {
      // @ts-expect-error the node delivers: an application sends with conn.send
      conn.deliver('{"t":"msg","data":1}', 'normal');
      // @ts-expect-error the welcome is the node's
      conn.release('{"t":"welcome"}');
      // @ts-expect-error protocol frames are the node's
      conn.control('{"t":"pong"}');
      // @ts-expect-error room frames are the node's
      conn.takeShared('lobby', [], () => ({ buf: Buffer.alloc(0), count: 0 }));
      // @ts-expect-error the raw socket is the node's: conn.close and conn.terminate end it
      void conn.ws;
      // @ts-expect-error cursors are the node's: conn.rooms lists the rooms
      void conn.cursors;
      // @ts-expect-error the hello is the node's
      conn.authenticate('u1', undefined, false);
    };
    expect(app).toBeTypeOf('function');
  });

  it('the package exports neither the node side nor a way to it', () => {
    const names = Object.keys(pkg);
    for (const hidden of ['Connection', 'ServerConnection', 'connInternalsOf', 'internalsOf', 'registerInternals']) expect(names).not.toContain(hidden);
  });

  it("the application's connection is the node's own object: no wrapper, no lookup on delivery", async () => {
    const [node] = await startNodes(['a']);
    if (!node) throw new Error('no node');
    nodes.push(node);
    let seen: Connection | undefined;
    node.on('connection', (conn) => (seen = conn));
    const { client, welcome } = await TestClient.connect(node.url);
    clients.push(client);
    const conn = node.connections.get(String(welcome.conn));
    expect(conn).toBeDefined();
    expect(seen).toBe(conn);
    expect(connInternalsOf(conn as Connection)).toBe(conn);
    expect(conn).toBeInstanceOf(ServerConnection);
    expect(() => connInternalsOf({ id: 'x' } as unknown as Connection)).toThrow('not a Switchyard connection');
  });
});
