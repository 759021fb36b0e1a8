/**
 * The test both HTTP-framework examples share (express, fastify): they are the same program on
 * two frameworks. Alone (in memory) or as several processes on Redis, an SDK client connects on
 * /ws, a POST to any process's /rooms/:room/messages reaches it, the node's /ready and /metrics
 * answer inside the app, and SIGTERM drains the node (its client moves to another process) and
 * exits 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { serviceUrl } from '@switchyard/core/testing';
import { createClient } from '@switchyard/transport-ws/client';
import { freePort, Program, runId, waitFor } from './helpers.js';

/** Register the suite for `examples/<name>/server.ts`; `answers` says how the node's endpoints are served there. */
export async function httpExampleSuite(name: string, answers: string): Promise<void> {
  const redisUrl = await serviceUrl('redis');
  const programs: Program[] = [];
  const clients: Array<{ close(): void }> = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(programs.splice(0).map((p) => p.stop()));
  });

  async function start(env: Record<string, string>): Promise<{ program: Program; id: string; url: string; http: string }> {
    const program = new Program(`examples/${name}/server.ts`, [], { PORT: String(await freePort()), LOG_LEVEL: 'warn', ...env });
    programs.push(program);
    const [, id, url] = await program.match(/(\S+) listening on (ws:\/\/\S+)/, 'the app listening');
    return { program, id: id as string, url: url as string, http: (url as string).replace(/^ws/, 'http').replace(/\/ws$/, '') };
  }

  const post = (http: string, room: string, text: string) => fetch(`${http}/rooms/${room}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });

  describe(`examples/${name}`, () => {
    it(`alone, in memory: an SDK client connects on /ws and gets what is POSTed to the room; ${answers}; bad bodies are refused`, async () => {
      const app = await start({ REDIS_URL: '' });
      const client = createClient<{ chat: { text: string } }>({ url: app.url, WebSocket });
      clients.push(client);
      const got: string[] = [];
      const lobby = client.room('lobby');
      lobby.on('message', (m) => got.push(m.data.text));
      await client.ready();
      await waitFor(() => lobby.state === 'subscribed', 'the client in the lobby');
      expect(await client.request('whoami', null)).toEqual({ node: app.id });

      expect((await post(app.http, 'lobby', 'hello from HTTP')).status).toBe(200);
      await waitFor(() => got.includes('hello from HTTP'), 'the POSTed message');
      expect((await fetch(`${app.http}/rooms/lobby/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"txt":1}' })).status).toBe(400);

      expect(await (await fetch(`${app.http}/ready`)).json()).toEqual({ status: 'ready' });
      expect(await (await fetch(`${app.http}/metrics`)).text()).toMatch(/^switchyard_ws_connections(\{[^}]*\})? 1$/m);

      expect(await app.program.stop()).toBe(0);
    });

    it.skipIf(!redisUrl)('two processes on Redis: a message POSTed to one reaches a client of the other; SIGTERM moves the client and exits 0', async () => {
      const env = { REDIS_URL: redisUrl as string, KEY_PREFIX: `${name}-example-${runId()}:` };
      const a = await start(env);
      const b = await start(env);
      for (const p of [a, b]) await waitFor(async () => ((await (await fetch(`${p.http}/cluster`)).json()) as { totals: { healthy: number } }).totals.healthy === 2, 'both nodes healthy');

      const client = createClient<{ chat: { text: string } }>({ url: a.url, WebSocket, maxRedirects: 0 }); // stays on a
      clients.push(client);
      const got: string[] = [];
      const lobby = client.room('lobby');
      lobby.on('message', (m) => got.push(m.data.text));
      await client.ready();
      expect(client.connection?.node).toBe(a.id);
      await waitFor(() => lobby.state === 'subscribed', 'the client in the lobby');

      expect((await post(b.http, 'lobby', 'from the other process')).status).toBe(200);
      await waitFor(() => got.includes('from the other process'), 'the message across processes');

      expect(await a.program.stop()).toBe(0); // drains: the client is told to move to b
      await waitFor(() => client.connection?.node === b.id && client.state === 'connected', `the client on ${b.id}`);
      await waitFor(() => lobby.state === 'subscribed', 'the client back in the lobby');
      expect((await post(b.http, 'lobby', 'after the move')).status).toBe(200);
      await waitFor(() => got.includes('after the move'), 'the message after the move');
      expect(got.filter((t) => t === 'from the other process')).toHaveLength(1); // resumed, nothing twice
      expect(await b.program.stop()).toBe(0);
    });
  });
}
