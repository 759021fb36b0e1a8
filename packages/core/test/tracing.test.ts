/**
 * OpenTelemetry tracing with the real SDK: a publish is a PRODUCER span whose W3C trace context
 * travels in the envelope's headers; each node that delivers it opens a CONSUMER span, its child.
 * Without an SDK (or with `tracing: false`) nothing is recorded and no header is added.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createCluster, MemoryHub, type ClusterNode, type DeliverEnvelope, type Logger } from '../src/index.js';
import { EnvelopeCodec, historyStream, MemoryBus, Topics } from '../src/adapter.js';
import { startTracing } from '../src/observability/tracing.js';
import { Closer, rejectsWithCode, waitFor } from '../src/testing/index.js';

const closer = new Closer();
afterEach(async () => {
  await closer.closeAll();
  trace.disable();
  context.disable();
});

/** The SDK as an application registers it, spans kept in memory. */
function registerSdk(global = true): { exporter: InMemorySpanExporter; provider: BasicTracerProvider } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (global) trace.setGlobalTracerProvider(provider);
  closer.defer(() => provider.shutdown());
  return { exporter, provider };
}

function node(hub: MemoryHub, id: string, extra: Parameters<typeof createCluster>[0] = {}): ClusterNode {
  const n = createCluster({ hub, nodeId: id, heartbeatIntervalMs: 50, nodeTimeoutMs: 3000, ...extra });
  closer.defer(() => n.stop());
  return n;
}

/** Two started nodes; `b` receives room `r`, and what it delivers is collected. */
async function pair(extra: Parameters<typeof createCluster>[0] = {}) {
  const hub = new MemoryHub();
  const a = node(hub, 'a', extra);
  const b = node(hub, 'b', extra);
  await Promise.all([a.start(), b.start()]);
  const got: Array<{ envelope: DeliverEnvelope; activeSpanId: string | undefined }> = [];
  b.on('deliver', (envelope) => got.push({ envelope, activeSpanId: trace.getActiveSpan()?.spanContext().spanId }));
  await b.acquire(Topics.room('r'));
  return { hub, a, b, got };
}

