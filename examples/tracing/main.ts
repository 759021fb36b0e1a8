/**
 * One trace across two nodes: an application span on one node sends to a room; the client in
 * that room is connected to the other node. With an OpenTelemetry SDK registered, the node
 * opens a PRODUCER span for the publish, the trace context travels in the envelope's headers,
 * and the other node opens a CONSUMER span, its child, for the delivery. Every span is printed
 * as it ends, then the trace as a tree.
 *
 *   node --conditions=@switchyard/source --import tsx examples/tracing/main.ts
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { WebSocket } from 'ws';
import { MemoryHub, createCluster } from '@switchyard/core';
import { createNode, type SwitchyardNode } from '@switchyard/transport-ws';
import { createClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';

// 1. The SDK, as an application registers it (before the nodes start): here a console exporter
//    printing one line per span; in production an OTLP exporter behind a BatchSpanProcessor.
const spans: ReadableSpan[] = [];
const consoleLines: SpanExporter = {
  export(batch, done) {
    for (const s of batch) {
      spans.push(s);
      const node = s.attributes['messaging.client.id'] ?? '-';
      console.log(`span ${s.name} kind=${SpanKind[s.kind]} trace=${s.spanContext().traceId} span=${s.spanContext().spanId} parent=${s.parentSpanContext?.spanId ?? '-'} node=${String(node)}`);
    }
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(consoleLines)] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(provider);

// 2. Two nodes (one process on an in-memory hub here; separate processes on Redis work the same).
const hub = new MemoryHub();
const nodes: SwitchyardNode[] = [];
for (const id of ['node-a', 'node-b']) {
  const cluster = createCluster({ hub, nodeId: id, heartbeatIntervalMs: 200, nodeTimeoutMs: 1000 });
  const node = createNode({ cluster, port: 0, authenticate: () => ({ userId: 'reader' }) });
  await node.start();
  nodes.push(node);
}
while (nodes.some((n) => n.cluster.healthyNodes().length < 2)) await new Promise((r) => setTimeout(r, 50));

// 3. A client in room 'lobby' on one node; the application sends from the other.
const client = createClient({ url: (nodes[1] as SwitchyardNode).url, WebSocket: WebSocket as unknown as WebSocketConstructor });
const lobby = client.room('lobby');
const subscribed = new Promise((resolve) => lobby.once('subscribed', resolve));
const received = new Promise((resolve) => lobby.once('message', resolve));
await client.ready();
await subscribed;
const sender = nodes.find((n) => n.id !== client.connection?.node) as SwitchyardNode;

const tracer = trace.getTracer('tracing-example');
await tracer.startActiveSpan('announce', async (span) => {
  await sender.to('lobby').send('chat', { text: 'hello from the other node' }); // a PRODUCER span, child of 'announce'
  span.end();
});
await received;
// the delivery span ended when node b handed the message to its sockets, before the client got it
while (!spans.some((s) => s.kind === SpanKind.CONSUMER)) await new Promise((r) => setTimeout(r, 20));

// 4. The trace as a tree: announce -> switchyard publish room (sender) -> switchyard deliver room (client's node).
const traceId = spans.find((s) => s.name === 'announce')?.spanContext().traceId;
const ofTrace = spans.filter((s) => s.spanContext().traceId === traceId);
const print = (parent: string | undefined, depth: number): void => {
  for (const s of ofTrace.filter((x) => x.parentSpanContext?.spanId === parent)) {
    console.log(`${'  '.repeat(depth)}${s.name} (${SpanKind[s.kind]}) on ${String(s.attributes['messaging.client.id'] ?? 'the application')}`);
    print(s.spanContext().spanId, depth + 1);
  }
};
console.log(`trace ${traceId}`);
print(undefined, 1);

client.close();
await Promise.all(nodes.map((n) => n.close({ graceMs: 0 })));
await provider.shutdown();
