import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { PassThrough, Readable } from 'node:stream';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import { pino, type Logger } from 'pino';
import { GatewayKeyAuth, type Caller } from './auth.js';
import { GatewayChat, type ChatModel } from './clients/gateway.js';
import { TeiEmbedder, TeiReranker, type Embedder, type Reranker } from './clients/tei.js';
import type { Config } from './config.js';
import { DependencyError, InputError } from './errors.js';
import {
  answerBodySchema,
  collectionParams,
  documentParams,
  documentZ,
  ingestZ,
  searchBodySchema,
  searchResponseSchema,
  tenantQuery,
  type AnswerBody,
  type IngestBody,
  type SearchBody,
} from './http/schemas.js';
import { Metrics } from './metrics.js';
import { RagPipeline, type DocumentInput, type SearchRequest } from './pipeline/rag.js';
import { MemoryStore } from './store/memory.js';
import { MilvusStore } from './store/milvus.js';
import { SchemaMismatchError, type VectorStore } from './store/types.js';
import { context, extractContext, inSpan, SpanKind } from './tracing.js';

export const ROUTES = {
  documents: '/v1/collections/:collection/documents',
  document: '/v1/collections/:collection/documents/:docId',
  search: '/v1/search',
  answer: '/v1/answer',
  health: '/health',
  ready: '/ready',
  metrics: '/metrics',
} as const;

export interface ServiceDeps {
  readonly logger?: Logger;
  readonly store?: VectorStore;
  readonly embedder?: Embedder;
  readonly reranker?: Reranker;
  readonly chat?: ChatModel;
  readonly defaultMetrics?: boolean;
}

export type RagApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>;

export interface Service {
  readonly app: RagApp;
  readonly pipeline: RagPipeline;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Create/verify/load every configured collection (idempotent). */
  bootstrap(): Promise<Record<string, 'created' | 'exists'>>;
  start(): Promise<{ host: string; port: number }>;
  shutdown(): Promise<void>;
}

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  dependency?: string;
  details?: Array<{ path: string; message: string }>;
}

function errorBody(statusCode: number, error: string, message: string, extra: Partial<ErrorBody> = {}): ErrorBody {
  return { statusCode, error, message, ...extra };
}

