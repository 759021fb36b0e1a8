import type * as Otel from '@opentelemetry/api';
import type { ClusterConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { topicFor, type Address } from '../model/address.js';
import type { DeliverEnvelope } from '../model/envelope.js';
import { nextId } from '../util/id.js';
import { ENVELOPE_ID, type DeliveryOptions } from '../cluster/deliver.js';
import type { PublishOptions, PublishResult } from '../cluster/types.js';

/**
 * The `tracing` option: on with the global provider (default), off, or with a provider of its
 * own (typed structurally, so core's types do not need `@opentelemetry/api`, an optional peer).
 */
export type TracingOption = ClusterConfig['tracing'];

/**
 * Spans around a node's messages (OpenTelemetry messaging conventions): a PRODUCER span per
 * publish, whose W3C trace context travels in the envelope's `headers`, and a CONSUMER span,
 * its child, around each delivery to the local listeners on every node that receives it.
 * A node holds one only while an SDK is there to record: its absence is the one check the
 * delivery path makes.
 */
export interface Tracing {
  /** Run `send` inside a PRODUCER span, with the span's trace context added to the headers it is given. */
  publish(address: Address, options: PublishOptions, send: (options: PublishOptions) => Promise<PublishResult>): Promise<PublishResult>;
  /** Run `deliver` inside a CONSUMER span, child of the publisher's span named in `envelope.headers`. */
  deliver(envelope: DeliverEnvelope, deliver: (envelope: DeliverEnvelope) => void): void;
}

type OtelApi = typeof Otel;
const TRACER_NAME = '@switchyard/core';
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

let loaded: Promise<OtelApi | undefined> | undefined;
/** `@opentelemetry/api`, imported once per process; undefined when it is not installed. */
function importApi(): Promise<OtelApi | undefined> {
  loaded ??= import('@opentelemetry/api').then(
    (m) => m,
    () => undefined,
  );
  return loaded;
}

/**
 * The node's tracing, or null when nothing would record: `tracing: false`, `@opentelemetry/api`
 * not installed, or no tracer provider registered (nor given). Called once, at cluster start:
 * register the SDK before starting the node.
 */
export async function startTracing(
  option: TracingOption,
  node: { nodeId: string; logger: Logger },
  load: () => Promise<object | undefined> = importApi,
): Promise<Tracing | null> {
  if (option === false) return null;
  const given = typeof option === 'object' ? option.tracerProvider : undefined;
  let api: OtelApi | undefined;
  try {
    api = (await load()) as OtelApi | undefined;
  } catch {
    api = undefined;
  }
  if (!api) {
    node.logger[given ? 'warn' : 'debug']('tracing off: @opentelemetry/api is not installed');
    return null;
  }
  const provider = (given as Otel.TracerProvider | undefined) ?? api.trace.getTracerProvider();
  if (isNoop(provider)) {
    node.logger.debug('tracing off: no OpenTelemetry tracer provider is registered');
    return null;
  }
  node.logger.debug('tracing on');
  return new SpanTracing(api, provider.getTracer(TRACER_NAME), node.nodeId);
}

/** A provider that would record nothing: the API's proxy with no SDK behind it. */
function isNoop(provider: Otel.TracerProvider): boolean {
  const proxy = provider as Partial<Otel.ProxyTracerProvider>;
  return typeof proxy.getDelegateTracer === 'function' && proxy.getDelegateTracer(TRACER_NAME) === undefined;
}

class SpanTracing implements Tracing {
  constructor(
    private readonly api: OtelApi,
    private readonly tracer: Otel.Tracer,
    private readonly nodeId: string,
  ) {}

  publish(address: Address, options: PublishOptions, send: (options: PublishOptions) => Promise<PublishResult>): Promise<PublishResult> {
    const { trace, context, SpanKind, SpanStatusCode } = this.api;
    const active = context.active();
    // continue the caller's span; else a trace context the caller put in the headers; else a new trace
    const parent = !trace.getSpanContext(active) && options.headers?.traceparent ? this.extract(options.headers, active) : active;
    const id = nextId();
    const span = this.tracer.startSpan(
      `switchyard publish ${address.kind}`,
      { kind: SpanKind.PRODUCER, attributes: this.attributes(address, id, 'send', 'publish') },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    const headers = { ...options.headers };
    this.inject(ctx, span.spanContext(), headers);
    const traced: DeliveryOptions = { ...options, headers, [ENVELOPE_ID]: id };
    const failed = (err: unknown): never => {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      span.end();
      throw err;
    };
    let sent: Promise<PublishResult>;
    try {
      sent = context.with(ctx, send, undefined, traced);
    } catch (err) {
      return failed(err);
    }
    return sent.then((result) => {
      if (result.offset !== undefined) span.setAttribute('switchyard.history.offset', result.offset);
      span.end();
      return result;
    }, failed);
  }

  deliver(envelope: DeliverEnvelope, deliver: (envelope: DeliverEnvelope) => void): void {
    const { trace, context, SpanKind, ROOT_CONTEXT } = this.api;
    const parent = envelope.headers ? this.extract(envelope.headers, ROOT_CONTEXT) : ROOT_CONTEXT;
    const attributes = this.attributes(envelope.to, envelope.id, 'process', 'deliver');
    attributes['switchyard.publisher.id'] = envelope.from;
    if (envelope.offset !== undefined) attributes['switchyard.history.offset'] = envelope.offset;
    const span = this.tracer.startSpan(`switchyard deliver ${envelope.to.kind}`, { kind: SpanKind.CONSUMER, attributes }, parent);
    try {
      context.with(trace.setSpan(parent, span), deliver, undefined, envelope);
    } finally {
      span.end();
    }
  }

  private attributes(address: Address, id: string, type: 'send' | 'process', name: 'publish' | 'deliver'): Otel.Attributes {
    return {
      'messaging.system': 'switchyard',
      'messaging.operation.type': type,
      'messaging.operation.name': name,
      'messaging.destination.name': topicFor(address),
      'messaging.message.id': id,
      'messaging.client.id': this.nodeId,
      'switchyard.node.id': this.nodeId,
      'switchyard.address.kind': address.kind,
    };
  }

  /** The W3C trace context (`traceparent`, `tracestate`) of `sc` into `headers`, plus whatever the global propagator adds. */
  private inject(ctx: Otel.Context, sc: Otel.SpanContext, headers: Record<string, string>): void {
    if (!this.api.isSpanContextValid(sc)) return;
    this.api.propagation.inject(ctx, headers);
    headers.traceparent = `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
    const state = sc.traceState?.serialize();
    if (state) headers.tracestate = state;
  }

  /** The remote parent named in `headers`: the global propagator's reading, else the W3C `traceparent`. */
  private extract(headers: Record<string, string>, base: Otel.Context): Otel.Context {
    const { trace, propagation } = this.api;
    const ctx = propagation.extract(base, headers);
    if (trace.getSpanContext(ctx) !== trace.getSpanContext(base)) return ctx;
    const sc = this.parseTraceparent(headers);
    return sc ? trace.setSpanContext(ctx, sc) : ctx;
  }

  private parseTraceparent(headers: Record<string, string>): Otel.SpanContext | undefined {
    const m = TRACEPARENT.exec(headers.traceparent?.trim() ?? '');
    if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined)) return undefined;
    const sc: Otel.SpanContext = {
      traceId: m[2] as string,
      spanId: m[3] as string,
      traceFlags: parseInt(m[4] as string, 16),
      isRemote: true,
      ...(headers.tracestate ? { traceState: this.api.createTraceState(headers.tracestate) } : {}),
    };
    return this.api.isSpanContextValid(sc) ? sc : undefined;
  }
}
