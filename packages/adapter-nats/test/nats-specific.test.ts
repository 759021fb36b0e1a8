import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { RegistryEvent } from '@switchyard/core';
import { Closer, bytes, makeNode, rejectsWithCode, serviceUrl, text, unique, waitFor } from '@switchyard/core/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NatsBus, NatsConnector, NatsHistory, NatsRegistry, createNatsAdapter, encodeToken, parseNatsOptions, topicSubject } from '../src/index.js';
import { dropStreams, runId } from './helpers.js';
import { freePort } from './private-server.js';

const url = await serviceUrl('nats');
const id = runId();
const stream = `SYTEST_S_${id}`;
const buckets = [`sytest_se_${id}`, `sytest_sr_${id}`, `sytest_ss_${id}`];

const expectConfigError = (options: unknown, field: string) => {
  try {
    parseNatsOptions(options as never);
  } catch (err) {
    const e = err as { code?: string; message?: string; source?: string };
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.source).toBe('nats');
    expect(e.message).toContain(field);
    return;
  }
  throw new Error(`expected CONFIG_INVALID for ${field}`);
};

describe('options', () => {
  it('refuses bad configuration with CONFIG_INVALID naming the field', () => {
    expectConfigError({}, 'servers');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', prefix: 'a.*' }, 'prefix');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', prefix: 'a.>' }, 'prefix');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', prefix: 'a..b' }, 'prefix');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', prefix: 'has space' }, 'prefix');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', prefix: '.lead' }, 'prefix');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', history: { stream: 'A.B' } }, 'history.stream');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', history: { epochBucket: 'b>' } }, 'history.epochBucket');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', registry: { bucket: 'a/b' } }, 'registry.bucket');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', history: { maxLength: 0 } }, 'history.maxLength');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', publishBufferSize: -1 }, 'publishBufferSize');
    expectConfigError({ servers: 'http://127.0.0.1:4222' }, 'servers');
    expectConfigError({ connection: {} }, 'connection');
    expectConfigError({ servers: 'nats://127.0.0.1:4222', logger: { info: 1 } }, 'logger');
  });

  it('opens its connection without nats.js async traces (two Errors built per request), unless asked', async () => {
    const traced = (c: NatsConnection) => !(c as unknown as { protocol: { options: { noAsyncTraces?: boolean } } }).protocol.options.noAsyncTraces;
    const plain = new NatsConnector(parseNatsOptions({ servers: url }));
    const asked = new NatsConnector(parseNatsOptions({ servers: url, asyncTraces: true }));
    try {
      expect(traced(await plain.acquire())).toBe(false);
      expect(traced(await asked.acquire())).toBe(true);
    } finally {
      await Promise.all([plain.release(), asked.release()]);
    }
    expect(plain.connection?.isClosed() ?? true).toBe(true);
  });

  it('fills defaults', () => {
    const c = parseNatsOptions({ servers: 'nats://127.0.0.1:4222' });
    expect(c.prefix).toBe('switchyard');
    expect(c.publishBufferSize).toBe(10_000);
    expect(c.history.maxLength).toBe(1000);
    expect(c.history.storage).toBe('file');
    expect(c.registry.maxAgeMs).toBe(3_600_000);
  });

  it('does no I/O when constructing, and a refused connection maps to BUS_UNAVAILABLE', async () => {
    const port = await freePort(); // nobody listens there
    const adapter = createNatsAdapter({ servers: `nats://127.0.0.1:${port}`, connectTimeoutMs: 1000 });
    expect(adapter.bus.status).toBe('idle');
    await rejectsWithCode(adapter.bus.publish('x', bytes('y')), 'NOT_CONNECTED');
    await rejectsWithCode(adapter.bus.connect(), 'BUS_UNAVAILABLE');
    await rejectsWithCode(adapter.history.connect(), 'BUS_UNAVAILABLE');
    await adapter.close();
    await adapter.close();
    await rejectsWithCode(adapter.bus.publish('x', bytes('y')), 'CLOSED');
  });
});

describe('subjects', () => {
  it('maps any topic to one literal subject token', () => {
    for (const topic of ['room.a', 'room.*', 'room.>', '>', '*', 'with space', 'ümlaut/ünïcode', '', 'x'.repeat(5000)]) {
      const subject = topicSubject('p', topic);
      const token = subject.slice('p.t.'.length);
      expect(token).toMatch(/^[A-Za-z0-9_=-]+$/);
      expect(token.length).toBeLessThanOrEqual(130);
      expect(encodeToken(topic)).toBe(token);
    }
    expect(encodeToken('room.*')).not.toBe(encodeToken('room.>'));
    expect(encodeToken('x'.repeat(5000))).not.toBe(encodeToken('x'.repeat(5001)));
  });
});

