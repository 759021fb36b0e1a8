/**
 * The adapter on real Nest applications (platform-express) sharing one Redis: gateways' handlers
 * answer SDK requests, the gateway server sends across the cluster, hooks fire, exceptions fail
 * the ack, and app.close() leaves nothing open.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serviceUrl, waitFor } from '@switchyard/core/testing';
import type { ClientMessage, SwitchyardClient } from '@switchyard/transport-ws/client';
import { clientOf, exceptionsOf, startPair, type App } from './support.js';

const redisUrl = await serviceUrl('redis');

describe.skipIf(!redisUrl)('SwitchyardAdapter: two Nest applications on one Redis', () => {
  let apps: App[] = [];
  const clients: SwitchyardClient[] = [];
  const client = (app: App, token?: string) => {
    const c = clientOf(app, token);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    apps = await startPair(redisUrl as string);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(apps.map(({ app }) => app.close()));
  });

  it('a @SubscribeMessage handler gets the data and the Connection; its return value is the ack', async () => {
    const [a] = apps as [App, App];
    const c = client(a);
    await c.ready();
    const reply = await c.request<{ echoed: unknown; conn: string; node: string }>('echo', { text: 'hi' });
    expect(reply).toEqual({ echoed: { text: 'hi' }, conn: c.connection?.conn, node: 'nest-a' });
  });

  it('a gateway on app A sends to a room; a client on app B receives it', async () => {
    const [a, b] = apps as [App, App];
    const onB = client(b);
    const got: ClientMessage[] = [];
    const lobby = onB.room('lobby');
    lobby.on('message', (m) => got.push(m));
    await onB.ready();
    await waitFor(() => lobby.state === 'subscribed', 10_000);
    expect(onB.connection?.node).toBe('nest-b');

    const onA = client(a);
    await onA.ready();
    expect(onA.connection?.node).toBe('nest-a');
    expect(await onA.request('to-room', { room: 'lobby', text: 'across' })).toBe('sent');
    await waitFor(() => got.length > 0, 10_000);
    expect(got[0]).toMatchObject({ event: 'news', data: { text: 'across', from: 'nest-a' }, room: 'lobby' });
  });

  it('a gateway sends to a user, wherever that user is connected', async () => {
    const [a, b] = apps as [App, App];
    const ada = client(b, 'ada');
    const dms: unknown[] = [];
    ada.on('message', (m) => {
      if (m.event === 'dm') dms.push(m.data);
    });
    await ada.ready();
    expect(ada.connection).toMatchObject({ node: 'nest-b', user: 'ada' });
    const sender = client(a, 'bob');
    await sender.ready();
    expect(await sender.request('to-user', { user: 'ada', text: 'for ada only' })).toBe('sent');
    await waitFor(() => dms.length > 0, 10_000);
    expect(dms).toEqual([{ text: 'for ada only' }]);
  });

  it('handleConnection and handleDisconnect fire with the Connection', async () => {
    const [a] = apps as [App, App];
    const c = client(a, 'cy');
    await c.ready();
    const id = c.connection?.conn as string;
    await waitFor(() => a.gateway.connected.some((conn) => conn.id === id), 10_000);
    expect(a.gateway.connected.find((conn) => conn.id === id)?.userId).toBe('cy');
    expect(a.gateway.disconnected).toEqual([]);
    c.close();
    await waitFor(() => a.gateway.disconnected.length > 0, 10_000);
    expect(a.gateway.disconnected).toEqual([{ id, reason: 'normal' }]);
  });

  it('a WsException fails the ack as refused in its words, and the client gets Nest\'s exception message', async () => {
    const [a] = apps as [App, App];
    const c = client(a);
    const exceptions = exceptionsOf(c);
    await c.ready();
    const err = await c.request('refuse', { why: 'not today' }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; serverCode?: string; serverMessage?: string; message?: string },
    );
    expect(err).toMatchObject({ code: 'BACKEND_ERROR', serverCode: 'refused', serverMessage: 'not today' });
    expect(err?.message).toContain('not today');
    await waitFor(() => exceptions.length > 0, 10_000);
    expect(exceptions[0]).toMatchObject({ status: 'error', message: 'not today' });
    // the connection goes on
    expect(await c.request('echo', 1)).toMatchObject({ echoed: 1 });
  });

  it('a guard\'s refusal fails the ack as refused (Nest\'s words); an unexpected error as internal, without its words', async () => {
    const [a] = apps as [App, App];
    const c = client(a);
    const exceptions = exceptionsOf(c);
    await c.ready();
    await expect(c.request('guarded')).rejects.toMatchObject({ code: 'BACKEND_ERROR', serverCode: 'refused', serverMessage: 'Forbidden resource' });
    const boom = await c.request('boom').then(
      () => undefined,
      (e: unknown) => e as { code?: string; serverCode?: string; message?: string },
    );
    expect(boom).toMatchObject({ code: 'BACKEND_ERROR', serverCode: 'internal' });
    expect(boom?.message).not.toContain('a bug');
    await waitFor(() => exceptions.length === 2, 10_000);
    expect(exceptions).toMatchObject([
      { status: 'error', message: 'Forbidden resource' },
      { status: 'error', message: 'Internal server error' },
    ]);
  });

  it('WsResponse values of an observable reach the client as messages; @Ack() answers later', async () => {
    const [a] = apps as [App, App];
    const c = client(a);
    const ticks: unknown[] = [];
    c.on('message', (m) => {
      if (m.event === 'tick') ticks.push(m.data);
    });
    await c.ready();
    await c.request('count', 3);
    await waitFor(() => ticks.length === 3, 10_000);
    expect(ticks).toEqual([1, 2, 3]);
    expect(await c.request('later', 'v')).toEqual({ later: 'v' });
  });
});
