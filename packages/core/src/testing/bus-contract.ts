import { afterEach, describe, expect, it } from 'vitest';
import type { MessageBus } from '../ports/bus.js';
import { Closer, bytes, rejectsWithCode, text, unique, waitFor, sleep } from './helpers.js';

export interface BusContractOptions {
  /** A new, unconnected bus on the shared backend under test. Called several times per test (one per "node"). */
  create: () => MessageBus | Promise<MessageBus>;
  /** Messages for the ordering test (default 500). */
  orderingCount?: number;
  /** Time allowed for a delivery, ms (default 5000). */
  timeoutMs?: number;
  /** Time a new subscription may take to become active on the backend, ms (default 0). Kafka needs some. */
  settleMs?: number;
}

/**
 * The contract every `MessageBus` passes: delivery across instances, order per topic,
 * isolation between topics, unsubscribe, close semantics, binary integrity, payload limit and
 * literal topic names (no wildcard meaning).
 */
export function busContract(name: string, options: BusContractOptions): void {
  const timeout = options.timeoutMs ?? 5000;
  const settle = () => (options.settleMs ? sleep(options.settleMs) : Promise.resolve());

  describe(`MessageBus contract: ${name}`, () => {
    const closer = new Closer();
    afterEach(() => closer.closeAll());

    const open = async () => {
      const bus = closer.add(await options.create());
      await bus.connect();
      return bus;
    };

    it('delivers a publish to subscribers on other instances and on the publisher itself', async () => {
      const [a, b] = [await open(), await open()];
      const topic = unique('room.t');
      const gotA: string[] = [];
      const gotB: string[] = [];
      await a.subscribe(topic, (p) => gotA.push(text(p)));
      await b.subscribe(topic, (p) => gotB.push(text(p)));
      await settle();
      await a.publish(topic, bytes('hello'));
      await waitFor(() => gotA.length === 1 && gotB.length === 1, timeout);
      expect(gotA).toEqual(['hello']);
      expect(gotB).toEqual(['hello']);
      expect(a.status).toBe('connected');
    });

    it('keeps publish order per topic', async () => {
      const [a, b] = [await open(), await open()];
      const topic = unique('room.order');
      const n = options.orderingCount ?? 500;
      const got: number[] = [];
      await b.subscribe(topic, (p) => got.push(Number(text(p))));
      await settle();
      if (!a.capabilities.orderedPerTopic) return;
      await Promise.all(Array.from({ length: n }, (_, i) => a.publish(topic, bytes(String(i)))));
      await waitFor(() => got.length >= n, timeout * 2);
      expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    });

    it('isolates topics and treats names literally', async () => {
      const [a, b] = [await open(), await open()];
      const base = unique('room.iso');
      const gotExact: string[] = [];
      const gotOther: string[] = [];
      await b.subscribe(`${base}.x`, (p) => gotExact.push(text(p)));
      await b.subscribe(`${base}.*`, (p) => gotOther.push(`star:${text(p)}`));
      await b.subscribe(`${base}.>`, (p) => gotOther.push(`gt:${text(p)}`));
      await b.subscribe(`${base} ümlaut/ünïcode`, (p) => gotOther.push(`u:${text(p)}`));
      await settle();
      await a.publish(`${base}.x`, bytes('1'));
      await a.publish(`${base}.y`, bytes('nobody'));
      await a.publish(`${base} ümlaut/ünïcode`, bytes('2'));
      await waitFor(() => gotExact.length === 1 && gotOther.length === 1, timeout);
      await a.publish(`${base}.x`, bytes('sentinel'));
      await waitFor(() => gotExact.length === 2, timeout);
      expect(gotExact).toEqual(['1', 'sentinel']);
      expect(gotOther).toEqual(['u:2']);
    });

    it('runs every handler of a topic and stops one after unsubscribe', async () => {
      const [a, b] = [await open(), await open()];
      const topic = unique('room.unsub');
      const first: string[] = [];
      const second: string[] = [];
      const sub1 = await b.subscribe(topic, (p) => first.push(text(p)));
      await b.subscribe(topic, (p) => second.push(text(p)));
      await settle();
      await a.publish(topic, bytes('both'));
      await waitFor(() => first.length === 1 && second.length === 1, timeout);
      await sub1.unsubscribe();
      await sub1.unsubscribe(); // idempotent
      await a.publish(topic, bytes('second-only'));
      await waitFor(() => second.length === 2, timeout);
      expect(first).toEqual(['both']);
      expect(second).toEqual(['both', 'second-only']);
    });

    it('stops delivering a topic when its last handler unsubscribes', async () => {
      const [a, b] = [await open(), await open()];
      const topic = unique('room.last');
      const probe = unique('room.probe');
      const got: string[] = [];
      const probeGot: string[] = [];
      const sub = await b.subscribe(topic, (p) => got.push(text(p)));
      await b.subscribe(probe, (p) => probeGot.push(text(p)));
      await settle();
      await sub.unsubscribe();
      await a.publish(topic, bytes('late'));
      await a.publish(probe, bytes('probe'));
      await waitFor(() => probeGot.length === 1, timeout);
      await sleep(50);
      expect(got).toEqual([]);
    });

    it('carries binary payloads unchanged', async () => {
      const [a, b] = [await open(), await open()];
      const topic = unique('room.bin');
      const payload = new Uint8Array(1024);
      for (let i = 0; i < payload.length; i++) payload[i] = i % 256;
      let got: Uint8Array | undefined;
      await b.subscribe(topic, (p) => (got = p));
      await settle();
      await a.publish(topic, payload);
      await waitFor(() => got, timeout);
      expect(Buffer.from(got as Uint8Array).equals(Buffer.from(payload))).toBe(true);
    });

    it('refuses a payload above its limit with PAYLOAD_TOO_LARGE', async () => {
      const a = await open();
      const max = a.capabilities.maxPayloadBytes;
      expect(max).toBeGreaterThan(0);
      if (max > 64 * 1024 * 1024) return;
      await rejectsWithCode(a.publish(unique('room.big'), new Uint8Array(max + 1)), 'PAYLOAD_TOO_LARGE');
    });

    it('after close: rejects publish and subscribe with CLOSED, runs no handler, and close is idempotent', async () => {
      const [a, b] = [await open(), await open()];
      const topic = unique('room.close');
      const got: string[] = [];
      const probe: string[] = [];
      await b.subscribe(topic, (p) => got.push(text(p)));
      const c = await open();
      await c.subscribe(topic, (p) => probe.push(text(p)));
      await settle();
      await b.close();
      await b.close();
      expect(b.status).toBe('closed');
      await rejectsWithCode(b.publish(topic, bytes('x')), 'CLOSED');
      await rejectsWithCode(b.subscribe(topic, () => undefined), 'CLOSED');
      await a.publish(topic, bytes('after-close'));
      await waitFor(() => probe.length === 1, timeout);
      await sleep(50);
      expect(got).toEqual([]);
    });

    it('reports status changes to listeners', async () => {
      const bus = closer.add(await options.create());
      const seen: string[] = [];
      bus.onStatus((s) => seen.push(s));
      await bus.connect();
      await bus.close();
      expect(seen).toContain('connected');
      expect(seen[seen.length - 1]).toBe('closed');
    });
  });
}
