import { afterEach, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../model/session.js';
import type { MessageBus } from '../ports/bus.js';
import type { HistoryStore } from '../ports/history.js';
import type { ConnectionStatus } from '../ports/lifecycle.js';
import type { SessionStore } from '../ports/sessions.js';
import { CountingObserver, outcome } from './faults.js';
import { Closer, bytes, text, unique, waitFor } from './helpers.js';
import { makeSession } from './session-contract.js';
import type { TcpProxy } from './tcp-proxy.js';

/** The ports of one node on the backend under test, unconnected; a backend gives those it has. */
export interface RestartPorts {
  bus?: MessageBus;
  sessions?: SessionStore;
  history?: HistoryStore;
}

/** Takes the backend away and brings it back: stop and start a private server, or cut and heal a proxy. */
export interface RestartControl {
  /** Take the backend away; resolves once it is gone (the process exited, the proxy resets). */
  down(): Promise<void>;
  /** Bring it back on the same address; resolves once it accepts connections. */
  up(): Promise<void>;
}

export interface RestartContractOptions {
  /** One node's ports on the backend, unconnected. Called once per node and per test. */
  make: () => RestartPorts | Promise<RestartPorts>;
  /** How the backend goes away and comes back: a `RestartControl`, or a `TcpProxy` every port connects through (`reset()` then `pass()`). */
  restart: RestartControl | TcpProxy;
  /** What was written before `down()` is still there after `up()` (default true; false for a server restarted without persistence). */
  keepsData?: boolean;
  /** Codes a store call may fail with while the backend is away (default BUS_UNAVAILABLE, TIMEOUT: an unreachable backend is BUS_UNAVAILABLE in every adapter). */
  outageCodes?: string[];
  /** Publishes made once both buses know the backend is gone (default 30); a bus whose buffer is smaller refuses the rest with BUFFER_FULL. */
  outagePublishes?: number;
  /** Deadline of each wait (the outage noticed, recovery, a delivery), ms (default 60,000). */
  timeoutMs?: number;
  /** Deadline of each test, ms (default 180,000). */
  testTimeoutMs?: number;
}

interface Node extends RestartPorts {
  counts: CountingObserver;
}

const DEFAULT_OUTAGE_CODES = ['BUS_UNAVAILABLE', 'TIMEOUT'];

/** Numbered messages in the order they were first seen (a resent in-flight publish may arrive twice). */
const firstSeen = (got: string[]): number[] => [...new Set(got.filter((m) => /^\d+$/.test(m)).map(Number))];
const ascending = (list: number[]): boolean => list.every((x, i) => i === 0 || x > (list[i - 1] as number));

/** A status history that lost the backend and then got it back. */
const wentDownThenUp = (seen: ConnectionStatus[]): boolean => {
  const down = seen.findIndex((s) => s !== 'connected');
  return down >= 0 && seen.lastIndexOf('connected') > down;
};

/**
 * The contract every backend keeps across a restart (a crash, a clean restart, or a network
 * cut): the bus notices the loss and recovers without help (status down then up, counted as
 * `disconnect` / `reconnect` / `resubscribe` through a `CountingObserver`), its subscriptions
 * come back without a new `subscribe`, a subscription made during the outage takes effect,
 * publishes made during the outage are buffered and flushed in order or refused with
 * BUFFER_FULL and counted as dropped, never silently lost; and the stores either wait for the
 * backend or fail with a typed code while it is away, then answer again, keeping what they had.
 */
export function restartContract(name: string, options: RestartContractOptions): void {
  const timeout = options.timeoutMs ?? 60_000;
  const testTimeout = options.testTimeoutMs ?? 180_000;
  const outageCodes = options.outageCodes ?? DEFAULT_OUTAGE_CODES;
  const restart = options.restart;
  const control: RestartControl =
    'down' in restart
      ? restart
      : {
          down: async () => restart.reset(),
          up: async () => restart.pass(),
        };

  describe(`Restart contract: ${name}`, () => {
    const closer = new Closer();
    let away = false;
    const down = async () => {
      away = true;
      await control.down();
    };
    const up = async () => {
      await control.up();
      away = false;
    };
    afterEach(async () => {
      // A failed test must not leave the backend away for the next one.
      if (away) await up();
      await closer.closeAll();
    });

    const open = async (): Promise<Node> => {
      const ports = await options.make();
      const counts = new CountingObserver();
      for (const port of [ports.bus, ports.sessions, ports.history]) {
        if (!port) continue;
        closer.add(port);
        port.instrument?.(counts);
        await port.connect();
      }
      return { ...ports, counts };
    };

    /** Publish `word-<k>` every 200 ms until every list has heard one. */
    const heard = async (bus: MessageBus, topic: string, word: string, lists: string[][]) => {
      let k = 0;
      await waitFor(
        async () => {
          await bus.publish(topic, bytes(`${word}-${k++}`));
          return lists.every((l) => l.some((m) => m.startsWith(`${word}-`)));
        },
        timeout,
        200,
      );
    };

    it('the bus recovers by itself: status down then up, subscriptions restored, outage publishes flushed in order or counted as dropped', { timeout: testTimeout }, async () => {
      const [na, nb] = [await open(), await open()];
      const [a, b] = [na.bus, nb.bus];
      if (!a || !b) throw new Error('restartContract: make() gave no bus');
      const topic = unique('room.restart');
      const own: string[] = [];
      const remote: string[] = [];
      await a.subscribe(topic, (p) => own.push(text(p)));
      await b.subscribe(topic, (p) => remote.push(text(p)));
      await heard(a, topic, 'warm', [own, remote]);
      const statusA: ConnectionStatus[] = [];
      const statusB: ConnectionStatus[] = [];
      a.onStatus((s) => statusA.push(s));
      b.onStatus((s) => statusB.push(s));

      await down();
      // Numbered publishes, one at a time: accepted (sent or buffered) or refused with BUFFER_FULL.
      let next = 0;
      const accepted: number[] = [];
      const buffered: number[] = [];
      const refused: number[] = [];
      const unexpected: string[] = [];
      let noticed = false;
      const publishOne = async () => {
        const i = next++;
        const before = na.counts.get('publish_buffered');
        const result = await outcome(a.publish(topic, bytes(String(i))));
        if (result === 'ok') {
          accepted.push(i);
          if (na.counts.get('publish_buffered') > before) buffered.push(i);
        } else if (result === 'BUFFER_FULL') refused.push(i);
        // Before the bus noticed, a publish in flight may fail with a typed code; after, it is buffered or refused.
        else if (noticed || !outageCodes.includes(result)) unexpected.push(`${i}: ${result}`);
      };
      // Traffic until both buses say the backend is gone (what was in flight at that instant may be lost, on a bus that is not durable).
      await waitFor(
        async () => {
          await publishOne();
          return a.status !== 'connected' && b.status !== 'connected';
        },
        timeout,
        50,
      );
      noticed = true;
      for (let k = 0; k < (options.outagePublishes ?? 30); k++) await publishOne();
      // A subscription made while the backend is away takes effect once it is back.
      const late = unique('room.late');
      const lateGot: string[] = [];
      const lateSub = outcome(b.subscribe(late, (p) => lateGot.push(text(p))));

      await up();
      await waitFor(() => a.status === 'connected' && b.status === 'connected', timeout, 20);
      expect(await lateSub).toBe('ok');
      // Nothing buffered is silently lost: each is flushed or counted as dropped.
      await waitFor(() => na.counts.get('publish_flushed') + na.counts.get('publish_dropped') >= buffered.length + refused.length, timeout, 20);
      // Nobody subscribes again: traffic after recovery reaches both subscribers, and the late one.
      await heard(a, topic, 'after', [own, remote]);
      await heard(a, late, 'late', [lateGot]);

      process.stderr.write(
        `[restart contract ${name}] outage publishes ${next}: accepted ${accepted.length} (buffered ${buffered.length}), refused ${refused.length}; ` +
          `flushed ${na.counts.get('publish_flushed')}, dropped ${na.counts.get('publish_dropped')}; own got ${firstSeen(own).length}, remote got ${firstSeen(remote).length}\n`,
      );
      expect(unexpected).toEqual([]);
      expect(buffered.length + refused.length).toBeGreaterThan(0);
      expect(na.counts.get('publish_dropped')).toBeGreaterThanOrEqual(refused.length);
      for (const got of [own, remote]) expect(ascending(firstSeen(got))).toBe(true);
      // The publisher restores its own subscriptions before it flushes: its handler gets every buffered publish not counted as dropped.
      const ownSeen = new Set(firstSeen(own));
      const lostBuffered = buffered.filter((i) => !ownSeen.has(i));
      expect(lostBuffered.length).toBeLessThanOrEqual(na.counts.get('publish_dropped') - refused.length);
      if (a.capabilities.durable) {
        const remoteSeen = new Set(firstSeen(remote));
        expect(accepted.filter((i) => !ownSeen.has(i) || !remoteSeen.has(i))).toEqual([]);
      }
      expect(wentDownThenUp(statusA)).toBe(true);
      expect(wentDownThenUp(statusB)).toBe(true);
      for (const counts of [na.counts, nb.counts]) {
        expect(counts.get('disconnect')).toBeGreaterThanOrEqual(1);
        expect(counts.get('reconnect')).toBeGreaterThanOrEqual(1);
        expect(counts.get('resubscribe')).toBeGreaterThanOrEqual(1);
      }
    });

    it('the stores wait for the backend or fail with a typed code while it is away, then answer again', { timeout: testTimeout }, async () => {
      const { sessions, history } = await open();
      if (!sessions && !history) throw new Error('restartContract: make() gave no session or history store');
      const node = unique('node');
      const kept = makeSession(unique('s'), node, { userId: unique('u'), rooms: { lobby: { offset: 1, epoch: 'e' } } });
      const stream = unique('room.h');
      if (sessions) await sessions.put(kept, 600_000);
      const before = history ? [await history.append(stream, bytes('h0')), await history.append(stream, bytes('h1'))] : [];

      await down();
      // Calls made while the backend is away: they may wait for it (retries) or fail, but only with a typed code.
      const during = makeSession(unique('s'), node);
      const calls: Array<Promise<string>> = [];
      let duringAppend = 'not made';
      if (sessions) calls.push(outcome(sessions.get(kept.id)), outcome(sessions.put(during, 600_000)));
      if (history) {
        calls.push(outcome(history.read(stream, 0)));
        calls.push(outcome(history.append(stream, bytes('during'))).then((r) => (duringAppend = r)));
      }
      await up();
      const results = await Promise.all(calls);
      process.stderr.write(`[restart contract ${name}] store calls during the outage: ${results.join(', ')}\n`);
      expect(results.filter((r) => r !== 'ok' && !outageCodes.includes(r))).toEqual([]);

      // They answer again, and what was written before (and acknowledged during) is there.
      if (sessions) {
        const got = await waitFor(async () => ((await outcome(sessions.get(kept.id))) === 'ok' ? { record: await sessions.get(kept.id) } : null), timeout, 200);
        if (options.keepsData ?? true) expect(got.record).toEqual(kept);
        const after: SessionRecord = makeSession(unique('s'), node, { userId: unique('u') });
        await sessions.put(after, 600_000);
        expect(await sessions.get(after.id)).toEqual(after);
        expect((await sessions.byNode(node)).map((s) => s.id)).toContain(after.id);
      }
      if (history) {
        await waitFor(async () => (await outcome(history.position(stream))) === 'ok', timeout, 200);
        const pos = await history.append(stream, bytes('h-after'));
        const read = await history.read(stream, 0);
        const bodies = read.entries.map((e) => text(e.payload));
        expect(bodies).toContain('h-after');
        expect(read.entries.map((e) => e.offset)).toContain(pos.offset);
        if (duringAppend === 'ok') expect(bodies).toContain('during');
        if (options.keepsData ?? true) {
          expect(bodies.slice(0, 2)).toEqual(['h0', 'h1']);
          expect(pos.epoch).toBe(before[0]?.epoch);
          expect(read.gap).toBe(false);
        }
      }
    });
  });
}