describe.skipIf(!url)('nats specifics', () => {
  const closer = new Closer();
  afterEach(() => closer.closeAll());
  afterAll(() => dropStreams(url as string, [stream], buckets));
  const base = () => ({
    servers: url as string,
    prefix: `sytest.s.${id}`,
    history: { stream, epochBucket: buckets[0], maxLength: 3, storage: 'memory' as const },
    registry: { bucket: buckets[1], storage: 'memory' as const, maxAgeMs: 60_000 },
    sessions: { bucket: buckets[2], storage: 'memory' as const },
  });

  it('shares one connection across ports and never closes a connection it was given', async () => {
    const nc: NatsConnection = await connect({ servers: url as string });
    closer.defer(() => nc.close());
    const adapter = createNatsAdapter({ ...base(), servers: undefined, connection: nc });
    await adapter.connect();
    await adapter.bus.subscribe('t', () => undefined);
    await adapter.history.append('r', bytes('x'));
    await adapter.close();
    expect(nc.isClosed()).toBe(false);
    await nc.flush(); // still usable

    const owned = createNatsAdapter(base());
    await owned.connect();
    await owned.close();
    await owned.close();
    expect(owned.bus.status).toBe('closed');
  });

  it('takes maxPayloadBytes from the server and holds one NATS subscription per topic', async () => {
    const bus = closer.add(new NatsBus(base()));
    await bus.connect();
    expect(bus.capabilities.maxPayloadBytes).toBe(1024 * 1024); // the server's max_payload
    const topic = unique('room.shared');
    const got: string[] = [];
    const s1 = await bus.subscribe(topic, (p) => got.push(`1:${text(p)}`));
    const s2 = await bus.subscribe(topic, (p) => got.push(`2:${text(p)}`));
    expect(bus.natsSubscriptions).toBe(1);
    await bus.publish(topic, bytes('x'));
    await waitFor(() => got.length === 2);
    await s1.unsubscribe();
    expect(bus.natsSubscriptions).toBe(1);
    await s2.unsubscribe();
    expect(bus.natsSubscriptions).toBe(0);
  });

  it('does not deliver to a subscriber of a literal wildcard topic when others publish matching subjects on raw NATS', async () => {
    const bus = closer.add(new NatsBus(base()));
    await bus.connect();
    const got: string[] = [];
    await bus.subscribe('room.>', (p) => got.push(text(p)));
    const nc = await connect({ servers: url as string });
    closer.defer(() => nc.close());
    nc.publish(`sytest.s.${id}.t.anything`, bytes('raw'));
    nc.publish(topicSubject(`sytest.s.${id}`, 'room.>'), bytes('mine'));
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['mine']);
  });

  it('history offsets are stream sequences: growing, not contiguous per room, and gaps follow trims', async () => {
    const h = closer.add(new NatsHistory(base()));
    await h.connect();
    const a = unique('room.a');
    const b = unique('room.b');
    const offsetsA: number[] = [];
    for (let i = 0; i < 5; i++) {
      offsetsA.push((await h.append(a, bytes(`a${i}`))).offset);
      await h.append(b, bytes(`b${i}`));
    }
    expect(offsetsA.every((o, i) => i === 0 || o === (offsetsA[i - 1] as number) + 2)).toBe(true);
    // maxLength 3: a0 and a1 are gone; a reader at a1 missed nothing, a reader at a0 did.
    expect((await h.read(a, offsetsA[1] as number)).gap).toBe(false);
    expect((await h.read(a, offsetsA[0] as number)).gap).toBe(true);
    const r = await h.read(a, 0);
    expect(r.entries.map((e) => text(e.payload))).toEqual(['a2', 'a3', 'a4']);
    expect(r.top).toBe(offsetsA[4]);
    expect(await h.position(a)).toEqual({ offset: offsetsA[4], epoch: r.epoch });
  });

  it('lease tokens keep growing even after the lease key is purged (revisions never rewind)', async () => {
    const r = closer.add(new NatsRegistry(base()));
    await r.connect();
    const name = unique('lease-p');
    const first = await r.acquireLease(name, 'one', 5000);
    expect(first).not.toBeNull();
    const nc = await connect({ servers: url as string });
    closer.defer(() => nc.close());
    const { Kvm } = await import('@nats-io/kv');
    const kv = await new Kvm(nc).open(buckets[1] as string);
    await kv.purge(`l.${encodeToken(name)}`); // an operator wipes the key
    const second = await r.acquireLease(name, 'two', 5000);
    expect(second!.token).toBeGreaterThan(first!.token);
    await r.releaseLease(second!);
  });

  it('registry: an expired record is purged by list() and watchers hear it left on timeout', async () => {
    const [a, b] = [closer.add(new NatsRegistry(base())), closer.add(new NatsRegistry(base()))];
    await Promise.all([a.connect(), b.connect()]);
    const events: RegistryEvent[] = [];
    const stop = b.watch((e) => events.push(e));
    closer.defer(async () => stop());
    const nodeId = unique('node-t');
    await waitFor(async () => {
      // the watcher may take a moment to start: register until it hears the join
      await a.register(makeNode(nodeId), 300);
      return events.some((e) => e.type === 'joined' || e.type === 'updated');
    }, 5000, 50);
    await waitFor(async () => !(await a.list()).some((n) => n.id === nodeId), 5000, 50);
    await waitFor(() => events.some((e) => e.type === 'left' && e.nodeId === nodeId && e.reason === 'timeout'));
    await rejectsWithCode(a.register(makeNode(nodeId), 120_000), 'CONFIG_INVALID'); // above registry.maxAgeMs
  });
});
