import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawServerDefault,
} from 'fastify';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { SafetyEngine } from './engine.js';
import {
  errorResponseSchema,
  litellmBodySchema,
  litellmResponseSchema,
  moderateBodySchema,
  moderationResponseSchema,
  type LitellmBody,
  type LitellmResponse,
  type ModerateBody,
} from './http/schemas.js';
import type { CounterHandle, HistogramHandle } from './fastMetrics.js';
import { Metrics } from './metrics.js';
import { OverloadedError } from './resilience/admission.js';
import { sleep } from './resilience/retry.js';
import type { Direction, Layer, Level, ModerationResult } from './types.js';

export const ROUTES = {
  input: '/v1/moderate/input',
  output: '/v1/moderate/output',
  litellm: '/beta/litellm_basic_guardrail_api',
  health: '/health',
  ready: '/ready',
  metrics: '/metrics',
} as const;

export interface ServiceDeps {
  /** A pino logger to use instead of one built from config.logging (tests capture output this way). */
  readonly logger?: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly extraLayers?: readonly Layer[];
  /** Collect Node.js default process metrics (default true). */
  readonly defaultMetrics?: boolean;
}

export type SafetyApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>;

export interface Service {
  readonly app: SafetyApp;
  readonly engine: SafetyEngine;
  readonly metrics: Metrics;
  readonly config: Config;
  readonly logger: Logger;
  /** Listen on config.server.host:port; resolves to the bound address (port 0 picks a free port). */
  start(): Promise<{ host: string; port: number }>;
  /** Readiness as served on /ready. */
  readiness(): { ready: boolean; reasons: string[] };
  /** Graceful shutdown: /ready turns 503, optional delay, stop accepting, drain in-flight, close. */
  shutdown(): Promise<void>;
}

/** The only block reason that leaves the service through LiteLLM. */
export function genericReason(direction: Direction, requestId: string): string {
  return `${direction === 'input' ? 'The request' : 'The response'} was blocked by the content-safety policy (request id ${requestId})`;
}

const REQUEST_ID_OK = /^[\w.:-]{1,128}$/;

function genReqId(req: IncomingMessage): string {
  const h = req.headers['x-request-id'];
  if (typeof h === 'string' && REQUEST_ID_OK.test(h)) return h;
  return randomUUID();
}

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: Array<{ path: string; message: string }>;
}

function errorBody(statusCode: number, error: string, message: string, details?: ErrorBody['details']): ErrorBody {
  return details ? { statusCode, error, message, details } : { statusCode, error, message };
}

