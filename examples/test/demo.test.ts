/**
 * `npm run demo` from a script: it starts three nodes on each bus it is given, serves the
 * dashboard, and stops by itself with `--exit-after`, exiting 0. Flags are checked.
 */
import { describe, expect, it } from 'vitest';
import { serviceUrl } from '@switchyard/core/testing';
import { Program } from './helpers.js';

const buses: Array<[string, string | undefined]> = [
  ['memory', 'memory'],
  ['redis', await serviceUrl('redis')],
  ['nats', await serviceUrl('nats').then((u) => (u && !u.startsWith('nats://') ? `nats://${u}` : u))],
  ['postgres', await serviceUrl('postgres')],
  ['kafka', await serviceUrl('kafka').then((u) => (u ? `kafka://${u}` : u))],
];

describe.concurrent('npm run demo', () => {
  for (const [name, bus] of buses) {
    it.skipIf(!bus)(`runs three nodes on ${name}, serves the dashboard and stops by itself`, async () => {
      const demo = new Program('examples/demo/main.ts', ['--port', '0', '--bots', '3', '--exit-after', '4', '--bus', bus as string]);
      const url = (await demo.match(/dashboard\s+(http:\/\/\S+?)\/\s/, 'the dashboard URL', 60_000))[1] as string;
      const state = (await (await fetch(`${url}/api/state`)).json()) as { bus: { name: string }; nodes: Array<{ id: string; process: string }> };
      expect(state.bus.name).toBe(name);
      expect(state.nodes.map((n) => n.id)).toEqual(['node-1', 'node-2', 'node-3']);
      expect((await fetch(`${url}/chat`)).status).toBe(200);
      expect((await fetch(`${url}/assets/chat.js`)).headers.get('content-type')).toContain('javascript');
      expect(await demo.wait(), demo.output).toBe(0);
      expect(demo.output).toMatch(/--exit-after 4: stopping/);
      expect(demo.output).toMatch(/\d\d:\d\d:\d\d {2}stopped/);
    });
  }

  it('prints its usage for --help and refuses a bad flag with exit code 2', async () => {
    const help = new Program('examples/demo/main.ts', ['--help']);
    const bad = new Program('examples/demo/main.ts', ['--nodes', '42']);
    expect(await help.wait()).toBe(0);
    expect(help.output).toContain('usage: npm run demo');
    expect(await bad.wait()).toBe(2);
    expect(bad.output).toContain('--nodes must be an integer from 1 to 9');
  });
});
