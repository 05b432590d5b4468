import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * OpenTelemetry wiring. Always: the W3C trace-context propagator and an AsyncLocalStorage
 * context manager, so an incoming `traceparent` (from the gateway) is the parent of every
 * outgoing call (TEI, Milvus through the SDK's trace interceptor, the gateway) even when no
 * spans are exported. When an exporter is configured (tracing.otlpEndpoint, or a test
 * exporter), a span per stage is recorded and exported.
 */
let installed: { provider?: TracerProvider } | undefined;

export interface TracingOptions {
  readonly serviceName: string;
  readonly otlpEndpoint?: string;
  /** tests: export to this exporter synchronously */
  readonly processor?: SpanProcessor;
}

export async function installTracing(opts: TracingOptions): Promise<void> {
  if (installed !== undefined) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const processors: SpanProcessor[] = [];
  if (opts.processor !== undefined) processors.push(opts.processor);
  if (opts.otlpEndpoint !== undefined) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: opts.otlpEndpoint }) as unknown as SpanExporter }));
  }
  if (processors.length === 0) {
    installed = {};
    return;
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    spanProcessors: processors,
  });
  trace.setGlobalTracerProvider(provider);
  installed = { provider };
}

export async function shutdownTracing(): Promise<void> {
  await installed?.provider?.shutdown();
}

export function tracer(): Tracer {
  return trace.getTracer('rag-service');
}

/** The context carried by incoming HTTP headers (traceparent / tracestate). */
export function extractContext(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(context.active(), headers);
}

/** Add traceparent/tracestate of the active context to outgoing headers. */
export function injectHeaders(headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers);
  return headers;
}

/** Run fn in a span named `rag.<stage>`, a child of the active context; records errors. */
export async function inSpan<T>(name: string, attrs: Record<string, string | number | boolean>, fn: (span: Span) => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes: attrs }, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.recordException(e as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e;
    } finally {
      span.end();
    }
  });
}

export { context, SpanKind };
