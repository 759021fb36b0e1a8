/**
 * What the NestJS example's README says: two application processes on Redis; a line sent through
 * the gateway on one reaches the lobby on the other; an empty line fails its ack with Nest's
 * exception message; POST /announce reaches every node's sockets; SIGTERM to one application
 * moves its client to the other, which serves it on.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { serviceUrl } from '@switchyard/core/testing';
import { createClient, type SwitchyardClient } from '@switchyard/transport-ws/client';
import { freePort, Program, runId, waitFor } from '../../test/helpers.js';

const redisUrl = await serviceUrl('redis');

type Chat = { chat: { user: string; text: string }; exception: { status: string; message: unknown } };

describe.skipIf(!redisUrl)('examples/nestjs on Redis', () => {
  const programs: Program[] = [];
  const clients: SwitchyardClient<Chat>[] = [];

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(programs.map((p) => p.stop()));
  });

  it('two Nest applications, one lobby: gateway handlers, acks, an HTTP route and a graceful stop', async () => {
    const prefix = `nest-example-${runId()}:`;
    const apps: Array<{ program: Program; id: string; url: string; port: number }> = [];
    for (const port of [await freePort(), await freePort()]) {
      const program = new Program('examples/nestjs/main.ts', [], { REDIS_URL: redisUrl as string, PORT: String(port), KEY_PREFIX: prefix });
      programs.push(program);
      const [, id, url] = await program.match(/(\S+) listening on (ws:\/\/\S+)/, 'an application listening');
      apps.push({ program, id: id as string, url: url as string, port });
    }
    const [a, b] = apps as [(typeof apps)[0], (typeof apps)[0]];

    const connect = (to: typeof a, user: string) => {
      const c = createClient<Chat>({ urls: [to.url, ...apps.filter((x) => x !== to).map((x) => x.url)], token: user, maxRedirects: 0, WebSocket });
      clients.push(c);
      const got: string[] = [];
      c.room('lobby').on('message', (m) => m.event === 'chat' && got.push(`${m.data.user}: ${m.data.text}`));
      return { c, got };
    };
    const ada = connect(a, 'ada');
    const bob = connect(b, 'bob');
    await Promise.all([ada.c.ready(), bob.c.ready()]);
    await waitFor(() => ada.c.room('lobby').state === 'subscribed' && bob.c.room('lobby').state === 'subscribed', 'both in the lobby');
    expect(await ada.c.request('whoami')).toEqual({ user: 'ada', node: a.id });
    expect(await bob.c.request('whoami')).toEqual({ user: 'bob', node: b.id });

    // through ada's gateway (app A) to bob on app B
    expect(await ada.c.request('chat', { text: 'hello from A' })).toEqual({ ok: true });
    await waitFor(() => bob.got.includes('ada: hello from A'), 'bob receives the message sent on the other application');

    // a WsException fails the ack; the exception message says why
    const exceptions: unknown[] = [];
    ada.c.on('message', (m) => m.event === 'exception' && exceptions.push(m.data));
    await expect(ada.c.request('chat', { text: ' ' })).rejects.toMatchObject({ code: 'BACKEND_ERROR' });
    await waitFor(() => exceptions.length > 0, 'the exception message');
    expect(exceptions[0]).toMatchObject({ status: 'error', message: 'text is required' });

    // an HTTP route on app B reaches the lobby on both applications
    const res = await fetch(`http://127.0.0.1:${b.port}/announce`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'maintenance at 22:00' }) });
    expect(res.status).toBe(201);
    await waitFor(() => ada.got.includes('server: maintenance at 22:00') && bob.got.includes('server: maintenance at 22:00'), 'the announcement on both');
    expect((await fetch(`http://127.0.0.1:${a.port}/ready`)).status).toBe(200);

    // SIGTERM to app A: Nest's shutdown hooks close the node, ada moves to app B and goes on
    await a.program.stop();
    expect(a.program.child.signalCode, a.program.output).toBe('SIGTERM'); // Nest re-raises the signal once closed (SIGKILL would mean it hung)
    await waitFor(async () => ada.c.state === 'connected' && ((await ada.c.request<{ node: string }>('whoami')).node === b.id), 'ada served by app B');
    expect(await ada.c.request('chat', { text: 'still here' })).toEqual({ ok: true });
    await waitFor(() => bob.got.includes('ada: still here'), 'bob receives ada from the same application now');
  });
});
