import { bytes, Closer, CountingObserver, makeNode, outcome, serviceUrl, TcpProxy, text, unique, waitFor } from '@switchyard/core/testing';
import { deleteKeys } from './support/keys.js';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RedisBus, RedisHistory, RedisRegistry, RedisSessionStore } from '../src/index.js';

const url = await serviceUrl('redis');
const keyPrefix = `sy-deadline-${randomBytes(4).toString('hex')}:`;
/** Small values so a silent peer is noticed quickly; the assertions only wait for events. */
const quick = { keyPrefix, commandTimeoutMs: 500, healthCheckIntervalMs: 200, reconnectMinDelayMs: 20, reconnectMaxDelayMs: 200, connectTimeoutMs: 2000 };
const PATIENCE = 15_000;
/** Codes a call may fail with when its peer is silent: never a hang, never an untyped error. */
const TYPED = ['TIMEOUT', 'BUS_UNAVAILABLE'];



describe.skipIf(!url)('redis adapter with a silent peer (TcpProxy blackhole)', () => {
  const closer = new Closer();
  const target = new URL(url as string);
  const startProxy = async () => {
    const proxy = await TcpProxy.start({ target: { host: target.hostname, port: Number(target.port || 6379) } });
    return { proxy, url: `redis://127.0.0.1:${proxy.port}` };
  };
  afterEach(() => closer.closeAll());
  afterAll(async () => {
    await deleteKeys(url as string, keyPrefix);
  });

  it('registry, session and history calls reject with a typed error instead of hanging, and work again after pass()', async () => {
    const { proxy, url: via } = await startProxy();
    const counts = new CountingObserver();
    const registry = closer.add(new RedisRegistry({ ...quick, url: via, registryReconcileMs: 0 }));
    const sessions = closer.add(new RedisSessionStore({ ...quick, url: via }));
    const history = closer.add(new RedisHistory({ ...quick, url: via }));
    // Closed first on cleanup, so a failed test does not leave clients waiting on held sockets.
    closer.defer(() => proxy.close());
    for (const port of [registry, sessions, history]) {
      port.instrument(counts);
      await port.connect();
    }
    const stopWatching = registry.watch(() => undefined);
    closer.defer(async () => stopWatching());
    const node = makeNode(unique('silent'));
    const stream = unique('room.silent');
    await registry.register(node, 10_000);
    await history.append(stream, bytes('before'));

    proxy.blackhole();
    const calls = await Promise.all([
      outcome(registry.list()),
      outcome(registry.heartbeat(node, 10_000)),
      outcome(sessions.get('nobody')),
      outcome(sessions.setAffinity('k', node.id, 1000)),
      outcome(history.append(stream, bytes('during'))),
      outcome(history.read(stream, 0)),
    ]);
    for (const code of calls) expect(TYPED).toContain(code);
    // Each connection (three command clients and the registry's watcher) is found silent and dropped.
    await waitFor(() => counts.get('disconnect') >= 4, PATIENCE);

    proxy.pass();
    await waitFor(() => registry.list().then((nodes) => nodes.some((n) => n.id === node.id)), PATIENCE);
    await waitFor(() => history.read(stream, 0).then((r) => r.entries.length >= 1), PATIENCE);
    await waitFor(() => sessions.getAffinity('nobody-key').then(() => true), PATIENCE);
    // The watcher subscribed again on its new connection.
    await waitFor(() => counts.get('resubscribe') >= 1, PATIENCE);
  });

  it('connect() through a silent peer fails with a typed error instead of hanging', async () => {
    const { proxy, url: via } = await startProxy();
    closer.defer(() => proxy.close());
    proxy.blackhole();
    const bus = closer.add(new RedisBus({ ...quick, url: via }));
    const sessions = closer.add(new RedisSessionStore({ ...quick, url: via }));
    const codes = await Promise.all([outcome(bus.connect()), outcome(sessions.connect())]);
    for (const code of codes) expect(TYPED).toContain(code);
    expect(bus.status).toBe('idle');
  });

  it('the bus leaves connected, comes back after pass(), restores its subscription and loses no publish silently', async () => {
    const { proxy, url: via } = await startProxy();
    const counts = new CountingObserver();
    const bus = closer.add(new RedisBus({ ...quick, url: via }));
    const outside = closer.add(new RedisBus({ keyPrefix, url: url as string }));
    closer.defer(async () => proxy.close());
    bus.instrument(counts);
    await bus.connect();
    await outside.connect();
    const topic = unique('room.silent');
    const inside: string[] = [];
    const seen: string[] = [];
    await bus.subscribe(topic, (p) => inside.push(text(p)));
    await outside.subscribe(topic, (p) => seen.push(text(p)));
    await outside.publish(topic, bytes('before'));
    await waitFor(() => inside.includes('before'), PATIENCE);

    proxy.blackhole();
    const results = new Map<string, Promise<string>>();
    const publish = (id: string) => results.set(id, outcome(bus.publish(topic, bytes(id))));
    // Before the silence is noticed these go out directly (and may time out) ...
    for (let i = 0; i < 5; i++) publish(`early-${i}`);
    // ... once both connections are found silent (each counts a disconnect; the subscriber may be
    // noticed a moment before the publisher, while publishes still go out directly) ...
    await waitFor(() => counts.get('disconnect') >= 2, PATIENCE);
    expect(bus.status).toBe('reconnecting');
    // ... they wait in the buffer.
    const before = bus.buffered;
    for (let i = 0; i < 5; i++) publish(`late-${i}`);
    expect(bus.buffered).toBe(before + 5);

    proxy.pass();
    await waitFor(() => bus.status === 'connected', PATIENCE);
    // The subscription made before the blackhole receives a new publish without help.
    await outside.publish(topic, bytes('after'));
    await waitFor(() => inside.includes('after'), PATIENCE);

    // Every publish made during the blackhole was delivered, or rejected with a typed error.
    const settled = new Map<string, string>();
    for (const [id, p] of results) settled.set(id, await p);
    for (const [id, code] of settled) if (code !== 'ok') expect(TYPED, id).toContain(code);
    const accepted = [...settled].filter(([, code]) => code === 'ok').map(([id]) => id);
    expect(accepted.filter((id) => id.startsWith('late-'))).toHaveLength(5);
    await waitFor(() => accepted.every((id) => seen.includes(id) && inside.includes(id)), PATIENCE);
    expect(counts.get('publish_dropped')).toBe(0);
    expect(counts.get('disconnect')).toBeGreaterThanOrEqual(1);
    expect(counts.get('reconnect')).toBeGreaterThanOrEqual(1);
    expect(counts.get('resubscribe')).toBeGreaterThanOrEqual(1);
  });
});
