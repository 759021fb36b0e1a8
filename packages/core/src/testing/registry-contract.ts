import { afterEach, describe, expect, it } from 'vitest';
import { emptyLoad, type NodeInfo } from '../model/node.js';
import type { NodeRegistry, RegistryEvent } from '../ports/registry.js';
import { Closer, rejectsWithCode, sleep, unique, waitFor } from './helpers.js';

export interface RegistryContractOptions {
  /** A new, unconnected registry on the shared backend. */
  create: () => NodeRegistry | Promise<NodeRegistry>;
  /** Shortest TTL the backend honours, ms (default 500). Expiry tests use a multiple of it. */
  minTtlMs?: number;
  /** Deadline for expiry and watch events, ms (default 10,000). */
  timeoutMs?: number;
}

export const makeNode = (id: string, patch: Partial<NodeInfo> = {}): NodeInfo => ({
  id,
  url: `ws://127.0.0.1:1/${id}`,
  weight: 1,
  capacity: 1000,
  state: 'ready',
  load: emptyLoad(),
  protocol: 1,
  capabilities: ['history'],
  startedAt: Date.now(),
  updatedAt: Date.now(),
  ...patch,
});

/**
 * The contract every `NodeRegistry` passes: registration, heartbeats, TTL expiry, watch
 * events, deregistration, lease exclusivity with fencing tokens, and close semantics.
 */
export function registryContract(name: string, options: RegistryContractOptions): void {
  const ttl = options.minTtlMs ?? 500;
  const timeout = options.timeoutMs ?? 10_000;

  describe(`NodeRegistry contract: ${name}`, () => {
    const closer = new Closer();
    afterEach(() => closer.closeAll());
    const open = async () => {
      const r = closer.add(await options.create());
      await r.connect();
      return r;
    };
    const cleanup = (r: NodeRegistry, id: string) => closer.defer(() => r.deregister(id).catch(() => undefined));

    it('registers, lists, gets and updates on heartbeat', async () => {
      const [a, b] = [await open(), await open()];
      const id = unique('node');
      cleanup(a, id);
      await a.register(makeNode(id, { region: 'eu', meta: { version: '1.2.3' } }), 5000);
      const seen = await b.get(id);
      expect(seen?.url).toBe(`ws://127.0.0.1:1/${id}`);
      expect(seen?.region).toBe('eu');
      expect(seen?.meta).toEqual({ version: '1.2.3' });
      expect((await b.list()).map((n) => n.id)).toContain(id);
      await a.heartbeat(makeNode(id, { state: 'draining', load: { connections: 42, cpu: 0.5, memory: 0.25, eventLoopLagMs: 3 } }), 5000);
      const updated = await b.get(id);
      expect(updated?.state).toBe('draining');
      expect(updated?.load.connections).toBe(42);
      expect(await b.get(unique('missing'))).toBeNull();
    });

    it('drops a record whose TTL ran out, and keeps one that heartbeats', async () => {
      const r = await open();
      const dying = unique('node-dying');
      const living = unique('node-living');
      cleanup(r, living);
      cleanup(r, dying);
      await r.register(makeNode(dying), ttl);
      await r.register(makeNode(living), ttl * 2);
      const keepAlive = setInterval(() => void r.heartbeat(makeNode(living), ttl * 2).catch(() => undefined), ttl / 2);
      try {
        await waitFor(async () => !(await r.list()).some((n) => n.id === dying), timeout, 50);
        expect(await r.get(dying)).toBeNull();
        await sleep(ttl * 2);
        expect((await r.list()).some((n) => n.id === living)).toBe(true);
      } finally {
        clearInterval(keepAlive);
      }
    });

    it('tells watchers about joins, updates and clean departures', async () => {
      const [a, b] = [await open(), await open()];
      const events: RegistryEvent[] = [];
      const stop = b.watch((e) => events.push(e));
      await sleep(100);
      const id = unique('node-w');
      cleanup(a, id);
      await a.register(makeNode(id), 5000);
      await waitFor(() => events.some((e) => e.type === 'joined' && e.node.id === id), timeout);
      await a.heartbeat(makeNode(id, { state: 'draining' }), 5000);
      await waitFor(() => events.some((e) => e.type === 'updated' && e.node.id === id && e.node.state === 'draining'), timeout);
      await a.deregister(id);
      await waitFor(() => events.some((e) => e.type === 'left' && e.nodeId === id && e.reason === 'shutdown'), timeout);
      expect(await a.get(id)).toBeNull();
      stop();
    });

    it('grants a lease to exactly one of many concurrent holders', async () => {
      const regs = await Promise.all([open(), open(), open()]);
      const lease = unique('lease');
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (regs[i % 3] as NodeRegistry).acquireLease(lease, `holder-${i}`, 5000)),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      const won = winners[0]!;
      closer.defer(() => (regs[0] as NodeRegistry).releaseLease(won).catch(() => undefined));
      const again = await (regs[1] as NodeRegistry).acquireLease(lease, won.holder, 5000);
      expect(again?.token).toBe(won.token);
      expect(await (regs[2] as NodeRegistry).acquireLease(lease, 'someone-else', 5000)).toBeNull();
      const renewed = await (regs[0] as NodeRegistry).renewLease(won, 5000);
      expect(renewed?.token).toBe(won.token);
      expect(await (regs[0] as NodeRegistry).renewLease({ ...won, holder: 'impostor' }, 5000)).toBeNull();
    });

    it('hands the lease on after release and after expiry, with a greater fencing token', async () => {
      const [a, b] = [await open(), await open()];
      const lease = unique('lease-f');
      const first = await a.acquireLease(lease, 'one', 5000);
      expect(first).not.toBeNull();
      await b.releaseLease({ ...first!, holder: 'not-one' }); // not the holder: no effect
      expect(await b.acquireLease(lease, 'two', 5000)).toBeNull();
      await a.releaseLease(first!);
      const second = await b.acquireLease(lease, 'two', ttl);
      expect(second).not.toBeNull();
      expect(second!.token).toBeGreaterThan(first!.token);
      const third = await waitFor(() => a.acquireLease(lease, 'three', 5000), timeout, 50);
      closer.defer(() => a.releaseLease(third).catch(() => undefined));
      expect(third.token).toBeGreaterThan(second!.token);
      expect(await b.renewLease(second!, 5000)).toBeNull();
      await b.releaseLease(second!); // stale: must not free the lease of 'three'
      expect(await b.acquireLease(lease, 'four', 5000)).toBeNull();
    });

    it('after close rejects with CLOSED, and close is idempotent', async () => {
      const r = await open();
      await r.close();
      await r.close();
      await rejectsWithCode(r.list(), 'CLOSED');
      await rejectsWithCode(r.register(makeNode(unique('n')), 1000), 'CLOSED');
    });
  });
}
