import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@switchyard/core/testing';
import type { SwitchyardNode } from '../src/index.js';
import { Admission } from '../src/server/admission.js';
import WebSocket from 'ws';
import { createClient } from '../src/client/index.js';
import { httpGet, metric, startNodes, TestClient } from './helpers.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('admission: upgrades taken per event-loop turn', () => {
  it('takes at most perTurn per turn, in arrival order, and lets timers run in between', async () => {
    const a = new Admission(10, 1_000_000);
    const taken: number[] = [];
    let timerSaw = -1;
    setTimeout(() => (timerSaw = taken.length), 0);
    for (let i = 0; i < 5000; i++)
      a.admit((done) => {
        taken.push(i);
        done();
      });
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
    a.admit((done) => {
      taken.push(-1);
      done();
    });
    expect(taken.at(-1)).toBe(-1);
  });

  it('holds at most inFlight clients between upgrade and welcome; a finished one lets the next in', async () => {
    const a = new Admission(100, 3);
    const dones: Array<() => void> = [];
    const started: number[] = [];
    for (let i = 0; i < 10; i++)
      a.admit((done) => {
        started.push(i);
        dones.push(done);
      });
    await turn();
    await turn();
    expect(started).toEqual([0, 1, 2]);
    expect(a.busy).toBe(3);
    expect(a.waiting).toBe(7);
    dones[1]?.();
    dones[1]?.(); // twice is once
    await waitFor(() => started.length === 4);
    await turn();
    expect(started).toEqual([0, 1, 2, 3]);
    expect(a.busy).toBe(3);
    for (let k = 0; k < 10; k++) {
      for (const d of dones) d();
      await turn();
    }
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a.busy).toBe(0);
    expect(a.waiting).toBe(0);
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
      nodes = await startNodes(['n1'], { limits: { maxUpgradesPerTurn: 2, maxHellosInFlight: 3 } });
      const url = (nodes[0] as SwitchyardNode).url;
      const all = await Promise.all(Array.from({ length: 40 }, () => TestClient.connect(url, { rooms: { crowd: {} } })));
      for (const { client, welcome } of all) {
        clients.push(client);
        expect(welcome.t).toBe('welcome');
      }
      expect((nodes[0] as SwitchyardNode).connections.size).toBe(40);
    });

    it('SDK clients (hello in the upgrade) are welcomed whole a few at a time, and clients that never say hello hold no slot', async () => {
      nodes = await startNodes(['n1'], { limits: { maxUpgradesPerTurn: 2, maxHellosInFlight: 2 } });
      const url = (nodes[0] as SwitchyardNode).url;
      const silent = await Promise.all(Array.from({ length: 5 }, () => TestClient.open(url)));
      clients.push(...silent);
      const sdk = Array.from({ length: 30 }, () => createClient({ url, WebSocket }));
      try {
        await Promise.all(sdk.map((c) => c.ready()));
        expect(metric((await httpGet(url, '/metrics')).text, 'switchyard_ws_early_hellos_total')).toBe(30);
        expect((nodes[0] as SwitchyardNode).connections.size).toBe(30);
      } finally {
        for (const c of sdk) c.close();
      }
    });
  });
});