export function createLogger(config: Config): Logger {
  return pino({
    level: config.logging.level,
    base: { service: 'rag' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

const REQUEST_ID_OK = /^[\w.:-]{1,128}$/;

export function createService(config: Config, deps: ServiceDeps = {}): Service {
  const logger = deps.logger ?? createLogger(config);
  const metrics = new Metrics({ defaultMetrics: deps.defaultMetrics ?? true });
  const store = deps.store ?? (config.store === 'memory' ? new MemoryStore(config) : new MilvusStore(config));
  const embedder = deps.embedder ?? new TeiEmbedder(config);
  const reranker = config.rerank.enabled ? (deps.reranker ?? new TeiReranker(config)) : undefined;
  const chat = deps.chat ?? new GatewayChat(config);
  const pipeline = new RagPipeline(config, store, embedder, reranker, chat, metrics);
  let shuttingDown = false;
  let bootstrapped = false;
  /** gateway-key mode: the caller's LiteLLM key, checked with the gateway (src/auth.ts) */
  const auth = config.auth.mode === 'gateway-key' ? new GatewayKeyAuth(config, metrics) : undefined;
  const callers = new WeakMap<FastifyRequest, Caller>();
  const prefix = config.server.pathPrefix;

  const app: RagApp = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (root) => root,
    bodyLimit: config.server.bodyLimitBytes,
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID_OK.test(h) ? h : randomUUID();
    },
    return503OnClosing: true,
    // the ALB forwards /rag/v1/... unchanged: strip the prefix so both forms reach the same routes
    rewriteUrl: (req) => {
      const u = req.url ?? '/';
      return prefix !== '' && (u === prefix || u.startsWith(`${prefix}/`) || u.startsWith(`${prefix}?`)) ? u.slice(prefix.length) || '/' : u;
    },
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, allErrors: true, removeAdditional: false } },
  });
  app.removeContentTypeParser('text/plain');
  // NDJSON ingest: the handler reads the request stream itself (bounded memory).
  app.addContentTypeParser('application/x-ndjson', (_req, payload, done) => done(null, payload));

  const tenantOf = (req: FastifyRequest, bodyTenant: string | undefined): string => {
    const from = config.auth.tenantFrom;
    if (from !== 'request') {
      const id = callers.get(req)?.identity;
      const t = from === 'team_id' ? id?.teamId : id?.userId;
      if (t === undefined) throw new InputError(403, 'tenant_required', `this API key has no ${from} at the gateway; the tenant comes from the key's ${from} (auth.tenantFrom)`);
      if (bodyTenant !== undefined && bodyTenant !== t) throw new InputError(403, 'tenant_mismatch', `tenant ${JSON.stringify(bodyTenant)} does not match the authenticated tenant`);
      return t;
    }
    const hname = config.server.tenantHeader;
    if (hname !== undefined) {
      const h = req.headers[hname];
      if (typeof h !== 'string' || h.length === 0) throw new InputError(403, 'tenant_required', `the ${hname} header is required`);
      if (bodyTenant !== undefined && bodyTenant !== h) throw new InputError(403, 'tenant_mismatch', `tenant ${JSON.stringify(bodyTenant)} does not match the authenticated tenant`);
      return h;
    }
    if (bodyTenant === undefined) throw new InputError(400, 'tenant_required', 'tenant is required');
    return bodyTenant;
  };

  /** Run a handler in the caller's trace context (W3C traceparent) inside a server span. */
  const traced = <T>(req: FastifyRequest, route: string, fn: () => Promise<T>): Promise<T> =>
    context.with(extractContext(req.headers), () =>
      inSpan(`${req.method} ${route}`, { 'http.request.method': req.method, 'http.route': route }, fn, SpanKind.SERVER),
    );

  // Every /v1/* request names its caller with a gateway key (auth.mode gateway-key); /health,
  // /ready and /metrics stay open. onRequest: refused before any body is read.
  if (auth !== undefined) {
    app.addHook('onRequest', async (req) => {
      if (!req.url.startsWith('/v1/')) return;
      callers.set(req, await auth.authenticate(req.headers['authorization']));
    });
  }

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url;
    if (route === undefined || route === ROUTES.metrics || route === ROUTES.health || route === ROUTES.ready) return;
    metrics.requestDuration.observe({ route, status: `${Math.floor(reply.statusCode / 100)}xx` }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    let body: ErrorBody;
    const fe = err as FastifyError;
    if (err instanceof DependencyError) {
      body = errorBody(err.status, err.status === 503 ? 'dependency_unavailable' : 'dependency_error', err.message, { dependency: err.dependency });
      void reply.header('retry-after', String(err.retryAfterSeconds ?? 1));
      req.log.warn({ reqId: req.id, dependency: err.dependency, status: err.status, msg2: err.message }, 'dependency failed');
    } else if (err instanceof InputError) {
      body = errorBody(err.status, err.code, err.message);
      if (err.status === 401) void reply.header('www-authenticate', 'Bearer realm="rag"');
    } else if (fe.validation) {
      body = errorBody(400, 'invalid_request', 'request failed validation', {
        details: fe.validation.map((v) => ({ path: `${fe.validationContext ?? 'body'}${v.instancePath}`, message: v.message ?? 'invalid' })),
      });
    } else if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      body = errorBody(415, 'unsupported_media_type', 'Content-Type must be application/json (or application/x-ndjson for streamed ingest)');
    } else if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      body = errorBody(413, 'payload_too_large', `request body exceeds ${config.server.bodyLimitBytes} bytes; stream large batches as application/x-ndjson`);
    } else if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      body = errorBody(400, 'malformed_json', 'request body is not valid JSON');
    } else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      body = errorBody(fe.statusCode, fe.code ?? 'bad_request', err.message);
    } else {
      req.log.error({ reqId: req.id, err: { type: err.name, message: err.message } }, 'request failed');
      body = errorBody(500, 'internal_error', 'internal error');
    }
    void reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`));
  });

  const toDoc = (d: IngestBody['documents'][number], tenant: string): DocumentInput => ({
    id: d.id,
    tenant,
    text: d.text,
    ...(d.title !== undefined ? { title: d.title } : {}),
    ...(d.format !== undefined ? { format: d.format } : {}),
    ...(d.metadata !== undefined ? { metadata: d.metadata } : {}),
  });

  // ---- ingest ----
  const zodDetails = (issues: readonly { path: readonly PropertyKey[]; message: string }[], prefix = 'body'): Array<{ path: string; message: string }> =>
    issues.map((i) => ({ path: `${prefix}/${i.path.map(String).join('/')}`, message: i.message }));

  app.post<{ Params: { collection: string }; Body: unknown }>(ROUTES.documents, { schema: { params: collectionParams } }, async (req, reply) => {
    const collection = pipeline.collection(req.params.collection);
    if (req.body instanceof Readable) return ingestStream(req, reply, collection, req.body);
    const parsed = ingestZ.safeParse(req.body);
    if (!parsed.success) {
      return reply.code(400).send(errorBody(400, 'invalid_request', 'request failed validation', { details: zodDetails(parsed.error.issues) }));
    }
    const body = parsed.data as IngestBody;
    const docs = body.documents.map((d) => toDoc(d, tenantOf(req, d.tenant ?? body.tenant)));
    return traced(req, ROUTES.documents, async () => {
      const results = [];
      for (const d of docs) {
        try {
          results.push(await pipeline.ingestDocument(collection, d));
          metrics.documents.inc({ outcome: 'ok' });
        } catch (e) {
          metrics.documents.inc({ outcome: 'error' });
          if (e instanceof DependencyError) {
            e.message = `${e.message} (document ${d.id} was not written; ${results.length} earlier document(s) were ingested)`;
          }
          throw e;
        }
      }
      return {
        collection,
        documents: results.map((r) => ({ id: r.id, chunks: r.chunks, chunkIds: r.chunkIds, removedStale: r.removedStale })),
        chunks: results.reduce((a, r) => a + r.chunks, 0),
      };
    });
  });

  /**
   * NDJSON ingest: one document per line, read and processed one at a time (memory is bounded
   * by one document and its embeddings); progress is streamed back as NDJSON events.
   */
  async function ingestStream(req: FastifyRequest, reply: FastifyReply, collection: string, input: Readable): Promise<FastifyReply> {
    const out = new PassThrough();
    const ctx = extractContext(req.headers);
    void reply.code(200).type('application/x-ndjson; charset=utf-8').header('x-request-id', req.id).send(out);
    const write = (o: unknown): Promise<void> =>
      new Promise((res) => {
        if (out.write(`${JSON.stringify(o)}\n`)) res();
        else out.once('drain', () => res());
      });
    void context.with(ctx, async () => {
      let bytes = 0;
      let line = 0;
      let ok = 0;
      let failed = 0;
      let chunks = 0;
      input.on('data', (b: Buffer) => {
        bytes += b.length;
        if (bytes > config.ingest.maxStreamBytes) input.destroy(new InputError(413, 'stream_too_large', `stream exceeds ingest.maxStreamBytes (${config.ingest.maxStreamBytes})`));
      });
      const rl = createInterface({ input, crlfDelay: Infinity });
      let fatal: unknown;
      try {
        for await (const raw of rl) {
          line++;
          if (raw.trim().length === 0) continue;
          let doc: IngestBody['documents'][number];
          try {
            doc = JSON.parse(raw) as typeof doc;
          } catch {
            failed++;
            await write({ event: 'error', line, error: 'malformed_json', message: 'line is not valid JSON' });
            continue;
          }
          const v = documentZ.safeParse(doc);
          if (!v.success) {
            failed++;
            await write({ event: 'error', line, error: 'invalid_document', details: zodDetails(v.error.issues, 'line') });
            continue;
          }
          doc = v.data as typeof doc;
          try {
            const r = await pipeline.ingestDocument(collection, toDoc(doc, tenantOf(req, doc.tenant)));
            ok++;
            chunks += r.chunks;
            metrics.documents.inc({ outcome: 'ok' });
            await write({ event: 'document', line, id: r.id, chunks: r.chunks, removedStale: r.removedStale });
          } catch (e) {
            failed++;
            metrics.documents.inc({ outcome: 'error' });
            if (e instanceof InputError) {
              await write({ event: 'error', line, id: doc.id, error: e.code, message: e.message });
              continue;
            }
            // a dependency is down: stop here; this document was not written
            fatal = e;
            await write({
              event: 'error',
              line,
              id: doc.id,
              error: e instanceof DependencyError ? 'dependency_unavailable' : 'internal_error',
              ...(e instanceof DependencyError ? { dependency: e.dependency } : {}),
              message: (e as Error).message,
            });
            break;
          }
          await write({ event: 'progress', documents: ok, failed, chunks, bytes });
        }
      } catch (e) {
        fatal = e;
        await write({ event: 'error', line, error: e instanceof InputError ? e.code : 'read_error', message: (e as Error).message });
      }
      await write({ event: 'done', documents: ok, failed, chunks, complete: fatal === undefined });
      out.end();
      if (fatal !== undefined) input.destroy();
    });
    return reply;
  }

  app.delete<{ Params: { collection: string; docId: string }; Querystring: { tenant?: string } }>(
    ROUTES.document,
    { schema: { params: documentParams, querystring: tenantQuery } },
    async (req) => {
      const collection = pipeline.collection(req.params.collection);
      const tenant = tenantOf(req, req.query.tenant);
      return traced(req, ROUTES.document, async () => ({ collection, docId: req.params.docId, deleted: await pipeline.deleteDocument(collection, tenant, req.params.docId) }));
    },
  );

  app.get<{ Params: { collection: string; docId: string }; Querystring: { tenant?: string } }>(
    ROUTES.document,
    { schema: { params: documentParams, querystring: tenantQuery } },
    async (req) => {
      const collection = pipeline.collection(req.params.collection);
      const tenant = tenantOf(req, req.query.tenant);
      const ids = await traced(req, ROUTES.document, () => store.documentChunkIds(collection, tenant, req.params.docId).catch((e: unknown) => {
        throw new DependencyError('milvus', `milvus unavailable: ${(e as Error).message}`);
      }));
      if (ids.length === 0) throw new InputError(404, 'document_not_found', `document ${req.params.docId} has no chunks for this tenant`);
      return { collection, docId: req.params.docId, chunkIds: ids };
    },
  );

  // ---- search ----
  const searchRequest = (req: FastifyRequest, b: SearchBody | AnswerBody, query: string): SearchRequest => ({
    collection: pipeline.collection(b.collection),
    tenant: tenantOf(req, b.tenant),
    query,
    ...(b.topK !== undefined ? { topK: b.topK } : {}),
    ...(b.filter !== undefined ? { filter: b.filter } : {}),
    ...(b.rerank !== undefined ? { rerank: b.rerank } : {}),
    ...('mode' in b && b.mode !== undefined ? { mode: b.mode } : {}),
  });

  app.post<{ Body: SearchBody }>(ROUTES.search, { schema: { body: searchBodySchema, response: { 200: searchResponseSchema } } }, async (req) => {
    const sr = searchRequest(req, req.body, req.body.query);
    const results = await traced(req, ROUTES.search, () => pipeline.search(sr));
    return {
      collection: sr.collection,
      tenant: sr.tenant,
      mode: sr.mode ?? 'hybrid',
      reranked: (sr.rerank ?? true) && reranker !== undefined,
      results,
    };
  });

  // ---- answer ----
  app.post<{ Body: AnswerBody }>(ROUTES.answer, { schema: { body: answerBodySchema } }, async (req, reply) => {
    const b = req.body;
    const sr = searchRequest(req, b, b.question);
    const created = Math.floor(Date.now() / 1000);
    const id = `ragcmpl-${req.id}`;
    const ctx = extractContext(req.headers);
    const { plan, hits } = await traced(req, ROUTES.answer, async () => {
      const found = await pipeline.search(sr);
      return { hits: found, plan: pipeline.plan(b.question, found) };
    });
    const model = config.gateway.model;
    // the caller's own key: their budgets, rate limits, guardrails and spend apply to this answer
    // (auth.mode none: undefined, the service's GATEWAY_API_KEY)
    const callerKey = callers.get(req)?.apiKey;
    if (b.stream !== true) {
      if (plan.messages === null) {
        metrics.answers.inc({ outcome: 'no_context' });
        return { id, object: 'rag.answer', created, model, answer: config.answer.noContextAnswer, noContext: true, citations: [], sources: [], candidates: hits.length };
      }
      const messages = plan.messages;
      const r = await context.with(ctx, () => pipeline.generate(messages, callerKey));
      metrics.answers.inc({ outcome: 'answered' });
      return {
        id,
        object: 'rag.answer',
        created,
        model: r.model,
        answer: r.content,
        noContext: false,
        finishReason: r.finishReason,
        citations: RagPipeline.citations(r.content, plan.sources),
        sources: plan.sources,
        ...(r.usage !== undefined ? { usage: r.usage } : {}),
      };
    }
    // SSE like OpenAI's chat completions stream: chat.completion.chunk events, then [DONE].
    const out = new PassThrough();
    void reply
      .code(200)
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .header('x-request-id', req.id)
      .send(out);
    const send = (o: unknown): void => {
      out.write(`data: ${JSON.stringify(o)}\n\n`);
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
      ...extra,
    });
    void (async () => {
      const abort = new AbortController();
      req.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      send(chunk({ role: 'assistant', content: '' }, null, { rag: { sources: plan.sources } }));
      if (plan.messages === null) {
        metrics.answers.inc({ outcome: 'no_context' });
        send(chunk({ content: config.answer.noContextAnswer }, null));
        send(chunk({}, 'stop', { rag: { noContext: true, citations: [] } }));
      } else {
        let text = '';
        try {
          const messages = plan.messages;
          await context.with(ctx, async () => {
            for await (const ev of pipeline.generateStream(messages, callerKey, abort.signal)) {
              if (ev.type === 'delta') {
                text += ev.content;
                send(chunk({ content: ev.content }, null));
              } else {
                send(chunk({}, ev.finishReason ?? 'stop', { rag: { noContext: false, citations: RagPipeline.citations(text, plan.sources) }, ...(ev.usage ? { usage: ev.usage } : {}) }));
              }
            }
          });
          metrics.answers.inc({ outcome: 'answered' });
        } catch (e) {
          const dep = e instanceof DependencyError ? e.dependency : undefined;
          send({ error: { message: (e as Error).message, type: dep !== undefined ? 'dependency_unavailable' : 'internal_error', ...(dep ? { dependency: dep } : {}) } });
        }
      }
      out.write('data: [DONE]\n\n');
      out.end();
    })();
    return reply;
  });

  // ---- operations ----
  app.get(ROUTES.health, async () => ({ status: 'ok' }));

  const checks = async (): Promise<Record<string, string>> => {
    const entries: Array<[string, Promise<void>]> = [
      ['milvus', store.ping()],
      ['tei-embed', embedder.ping()],
      ['gateway', chat.ping()],
    ];
    if (reranker !== undefined) entries.push(['tei-rerank', reranker.ping()]);
    const settled = await Promise.allSettled(entries.map(([, p]) => p));
    return Object.fromEntries(entries.map(([name], i) => {
      const s = settled[i] as PromiseSettledResult<void>;
      return [name, s.status === 'fulfilled' ? 'ok' : `error: ${String((s.reason as Error).message ?? s.reason)}`];
    }));
  };

  app.get(ROUTES.ready, async (_req, reply) => {
    const c = await checks();
    const failing = Object.entries(c).filter(([, v]) => v !== 'ok').map(([k]) => k);
    const reasons = [...(shuttingDown ? ['shutting down'] : []), ...(!bootstrapped ? ['collections not bootstrapped yet'] : []), ...failing.map((f) => `${f} is not reachable`)];
    void reply.code(reasons.length === 0 ? 200 : 503);
    return { status: reasons.length === 0 ? 'ready' : 'not_ready', reasons, checks: c, store: store.kind, collections: config.collections.names };
  });

  app.get(ROUTES.metrics, async (_req, reply) => {
    void reply.type(metrics.contentType);
    return metrics.render();
  });

  const bootstrap = async (): Promise<Record<string, 'created' | 'exists'>> => {
    const out: Record<string, 'created' | 'exists'> = {};
    for (const name of config.collections.names) out[name] = await store.ensureCollection(name);
    bootstrapped = true;
    return out;
  };

  let retryTimer: NodeJS.Timeout | undefined;
  const bootstrapLoop = async (): Promise<void> => {
    try {
      const r = await bootstrap();
      logger.info({ collections: r, store: store.kind }, 'collections ready');
    } catch (e) {
      if (e instanceof SchemaMismatchError) throw e;
      logger.warn({ err: { message: (e as Error).message } }, 'collection bootstrap failed; retrying in 5 s');
      retryTimer = setTimeout(() => void bootstrapLoop().catch((err: unknown) => {
        logger.fatal({ err: { message: (err as Error).message } }, 'collection schema mismatch');
        process.exit(2);
      }), 5000);
      retryTimer.unref();
    }
  };

  let closing: Promise<void> | undefined;
  return {
    app,
    pipeline,
    metrics,
    logger,
    bootstrap,
    async start() {
      if (config.milvus.bootstrap || store.kind === 'memory') await bootstrapLoop();
      else bootstrapped = true;
      await app.listen({ host: config.server.host, port: config.server.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : config.server.port;
      logger.info({ host: config.server.host, port, store: store.kind, collections: config.collections.names }, 'rag service listening');
      return { host: config.server.host, port };
    },
    shutdown() {
      closing ??= (async () => {
        shuttingDown = true;
        if (retryTimer !== undefined) clearTimeout(retryTimer);
        await new Promise((r) => setTimeout(r, config.server.shutdownDelayMs));
        const reaper = setInterval(() => app.server.closeIdleConnections(), 25);
        try {
          await app.close();
        } finally {
          clearInterval(reaper);
        }
        await store.close();
      })();
      return closing;
    },
  };
}
