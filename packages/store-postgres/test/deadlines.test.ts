import { bytes, Closer, CountingObserver, makeNode, makeSession, outcome, serviceUrl, TcpProxy, text, unique, waitFor } from '@switchyard/core/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPostgresAdapter, PostgresBus, type PostgresOptions } from '../src/index.js';
import { dropSchema, randomSchema } from './helpers.js';

const url = await serviceUrl('postgres');
const schema = randomSchema('deadline');
/** Small values so a silent peer is noticed quickly; the assertions only wait for events. */
const quick = {
  schema,
  queryTimeoutMs: 1500,
  connectTimeoutMs: 1500,
  sweepIntervalMs: 200,
  queryRetryDelayMs: 50,
  // Not smaller: a loaded 2-core machine stalls for hundreds of ms now and then, and a spurious
  // timeout before the blackhole would muddle what the test looks at.
  bus: { pingIntervalMs: 200, pingTimeoutMs: 1000, reconnectMinDelayMs: 50, reconnectMaxDelayMs: 200 },
} satisfies Partial<PostgresOptions>;
const PATIENCE = 15_000;
/** Codes a call may fail with when its peer is silent: never a hang, never an untyped error. */
const TYPED = ['TIMEOUT', 'BUS_UNAVAILABLE'];


describe.skipIf(!url)('postgres adapters with a silent peer (TcpProxy blackhole)', () => {
  const closer = new Closer();
  const target = new URL(url as string);
  const startProxy = async () => {
    const proxy = await TcpProxy.start({ target: { host: target.hostname, port: Number(target.port || 5432) } });
    const via = new URL(url as string);
    via.hostname = '127.0.0.1';
    via.port = String(proxy.port);
    return { proxy, connectionString: via.toString() };
  };
  afterEach(() => closer.closeAll());
  afterAll(() => dropSchema(url as string, schema));

  it('registry, session and history calls reject with TIMEOUT instead of hanging; both LISTEN connections notice and come back', async () => {
    const { proxy, connectionString } = await startProxy();
    const obs = new CountingObserver();
    const { bus, registry, sessions, history } = createPostgresAdapter({ ...quick, connectionString });
    for (const port of [bus, registry, sessions, history]) closer.add(port);
    closer.defer(() => proxy.close());
    for (const port of [bus, registry, sessions, history]) {
      port.instrument(obs);
      await port.connect();
    }
    const node = makeNode(unique('silent'));
    const session = makeSession(unique('s'), node.id);
    const stream = unique('room.silent');
    const joined: string[] = [];
    closer.defer(async () => stop());
    const stop = registry.watch((e) => e.type !== 'left' && joined.push(e.node.id));
    await waitFor(() => registry.watchStatus === 'connected', PATIENCE);
    await registry.register(node, 30_000);
    await sessions.put(session, 30_000);
    await history.append(stream, bytes('before'));

    proxy.blackhole();
    const calls = await Promise.all([
      outcome(registry.list()),
      outcome(registry.heartbeat(node, 30_000)),
      outcome(registry.acquireLease(unique('lease'), node.id, 5000)),
      outcome(sessions.get(session.id)),
      outcome(sessions.byNode(node.id)),
      outcome(sessions.setAffinity('k', node.id, 1000)),
      outcome(history.append(stream, bytes('during'))),
      outcome(history.read(stream, 0)),
      outcome(history.reset(unique('room.other'))),
    ]);
    for (const code of calls) expect(code).toBe('TIMEOUT');
    await waitFor(() => bus.status !== 'connected' && registry.watchStatus !== 'connected', PATIENCE);
    expect(obs.get('disconnect')).toBeGreaterThanOrEqual(2);

    proxy.pass();
    await waitFor(() => bus.status === 'connected' && registry.watchStatus === 'connected', PATIENCE);
    await waitFor(() => registry.list().then((nodes) => nodes.some((n) => n.id === node.id)), PATIENCE);
    await waitFor(() => sessions.get(session.id).then((s) => s?.id === session.id), PATIENCE);
    await waitFor(() => history.read(stream, 0).then((r) => r.entries.length >= 1), PATIENCE);
    // The registry's LISTEN is back: a join written now reaches the watcher.
    const later = makeNode(unique('later'));
    await registry.register(later, 30_000);
    await waitFor(() => joined.includes(later.id), PATIENCE);
    expect(obs.get('resubscribe')).toBeGreaterThanOrEqual(1);
  });

  it('connect() through a silent peer fails with a typed error instead of hanging', async () => {
    const { proxy, connectionString } = await startProxy();
    closer.defer(() => proxy.close());
    proxy.blackhole();
    const bus = closer.add(new PostgresBus({ ...quick, connectionString }));
    const code = await outcome(bus.connect());
    expect(TYPED).toContain(code);
    expect(bus.status).toBe('idle');
  });

  it('the bus leaves connected, comes back after pass(), restores its LISTEN and loses no publish silently', async () => {
    const { proxy, connectionString } = await startProxy();
    const obs = new CountingObserver();
    const bus = closer.add(new PostgresBus({ ...quick, connectionString }));
    const outside = closer.add(new PostgresBus({ schema, connectionString: url as string }));
    closer.defer(() => proxy.close());
    bus.instrument(obs);
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
    // Before the silence is noticed these go out on the connection (and wait on it) ...
    for (let i = 0; i < 5; i++) publish(`early-${i}`);
    await waitFor(() => bus.status !== 'connected', PATIENCE);
    expect(bus.status, 'status after the silence was noticed').toBe('reconnecting');
    // ... after it they wait in the buffer.
    for (let i = 0; i < 5; i++) publish(`late-${i}`);

    proxy.pass();
    await waitFor(() => bus.status === 'connected', PATIENCE);
    // The subscription made before the blackhole receives a new publish without help.
    await outside.publish(topic, bytes('after'));
    await waitFor(() => inside.includes('after'), PATIENCE);

    // Every publish made during the blackhole was delivered, or rejected with a typed error.
    const settled = new Map<string, string>();
    for (const [id, p] of results) settled.set(id, await p);
    const report = JSON.stringify({ settled: Object.fromEntries(settled), counts: Object.fromEntries(obs.counts) });
    for (const code of settled.values()) if (code !== 'ok') expect(TYPED, report).toContain(code);
    const accepted = [...settled].filter(([, code]) => code === 'ok').map(([id]) => id);
    expect(accepted.filter((id) => id.startsWith('late-')), report).toHaveLength(5);
    await waitFor(() => accepted.every((id) => seen.includes(id) && inside.includes(id)), PATIENCE);
    expect(obs.get('publish_dropped'), report).toBe(0);
    expect(obs.get('disconnect'), report).toBeGreaterThanOrEqual(1);
    expect(obs.get('reconnect'), report).toBeGreaterThanOrEqual(1);
    expect(obs.get('resubscribe'), report).toBeGreaterThanOrEqual(1);
  });
});
