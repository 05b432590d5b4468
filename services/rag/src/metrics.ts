import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Stage = 'chunk' | 'embed' | 'search' | 'rerank' | 'generate' | 'upsert' | 'delete';
export type Dependency = 'milvus' | 'tei-embed' | 'tei-rerank' | 'gateway';

/** Prometheus series of the service, on a registry of its own (one per app instance). */
export class Metrics {
  readonly registry = new Registry();

  readonly stageDuration = new Histogram({
    name: 'rag_stage_duration_seconds',
    help: 'Latency of each pipeline stage (chunk, embed, search, rerank, generate, upsert, delete)',
    labelNames: ['stage'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly stageErrors = new Counter({
    name: 'rag_stage_errors_total',
    help: 'Failed pipeline stages, by stage and dependency',
    labelNames: ['stage', 'dependency'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: 'rag_request_duration_seconds',
    help: 'End-to-end latency by route and status code class',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: 'rag_tokens_total',
    help: 'Chat model tokens through the gateway, by kind (prompt|completion), as reported by the gateway',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly chunks = new Counter({
    name: 'rag_ingested_chunks_total',
    help: 'Chunks upserted (ingest) and stale chunks deleted',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });

  readonly documents = new Counter({
    name: 'rag_ingested_documents_total',
    help: 'Documents ingested, by outcome (ok|error)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly answers = new Counter({
    name: 'rag_answers_total',
    help: 'Answers, by outcome (answered|no_context)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** no label carries key material: outcome only */
  readonly authRequests = new Counter({
    name: 'rag_auth_requests_total',
    help: 'Authenticated /v1 requests by outcome (ok|missing_key|invalid_key|gateway_unavailable|forbidden)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly authLookups = new Counter({
    name: 'rag_auth_gateway_lookups_total',
    help: 'API key checks sent to the gateway (GET /key/info), by result (accepted|rejected|unavailable); cache hits are not counted',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly stage: Record<Stage, ReturnType<Histogram<'stage'>['labels']>>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    this.stage = Object.fromEntries(
      (['chunk', 'embed', 'search', 'rerank', 'generate', 'upsert', 'delete'] as const).map((s) => [s, this.stageDuration.labels({ stage: s })]),
    ) as Metrics['stage'];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
