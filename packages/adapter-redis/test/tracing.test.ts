/**
 * Tracing over the real Redis bus: the trace context a node puts in the envelope headers
 * crosses Redis pub/sub (and Redis history), so the delivery span on the other node is the
 * child of the publish span. The rest of tracing is tested with the in-memory bus in core.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createCluster, type ClusterNode, type DeliverEnvelope } from '@switchyard/core';
import { historyStream } from '@switchyard/core/adapter';
import { Closer, serviceUrl, unique, waitFor } from '@switchyard/core/testing';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisAdapter } from '../src/index.js';

const url = await serviceUrl('redis');
const keyPrefix = `sy-tracing-${randomBytes(4).toString('hex')}:`;

describe.skipIf(!url)('tracing across nodes on Redis', () => {
  const closer = new Closer();
  afterEach(async () => {
    await closer.closeAll();
    trace.disable();
    context.disable();
  });
  afterAll(async () => {
    const redis = new Redis(url ?? '');
    const found = await redis.keys(`${keyPrefix}*`);
    if (found.length) await redis.del(...found);
    await redis.quit();
  });

  const node = (id: string): ClusterNode => {
    const n = createCluster({ adapter: createRedisAdapter({ url, keyPrefix }), nodeId: id, heartbeatIntervalMs: 100, nodeTimeoutMs: 3000 });
    closer.defer(() => n.stop());
    return n;
  };

  it('the delivery span on node b is the child of the publish span on node a, live and for a room with history', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    closer.defer(() => provider.shutdown());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);

    const [a, b] = [node(unique('a')), node(unique('b'))];
    await Promise.all([a.start(), b.start()]);
    const got: DeliverEnvelope[] = [];
    b.on('deliver', (e) => got.push(e));
    const room = unique('room');
    await b.followRoom(room);

    const r = await a.publish({ kind: 'room', room }, 'over redis', { history: true });
    await waitFor(() => got.length === 1, 10_000);
    await waitFor(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER), 10_000);

    const spans = exporter.getFinishedSpans();
    const publish = spans.find((s) => s.kind === SpanKind.PRODUCER && s.attributes['messaging.client.id'] === a.id);
    const deliver = spans.find((s) => s.kind === SpanKind.CONSUMER && s.attributes['messaging.client.id'] === b.id);
    if (!publish || !deliver) throw new Error(`missing spans: ${spans.map((s) => s.name).join(', ')}`);
    expect(deliver.spanContext().traceId).toBe(publish.spanContext().traceId);
    expect(deliver.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(deliver.attributes).toMatchObject({ 'messaging.system': 'switchyard', 'messaging.destination.name': `room.${room}`, 'messaging.message.id': got[0]?.id, 'switchyard.history.offset': r.offset });
    expect(got[0]?.headers?.traceparent).toBe(`00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-01`);

    // the Redis history entry carries the trace context with the message
    const read = await a.history?.read(historyStream(room), 0);
    expect(new TextDecoder().decode(read?.entries[0]?.payload)).toContain(publish.spanContext().spanId);
  });
});