/** Envelopes as they travel on the bus, read by an outside subscriber. */
async function spy(hub: MemoryHub, topic: string): Promise<DeliverEnvelope[]> {
  const bus = closer.add(new MemoryBus({ hub }));
  await bus.connect();
  const codec = new EnvelopeCodec({ nodeId: 'spy' });
  const seen: DeliverEnvelope[] = [];
  await bus.subscribe(topic, (bytes) => {
    const d = codec.decode(bytes, topic);
    if (d.ok && d.envelope.type === 'deliver') seen.push(d.envelope);
  });
  return seen;
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

describe('tracing with an OpenTelemetry SDK', () => {
  it('the publish on node a and the delivery on node b are one trace: b’s span is the child of a’s', async () => {
    const { exporter } = registerSdk();
    const { hub, a, got } = await pair();
    const wire = await spy(hub, Topics.room('r'));
    await a.publish({ kind: 'room', room: 'r' }, 'hello');
    await waitFor(() => got.length === 1 && wire.length === 1);
    await waitFor(() => named(exporter.getFinishedSpans(), 'switchyard deliver room').length === 1);

    const [publish] = named(exporter.getFinishedSpans(), 'switchyard publish room');
    const [deliver] = named(exporter.getFinishedSpans(), 'switchyard deliver room');
    if (!publish || !deliver) throw new Error('missing spans');
    const envelope = got[0]?.envelope as DeliverEnvelope;
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(deliver.kind).toBe(SpanKind.CONSUMER);
    expect(deliver.spanContext().traceId).toBe(publish.spanContext().traceId);
    expect(deliver.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(deliver.parentSpanContext?.isRemote).toBe(true);
    expect(publish.attributes).toMatchObject({
      'messaging.system': 'switchyard',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'room.r',
      'messaging.message.id': envelope.id,
      'messaging.client.id': 'a',
    });
    expect(deliver.attributes).toMatchObject({
      'messaging.system': 'switchyard',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'room.r',
      'messaging.message.id': envelope.id,
      'messaging.client.id': 'b',
      'switchyard.publisher.id': 'a',
    });
    // the trace context is in the envelope on the bus, and b's listeners run inside the delivery span
    const sc = publish.spanContext();
    expect(wire[0]?.headers?.traceparent).toBe(`00-${sc.traceId}-${sc.spanId}-01`);
    expect(got[0]?.activeSpanId).toBe(deliver.spanContext().spanId);
  });

  it('a publish inside an active span continues its trace; caller headers are kept', async () => {
    const { exporter, provider } = registerSdk();
    const { a, got } = await pair();
    const request = provider.getTracer('app').startSpan('handle request');
    await context.with(trace.setSpan(context.active(), request), () => a.publish({ kind: 'room', room: 'r' }, 'in a request', { headers: { 'x-app': '1' } }));
    request.end();
    await waitFor(() => named(exporter.getFinishedSpans(), 'switchyard deliver room').length === 1);
    const [publish] = named(exporter.getFinishedSpans(), 'switchyard publish room');
    const [deliver] = named(exporter.getFinishedSpans(), 'switchyard deliver room');
    expect(publish?.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(publish?.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(deliver?.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(got[0]?.envelope.headers).toMatchObject({ 'x-app': '1', traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/) });
  });

  it('a trace context the caller put in the headers is continued when no span is active', async () => {
    const { exporter } = registerSdk();
    const { a } = await pair();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await a.publish({ kind: 'room', room: 'r' }, 'from upstream', { headers: { traceparent, tracestate: 'vendor=x' } });
    await waitFor(() => named(exporter.getFinishedSpans(), 'switchyard deliver room').length === 1);
    const [publish] = named(exporter.getFinishedSpans(), 'switchyard publish room');
    const [deliver] = named(exporter.getFinishedSpans(), 'switchyard deliver room');
    expect(publish?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(publish?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(publish?.spanContext().traceState?.get('vendor')).toBe('x');
    expect(deliver?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
  });

  it('the publishing node’s own delivery, and a room with history, are children of the publish span too', async () => {
    const { exporter } = registerSdk();
    const hub = new MemoryHub();
    const a = node(hub, 'a', { history: true });
    const b = node(hub, 'b', { history: true });
    await Promise.all([a.start(), b.start()]);
    const onB: DeliverEnvelope[] = [];
    b.on('deliver', (e) => onB.push(e));
    await Promise.all([a.followRoom('h'), b.followRoom('h')]);
    const r = await a.publish({ kind: 'room', room: 'h' }, 'kept', { history: true });
    await waitFor(() => onB.length === 1 && named(exporter.getFinishedSpans(), 'switchyard deliver room').length === 2);
    const [publish] = named(exporter.getFinishedSpans(), 'switchyard publish room');
    const delivers = named(exporter.getFinishedSpans(), 'switchyard deliver room');
    expect(delivers.map((s) => s.attributes['messaging.client.id']).sort()).toEqual(['a', 'b']);
    for (const d of delivers) {
      expect(d.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
      expect(d.attributes['switchyard.history.offset']).toBe(r.offset);
    }
    expect(publish?.attributes['switchyard.history.offset']).toBe(r.offset);
    // the history record keeps the trace context with the message
    const read = await a.history?.read(historyStream('h'), 0);
    expect(new TextDecoder().decode(read?.entries[0]?.payload)).toContain(`"traceparent":"00-${publish?.spanContext().traceId}-`);
  });

  it('a publish that fails ends its span with an error status', async () => {
    const { exporter } = registerSdk();
    const { a } = await pair();
    await rejectsWithCode(a.publish({ kind: 'room', room: 'r' }, 'x', { history: true }), 'UNSUPPORTED');
    const [publish] = named(exporter.getFinishedSpans(), 'switchyard publish room');
    expect(publish?.status.code).toBe(SpanStatusCode.ERROR);
    expect(publish?.events.some((e) => e.name === 'exception')).toBe(true);
  });

  it('tracing: false records nothing and adds no header, even with an SDK registered', async () => {
    const { exporter } = registerSdk();
    const { hub, a, got } = await pair({ tracing: false });
    const wire = await spy(hub, Topics.room('r'));
    await a.publish({ kind: 'room', room: 'r' }, 'quiet');
    await waitFor(() => got.length === 1 && wire.length === 1);
    expect(wire[0]?.headers).toBeUndefined();
    expect(got[0]?.activeSpanId).toBeUndefined();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('tracing: { tracerProvider } records into that provider without a global registration', async () => {
    const { exporter, provider } = registerSdk(false);
    const { hub, a, got } = await pair({ tracing: { tracerProvider: provider } });
    const wire = await spy(hub, Topics.room('r'));
    await a.publish({ kind: 'room', room: 'r' }, 'explicit');
    await waitFor(() => got.length === 1 && wire.length === 1);
    await waitFor(() => exporter.getFinishedSpans().length === 2);
    expect(wire[0]?.headers?.traceparent).toMatch(/^00-/);
    expect(exporter.getFinishedSpans().map((s) => s.name).sort()).toEqual(['switchyard deliver room', 'switchyard publish room']);
  });
});

describe('tracing without an SDK', () => {
  it('no provider registered: no traceparent on the bus, no active span in listeners', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { hub, a, got } = await pair();
    const wire = await spy(hub, Topics.room('r'));
    await a.publish({ kind: 'room', room: 'r' }, 'untraced', { headers: { 'x-app': '1' } });
    await waitFor(() => got.length === 1 && wire.length === 1);
    expect(wire[0]?.headers).toEqual({ 'x-app': '1' });
    expect(got[0]?.activeSpanId).toBeUndefined();
    // an SDK registered after start changes nothing for running nodes (tracing is decided at start)
    const { exporter } = registerSdk();
    await a.publish({ kind: 'room', room: 'r' }, 'still untraced');
    await waitFor(() => got.length === 2);
    expect(got[1]?.envelope.headers).toBeUndefined();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('startTracing answers null when nothing would record: off, no provider, or the API not installed', async () => {
    const logged: string[] = [];
    const logger: Logger = { debug: (m) => logged.push(String(m)), info: () => undefined, warn: (m) => logged.push(`warn ${String(m)}`), error: () => undefined };
    const node = { nodeId: 'n', logger };
    expect(await startTracing(false, node)).toBeNull();
    expect(await startTracing(true, node)).toBeNull();
    expect(logged.pop()).toMatch(/no OpenTelemetry tracer provider/);
    const missing = '@switchyard/not-an-installed-package';
    expect(await startTracing(true, node, () => import(missing))).toBeNull();
    expect(logged.pop()).toMatch(/@opentelemetry\/api is not installed/);
    const { provider } = registerSdk(false);
    expect(await startTracing({ tracerProvider: provider }, node)).not.toBeNull();
  });

  it('a tracing option that is not a boolean or a provider is refused with CONFIG_INVALID', () => {
    const refused = /invalid configuration: tracing: expected true, false or \{ tracerProvider \}/;
    expect(() => createCluster({ tracing: { tracerProvider: 5 as never } })).toThrow(refused);
    expect(() => createCluster({ tracing: { provider: {} } as never })).toThrow(/tracing\.provider: unknown option \(known: tracerProvider\)/);
    expect(() => createCluster({ tracing: 'on' as never })).toThrow(refused);
  });
});