export function createLogger(config: Config): Logger {
  return pino({
    level: config.logging.level,
    base: { service: 'safety' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

export function createService(config: Config, deps: ServiceDeps = {}): Service {
  const logger = deps.logger ?? createLogger(config);
  let engine: SafetyEngine | undefined;
  const metrics = new Metrics({
    breakerState: () => engine?.breaker?.state,
    azureInFlight: () => (engine?.admission ? { inFlight: engine.admission.inFlight, queued: engine.admission.queued } : undefined),
    defaultMetrics: deps.defaultMetrics ?? true,
  });
  engine = new SafetyEngine(config, {
    metrics,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.extraLayers ? { extraLayers: deps.extraLayers } : {}),
  });
  const eng = engine;
  let shuttingDown = false;

  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger (it costs an allocation and bindings serialisation
    // per request); log lines of a request carry reqId explicitly instead.
    childLoggerFactory: (root) => root,
    bodyLimit: config.server.bodyLimitBytes,
    // A stalled upload cannot hold memory or a connection past requestTimeoutMs (Node answers 408 and closes).
    requestTimeout: config.server.requestTimeoutMs,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    http: {
      headersTimeout: Math.min(config.server.requestTimeoutMs, 60_000),
      // how often Node checks for expired requests (its default, 30 s, would let a stalled upload live that long)
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.server.requestTimeoutMs / 4))),
    },
    genReqId,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, allErrors: true, removeAdditional: false } },
  });

  // Requests whose body is still arriving, with their start time. Node enforces requestTimeout
  // only until server.close() (it stops its connection check then), so during shutdown the
  // reaper below destroys uploads that are past it: a stalled upload cannot hold shutdown.
  const receiving = new Map<IncomingMessage, number>();
  app.addHook('onRequest', (req, _reply, done) => {
    if (receiving.size >= 1024) for (const raw of receiving.keys()) if (raw.destroyed) receiving.delete(raw);
    receiving.set(req.raw, performance.now());
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    receiving.delete(req.raw);
    done();
  });
  app.addHook('preValidation', (req, _reply, done) => {
    receiving.delete(req.raw);
    done();
  });
  app.addHook('onResponse', (req, _reply, done) => {
    receiving.delete(req.raw);
    done();
  });
  const reapStalledUploads = (): void => {
    const now = performance.now();
    for (const [raw, t0] of receiving) {
      if (now - t0 > config.server.requestTimeoutMs || raw.destroyed) {
        receiving.delete(raw);
        raw.socket.destroy();
      }
    }
  };

  // Only application/json bodies are accepted: drop Fastify's built-in text/plain parser
  // so that any other content type is answered with 415.
  app.removeContentTypeParser('text/plain');

  const countError = (req: FastifyRequest, status: number): void => {
    metrics.requestErrors.inc({ endpoint: req.routeOptions.url ?? 'unmatched', status_code: String(status) });
  };

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    let body: ErrorBody;
    if ((err as unknown) instanceof OverloadedError) {
      const o = err as unknown as OverloadedError;
      countError(req, 503);
      req.log.warn({ reqId: req.id, reason: o.reason }, 'Azure calls shed: answering 503');
      void reply
        .code(503)
        .header('retry-after', String(o.retryAfterSeconds))
        .header('x-request-id', req.id)
        .type('application/json; charset=utf-8')
        .send(errorBody(503, 'overloaded', `the service is at capacity; retry after ${o.retryAfterSeconds} s (request id ${req.id})`));
      return;
    }
    if (err.validation) {
      body = errorBody(
        400,
        'invalid_request',
        'request body failed validation',
        err.validation.map((v) => ({
          path: `${err.validationContext ?? 'body'}${v.instancePath}`,
          message:
            v.keyword === 'required' || v.keyword === 'additionalProperties'
              ? `${v.message ?? 'invalid'}${v.keyword === 'additionalProperties' ? ` (${String((v.params as { additionalProperty?: unknown }).additionalProperty)})` : ''}`
              : (v.message ?? 'invalid'),
        })),
      );
    } else {
      switch (err.code) {
        case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
          body = errorBody(
            415,
            'unsupported_media_type',
            `Content-Type must be application/json (got ${JSON.stringify(req.headers['content-type']?.slice(0, 100) ?? null)})`,
          );
          break;
        case 'FST_ERR_CTP_BODY_TOO_LARGE':
          body = errorBody(413, 'payload_too_large', `request body exceeds the limit of ${config.server.bodyLimitBytes} bytes`);
          break;
        case 'FST_ERR_CTP_INVALID_JSON_BODY':
          body = errorBody(400, 'malformed_json', 'request body is not valid JSON (or contains a forbidden __proto__/constructor key)');
          break;
        case 'FST_ERR_CTP_EMPTY_JSON_BODY':
          body = errorBody(400, 'empty_body', 'request body is empty');
          break;
        default: {
          const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
          if (status === 500) {
            // Log the error without request data (err.message of our own code never contains the text).
            req.log.error({ reqId: req.id, err: { type: err.name, message: err.message, code: err.code } }, 'request failed');
            body = errorBody(500, 'internal_error', 'internal error');
          } else {
            body = errorBody(status, err.code ?? 'bad_request', err.code?.startsWith('FST_') ? err.message : 'bad request');
          }
        }
      }
    }
    countError(req, body.statusCode);
    if (body.statusCode < 500) req.log.debug({ reqId: req.id, statusCode: body.statusCode, error: body.error }, 'request rejected');
    void reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    countError(req, 404);
    void reply.code(404).send(errorBody(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`));
  });

  const logText = config.logging.logRequestText;

  // Pre-bound metric handles per endpoint (no label lookups on the hot path).
  const endpointProbes = new Map<string, { duration: HistogramHandle; verdicts: Record<Level, CounterHandle> }>(
    [ROUTES.input, ROUTES.output, ROUTES.litellm].map((endpoint) => [
      endpoint,
      {
        duration: metrics.requestDuration.child({ endpoint }),
        verdicts: {
          safe: metrics.requests.child({ endpoint, verdict: 'safe' }),
          warning: metrics.requests.child({ endpoint, verdict: 'warning' }),
          blocked: metrics.requests.child({ endpoint, verdict: 'blocked' }),
        },
      },
    ]),
  );
  const probeFor = (endpoint: string) => {
    const p = endpointProbes.get(endpoint);
    if (p === undefined) throw new Error(`no metric probe for ${endpoint}`);
    return p;
  };

  const decide = async (
    req: FastifyRequest,
    endpoint: string,
    direction: Direction,
    text: string,
    context: string | undefined,
  ): Promise<ModerationResult> => {
    const probe = probeFor(endpoint);
    const start = performance.now();
    const result = await eng.moderate(text, { direction, context, requestId: req.id });
    const latencyMs = performance.now() - start;
    probe.duration.observe(latencyMs / 1000);
    probe.verdicts[result.level].inc();
    const level = result.level === 'safe' ? 'debug' : 'info';
    if (logger.isLevelEnabled(level)) {
      const entry: Record<string, unknown> = {
        reqId: req.id,
        endpoint,
        direction,
        verdict: result.level,
        categories: result.categories,
        latencyMs: Math.round(latencyMs * 1000) / 1000,
        textChars: text.length,
        layers: result.layers.map((l) => `${l.name}=${l.level}`),
      };
      // Why it was not safe: rule names, term ids and failure kinds, never the moderated text.
      if (result.level !== 'safe') entry['reasons'] = result.layers.filter((l) => l.level !== 'safe').map((l) => `${l.name}: ${l.explanation}`);
      if (logText) {
        entry['text'] = text;
        if (context !== undefined) entry['context'] = context;
      }
      req.log[level](entry, 'moderation decision');
    }
    return result;
  };

  const tooLong = (reply: FastifyReply, req: FastifyRequest, chars: number): FastifyReply => {
    countError(req, 413);
    return reply
      .code(413)
      .send(errorBody(413, 'text_too_long', `text has ${chars} characters, over the limit of ${config.server.maxTextChars} (server.maxTextChars)`));
  };

  for (const direction of ['input', 'output'] as const) {
    const url = ROUTES[direction];
    app.post<{ Body: ModerateBody }>(
      url,
      { schema: { body: moderateBodySchema, response: { 200: moderationResponseSchema, '4xx': errorResponseSchema } } },
      async (req, reply) => {
        const { text, context } = req.body;
        if (text.length > config.server.maxTextChars) return tooLong(reply, req, text.length);
        if (context !== undefined && context.length > config.server.maxTextChars) return tooLong(reply, req, context.length);
        const result = await decide(req, url, direction, text, context);
        void reply.header('x-request-id', req.id);
        if (shuttingDown) void reply.header('connection', 'close');
        return { requestId: req.id, direction, allowed: result.level !== 'blocked', ...result };
      },
    );
  }

  if (config.litellmGuardrail.enabled) {
    app.post<{ Body: LitellmBody }>(
      ROUTES.litellm,
      { schema: { body: litellmBodySchema, response: { 200: litellmResponseSchema, '4xx': errorResponseSchema } } },
      async (req, reply): Promise<LitellmResponse | FastifyReply> => {
        const body = req.body;
        const direction: Direction = body.input_type === 'request' ? 'input' : 'output';
        const texts = body.texts ?? [];
        const images = body.images ?? [];
        // All texts of one call are moderated as one document, so the limit applies to the
        // joined document (separators included): what is checked is what is sent to Azure.
        const joined = texts.length === 0 ? '' : texts.length === 1 ? (texts[0] as string) : texts.join('\n\n');
        if (joined.length > config.server.maxTextChars) return tooLong(reply, req, joined.length);
        void reply.header('x-request-id', req.id);
        if (shuttingDown) void reply.header('connection', 'close');

        if (images.length > 0 && config.litellmGuardrail.images === 'block') {
          probeFor(ROUTES.litellm).verdicts.blocked.inc();
          req.log.info({ reqId: req.id, endpoint: ROUTES.litellm, verdict: 'blocked', categories: ['images'] }, 'moderation decision');
          return { action: 'BLOCKED', blocked_reason: genericReason(direction, req.id) };
        }
        if (joined.length === 0) {
          probeFor(ROUTES.litellm).verdicts.safe.inc();
          return { action: 'NONE' };
        }
        const result = await decide(req, ROUTES.litellm, direction, joined, undefined);
        if (shuttingDown) void reply.header('connection', 'close');
        if (result.level === 'blocked') {
          // LiteLLM passes blocked_reason towards the end user: say nothing about which rule
          // matched or what failed inside; the detail is in the log line and the metrics.
          return { action: 'BLOCKED', blocked_reason: genericReason(direction, req.id) };
        }
        // Warnings do not block; the service never rewrites texts, so GUARDRAIL_INTERVENED is never returned.
        return { action: 'NONE' };
      },
    );
  }

  const readiness = (): { ready: boolean; reasons: string[] } => {
    const reasons: string[] = [];
    if (shuttingDown) reasons.push('shutting down');
    if (!config.azure.enabled) {
      // Azure explicitly disabled: local layers only.
    } else if (!eng.isAzureUsable() && config.failureMode !== 'open-with-warning') {
      reasons.push('Azure circuit breaker is open and failureMode is closed');
    }
    return { ready: reasons.length === 0, reasons };
  };

  app.get(ROUTES.health, async () => ({ status: 'ok' }));

  app.get(ROUTES.ready, async (_req, reply) => {
    const r = readiness();
    void reply.code(r.ready ? 200 : 503);
    return {
      status: r.ready ? 'ready' : 'not_ready',
      reasons: r.reasons,
      configLoaded: true,
      failureMode: config.failureMode,
      azure: config.azure.enabled ? { enabled: true, breaker: eng.breaker?.state ?? 'closed' } : { enabled: false },
      layers: eng.layers.map((l) => ({ name: l.name, appliesTo: [...l.appliesTo] })),
    };
  });

  app.get(ROUTES.metrics, async (_req, reply) => {
    const text = await metrics.render();
    void reply.type(metrics.contentType);
    return text;
  });

  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      logger.info({ delayMs: config.server.shutdownDelayMs }, 'shutting down: readiness off, draining');
      await sleep(config.server.shutdownDelayMs);
      // app.close() stops accepting and closes idle keep-alive connections once;
      // connections of requests still in flight become idle later, so reap them
      // until the server is closed (otherwise close waits for keepAliveTimeout).
      const reaper = setInterval(() => {
        app.server.closeIdleConnections();
        reapStalledUploads();
      }, 25);
      try {
        await app.close();
      } finally {
        clearInterval(reaper);
        await eng.close();
      }
      logger.info('shutdown complete');
    })();
    return closing;
  };

  return {
    app,
    engine: eng,
    metrics,
    config,
    logger,
    async start() {
      await app.listen({ host: config.server.host, port: config.server.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : config.server.port;
      logger.info(
        {
          host: config.server.host,
          port,
          failureMode: config.failureMode,
          azure: config.azure.enabled ? 'enabled' : 'disabled',
          layers: eng.layers.map((l) => l.name),
        },
        'safety service listening',
      );
      return { host: config.server.host, port };
    },
    readiness,
    shutdown,
  };
}
