import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import type { SwitchyardNode } from '../src/index.js';
import { Admission } from '../src/server/admission.js';
import { startNodes, TestClient } from './helpers.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('admission: upgrades taken per event-loop turn', () => {
  it('takes at most perTurn per turn, in arrival order, and lets timers run in between', async () => {
    const a = new Admission(10);
    const taken: number[] = [];
    let timerSaw = -1;
    setTimeout(() => (timerSaw = taken.length), 0);
    for (let i = 0; i < 5000; i++) a.admit(() => taken.push(i));
    expect(taken).toHaveLength(10); // this turn's share, at once
    expect(a.waiting).toBe(4990);
    await turn();
    expect(taken).toHaveLength(20); // one more share per turn
    await turn();
    expect(taken).toHaveLength(30);
    await waitFor(() => a.waiting === 0, 20_000);
    expect(taken).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    // a timer due meanwhile ran while upgrades were still waiting (500 turns take well over 1 ms)
    expect(timerSaw).toBeGreaterThanOrEqual(10);
    expect(timerSaw).toBeLessThan(5000);
    // once a turn has passed with nothing waiting, the next one is taken at once again
    await turn();
    a.admit(() => taken.push(-1));
    expect(taken.at(-1)).toBe(-1);
  });

  describe('on a node', () => {
    let nodes: SwitchyardNode[] = [];
    const clients: TestClient[] = [];
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await Promise.all(nodes.map((n) => n.close({ graceMs: 0 })));
      nodes = [];
    });

    it('a crowd of clients connecting at once is welcomed whole, a few per turn', async () => {
      nodes = await startNodes(['n1'], { maxUpgradesPerTurn: 2 });
      const url = (nodes[0] as SwitchyardNode).url;
      const all = await Promise.all(Array.from({ length: 40 }, () => TestClient.connect(url, { rooms: { crowd: {} } })));
      for (const { client, welcome } of all) {
        clients.push(client);
        expect(welcome.t).toBe('welcome');
      }
      expect((nodes[0] as SwitchyardNode).connections.size).toBe(40);
    });
  });
});
