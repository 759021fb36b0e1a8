/**
 * What the chat README says: two node processes on Redis, the terminal client on one and an SDK
 * client on the other exchange messages both ways; stopping the terminal client's node (SIGTERM)
 * moves it to the other node, where it still chats; the nodes exit 0. And the line counts the
 * README gives for this example and for its Socket.IO equivalent are the files' real counts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { serviceUrl } from '@switchyard/core/testing';
import { createClient, type SwitchyardClient } from '@switchyard/transport-ws/client';
import { freePort, Program, runId, waitFor } from '../../test/helpers.js';

const redisUrl = await serviceUrl('redis');
const read = (name: string) => readFileSync(new URL(`../${name}`, import.meta.url), 'utf8');

/** Lines of code: not blank, not only a comment (`//` lines and `/* ... *\/` blocks), the same rule for both sides. */
function codeLines(source: string): number {
  const withoutBlocks = source.replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, ''));
  return withoutBlocks.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//')).length;
}

describe('examples/chat line counts', () => {
  it('the README gives the real counts, and Switchyard needs no more lines than Socket.IO + @socket.io/redis-adapter', () => {
    const readme = read('README.md');
    const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.length, 'the Socket.IO server and client as the two js blocks of the README').toBe(2);
    const ours = { server: codeLines(read('server.ts')), client: codeLines(read('client.ts')) };
    const theirs = { server: codeLines(blocks[0] as string), client: codeLines(blocks[1] as string) };
    const row = (label: string, c: { server: number; client: number }) => `| ${label} | ${c.server} | ${c.client} | ${c.server + c.client} |`;
    expect(readme).toContain(row('Switchyard (this folder)', ours));
    expect(readme).toContain(row('Socket.IO + @socket.io/redis-adapter', theirs));
    expect(ours.server + ours.client).toBeLessThanOrEqual(theirs.server + theirs.client);
  });

  it('codeLines leaves out blank lines and comments', () => {
    expect(codeLines('/**\n * doc\n */\nimport a from "a";\n\n// note\nconst b = 1; // trailing\n  /* x */\n')).toBe(2);
  });
});

describe.skipIf(!redisUrl)('examples/chat on Redis', () => {
  const programs: Program[] = [];
  let bob: SwitchyardClient<{ chat: { user: string; text: string } }> | undefined;

  afterAll(async () => {
    bob?.close();
    const [ada, ...nodes] = programs.slice().reverse();
    await ada?.stop();
    const codes = await Promise.all(nodes.map((p) => p.stop()));
    expect(codes.every((c) => c === 0), programs.map((p) => p.output).join('\n---\n')).toBe(true);
  });

  it('two node processes, two clients on different nodes exchange messages; a stopped node moves its client', async () => {
    const prefix = `chat-test-${runId()}:`;
    const nodes: Array<{ program: Program; id: string; url: string }> = [];
    for (const port of [await freePort(), await freePort()]) {
      const program = new Program('examples/chat/server.ts', [], { REDIS_URL: redisUrl as string, PORT: String(port), KEY_PREFIX: prefix });
      programs.push(program);
      const [, id, url] = await program.match(/(\S+) listening on (ws:\/\/\S+)/, 'a node listening');
      nodes.push({ program, id: id as string, url: url as string });
    }

    const ada = new Program('examples/chat/client.ts', ['ada', ...nodes.map((n) => n.url)]);
    programs.push(ada);
    const adaOn = (await ada.match(/\* connected to (\S+) as ada/, 'ada connected'))[1];
    const [mine, other] = nodes[0]?.id === adaOn ? [nodes[0], nodes[1]] : [nodes[1], nodes[0]];
    expect(mine?.id).toBe(adaOn);

    // bob stays on the other node (no redirects), so the messages cross between nodes
    bob = createClient<{ chat: { user: string; text: string } }>({ url: other?.url as string, maxRedirects: 0, WebSocket });
    const got: string[] = [];
    const lobby = bob.room('lobby');
    lobby.on('message', (m) => got.push(m.data.text));
    await bob.ready();
    expect(bob.connection?.node).toBe(other?.id);
    await waitFor(() => lobby.state === 'subscribed', 'bob in the lobby');

    await lobby.publish('chat', { user: 'bob', text: 'hello across nodes' });
    await ada.match(/^bob: hello across nodes$/m, "ada receives bob's message");
    ada.send(`hi bob, from ${adaOn}`);
    await waitFor(() => got.includes(`hi bob, from ${adaOn}`), "bob receives ada's message");

    // SIGTERM to ada's node: it drains (ada is told to move), leaves, exits 0; ada carries on on the other node
    expect(await mine?.program.stop()).toBe(0);
    await ada.match(new RegExp(`\\* connected to ${other?.id} as ada`), `ada moved to ${other?.id}`);
    await lobby.publish('chat', { user: 'bob', text: 'still here?' });
    await ada.match(/^bob: still here\?$/m, 'ada receives on the other node');
  });
});
