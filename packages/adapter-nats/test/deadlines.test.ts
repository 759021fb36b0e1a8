import { bytes, Closer, CountingObserver, makeNode, makeSession, outcome, serviceUrl, TcpProxy, text, unique, waitFor } from '@switchyard/core/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createNatsAdapter, NatsBus } from '../src/index.js';
import { dropStreams, runId } from './helpers.js';

const url = await serviceUrl('nats');
const id = runId();
const names = {
  prefix: `deadline${id}`,
  history: { stream: `SYTEST_DEADLINE_${id}`, epochBucket: `sytest_deadline_epochs_${id}`, storage: 'memory' as const },
  registry: { bucket: `sytest_deadline_registry_${id}`, storage: 'memory' as const },
  sessions: { bucket: `sytest_deadline_sessions_${id}`, storage: 'memory' as const },
};
/** Small values so a silent peer is noticed quickly; the assertions only wait for events. */
const quick = { ...names, pingIntervalMs: 200, maxPingOut: 2, requestTimeoutMs: 800, reconnectTimeWaitMs: 50, connectTimeoutMs: 1000 };
const PATIENCE = 15_000;
/** Codes a call may fail with when its peer is silent: never a hang, never an untyped error. */
const TYPED = ['TIMEOUT', 'BUS_UNAVAILABLE'];



describe.skipIf(!url)('nats adapter with a silent peer (TcpProxy blackhole)', () => {
  const closer = new Closer();
  const target = new URL(url as string);
  const startProxy = async () => {
    const proxy = await TcpProxy.start({ target: { host: target.hostname, port: Number(target.port || 4222) } });
    return { proxy, servers: `nats://127.0.0.1:${proxy.port}` };
  };
  afterEach(() => closer.closeAll());
  afterAll(() => dropStreams(url as string, [names.history.stream], [names.history.epochBucket, names.registry.bucket, names.sessions.bucket]));

  it('registry, session and history calls reject with a typed error instead of hanging, and work again after pass()', async () => {
    const { proxy, servers } = await startProxy();
    const counts = new CountingObserver();
    const adapter = createNatsAdapter({ ...quick, servers });
    closer.defer(() => adapter.close());
    closer.defer(() => proxy.close());
    adapter.instrument(counts);
    await adapter.connect();
    const { registry, sessions, history, bus } = adapter;
    const node = makeNode(unique('silent'));
    const stream = unique('room.silent');
    const session = makeSession(unique('s'), node.id);
    await registry.register(node, 10_000);
    await sessions.put(session, 10_000);
    await history.append(stream, bytes('before'));
    // One watch is known to be live before the blackhole; the other is still being set up when it starts.
    const live: string[] = [];
    const late: string[] = [];
    const watching = [
      registry.watch((e) => e.type !== 'left' && live.push(e.node.id)),
    ];
    await waitFor(async () => {
      await registry.register(node, 10_000);
      return live.length > 0;
    }, PATIENCE, 100);
    watching.push(registry.watch((e) => e.type !== 'left' && late.push(e.node.id)));
    closer.defer(async () => watching.forEach((stop) => stop()));

    proxy.blackhole();
    const calls = await Promise.all([
      outcome(registry.list()),
      outcome(registry.heartbeat(node, 10_000)),
      outcome(registry.acquireLease(unique('lease'), node.id, 5000)),
      outcome(sessions.get(session.id)),
      outcome(sessions.byNode(node.id)),
      outcome(sessions.setAffinity('k', node.id, 1000)),
      outcome(history.append(stream, bytes('during'))),
      outcome(history.read(stream, 0)),
      outcome(history.position(stream)),
    ]);
    for (const code of calls) expect(TYPED).toContain(code);
    await waitFor(() => bus.status !== 'connected', PATIENCE);

    proxy.pass();
    await waitFor(() => bus.status === 'connected', PATIENCE);
    await waitFor(() => registry.list().then((nodes) => nodes.some((n) => n.id === node.id)), PATIENCE);
    await waitFor(() => history.read(stream, 0).then((r) => r.entries.length >= 1), PATIENCE);
    await waitFor(() => sessions.get(session.id).then((s) => s?.id === session.id), PATIENCE);
    // The watch started before the blackhole still reports.
    const later = makeNode(unique('later'));
    await registry.register(later, 10_000);
    // (a watch resumes through its consumer's own recovery, which a loaded machine can slow down a lot)
    await waitFor(() => live.includes(later.id) && late.includes(later.id), 3 * PATIENCE);
  }, 120_000);

  it('connect() through a silent peer fails with a typed error instead of hanging', async () => {
    const { proxy, servers } = await startProxy();
    closer.defer(() => proxy.close());
    proxy.blackhole();
    const bus = closer.add(new NatsBus({ ...quick, servers }));
    const code = await outcome(bus.connect());
    expect(TYPED).toContain(code);
    expect(bus.status).toBe('idle');
  });

  it('the bus leaves connected, comes back after pass(), keeps its subscription and loses no publish silently', async () => {
    const { proxy, servers } = await startProxy();
    const counts = new CountingObserver();
    const bus = closer.add(new NatsBus({ ...quick, servers }));
    const outside = closer.add(new NatsBus({ ...names, servers: url as string }));
    closer.defer(() => proxy.close());
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
    for (let i = 0; i < 5; i++) publish(`early-${i}`);
    // A subscribe made while the server is silent settles (its confirmation has a deadline) and counts after the heal.
    const second = unique('room.second');
    const onSecond: string[] = [];
    const subscribed = outcome(bus.subscribe(second, (p) => onSecond.push(text(p))));
    await waitFor(() => bus.status !== 'connected', PATIENCE);
    expect(bus.status).toBe('reconnecting');
    for (let i = 0; i < 5; i++) publish(`late-${i}`);
    expect(bus.buffered).toBeGreaterThan(0);

    proxy.pass();
    await waitFor(() => bus.status === 'connected', PATIENCE);
    await outside.publish(topic, bytes('after'));
    await waitFor(() => inside.includes('after'), PATIENCE);
    expect(await subscribed).toBe('ok');
    await waitFor(async () => {
      await outside.publish(second, bytes('second'));
      return onSecond.includes('second');
    }, PATIENCE, 200);

    const settled = new Map<string, string>();
    for (const [id, p] of results) settled.set(id, await p);
    for (const [id, code] of settled) if (code !== 'ok') expect(TYPED, id).toContain(code);
    const accepted = [...settled].filter(([, code]) => code === 'ok').map(([id]) => id);
    expect(accepted.filter((id) => id.startsWith('late-'))).toHaveLength(5);
    await waitFor(() => accepted.every((id) => seen.includes(id)), PATIENCE);
    expect(counts.get('publish_dropped')).toBe(0);
    expect(counts.get('disconnect')).toBeGreaterThanOrEqual(1);
    expect(counts.get('reconnect')).toBeGreaterThanOrEqual(1);
  });
});
