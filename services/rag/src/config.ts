import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * Configuration: one YAML (or JSON) file named by RAG_CONFIG_PATH, validated here.
 * Secrets never come from the file, only from env vars:
 *   MILVUS_USERNAME / MILVUS_PASSWORD (or MILVUS_TOKEN)  Milvus auth
 *   GATEWAY_API_KEY                                    LiteLLM virtual key for chat in auth.mode none only
 *                                                      (gateway-key mode: answers use the caller's key; readiness needs none)
 *   TEI_API_KEY                                        optional bearer token for TEI (TEI --api-key)
 * All objects are strict: an unknown (misspelt) key is an error naming the key path.
 */

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'must be a Milvus collection name: letters, digits, _; starting with a letter or _');

const fusion = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('rrf'), k: z.int().min(1).max(16384).default(60) }),
  z.strictObject({
    kind: z.literal('weighted'),
    /** weights of the BM25 route and the dense route, each in [0, 1] (Milvus WeightedRanker) */
    bm25: z.number().min(0).max(1).default(0.3),
    dense: z.number().min(0).max(1).default(0.7),
  }),
]);
export type Fusion = z.infer<typeof fusion>;

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().min(1).default('0.0.0.0'),
        port: z.int().min(0).max(65535).default(8080),
        /** JSON bodies; NDJSON ingest streams are not bounded by this (see ingest.maxStreamBytes) */
        bodyLimitBytes: z.int().min(1024).max(256 * 1024 * 1024).default(8 * 1024 * 1024),
        shutdownDelayMs: z.int().min(0).max(600_000).default(0),
        shutdownTimeoutMs: z.int().min(0).max(600_000).default(10_000),
        /** when set, this request header carries the tenant (set by the gateway); a body tenant that differs is refused */
        tenantHeader: z.string().regex(/^[a-z0-9-]+$/).optional(),
        /**
         * a path prefix stripped from incoming URLs when present, so the service answers both
         * /v1/... and <pathPrefix>/v1/... (the ALB forwards /rag/* without rewriting the path)
         */
        pathPrefix: z.union([z.literal(''), z.string().regex(/^\/[a-z0-9-]+$/, 'must be "" or "/<segment>", e.g. /rag')]).default('/rag'),
      })
      .prefault({}),
    auth: z
      .strictObject({
        /**
         * gateway-key: every /v1/* request carries `Authorization: Bearer <LiteLLM key>`, checked
         * with the gateway (GET /key/info) and used for the answer's chat call;
         * none: no caller auth (local runs only), the chat call uses GATEWAY_API_KEY
         */
        mode: z.enum(['gateway-key', 'none']).default('gateway-key'),
        /** how long a key the gateway accepted stays accepted without asking again */
        cacheSeconds: z.int().min(0).max(3600).default(60),
        /** how long a key the gateway refused stays refused without asking again */
        negativeCacheSeconds: z.int().min(0).max(3600).default(5),
        /** timeout of the key check against the gateway */
        timeoutMs: z.int().min(50).max(60_000).default(5000),
        /** cached keys at most (by SHA-256 of the key; the oldest entry is evicted) */
        maxCacheEntries: z.int().min(1).max(1_000_000).default(10_000),
        /**
         * request: the tenant comes from server.tenantHeader or the body (as without auth);
         * team_id / user_id: the tenant is the key's LiteLLM team (or user) id, and a request
         * naming another tenant is refused (a key without one is refused with 403)
         */
        tenantFrom: z.enum(['request', 'team_id', 'user_id']).default('request'),
      })
      .prefault({}),
    logging: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .prefault({}),
    store: z.enum(['milvus', 'memory']).default('milvus'),
    milvus: z
      .strictObject({
        address: z.string().min(1).default('milvus.vectordb.svc.cluster.local:19530'),
        database: z.string().min(1).default('default'),
        ssl: z.boolean().default(false),
        timeoutMs: z.int().min(100).max(600_000).default(10_000),
        /** create/verify collections at start-up (false: a Job does it with `node dist/server.cjs bootstrap`) */
        bootstrap: z.boolean().default(true),
        consistency: z.enum(['Strong', 'Bounded', 'Session', 'Eventually']).default('Bounded'),
      })
      .prefault({}),
    collections: z
      .strictObject({
        /** collection names this service may use; the first is the default */
        names: z.array(name).min(1).default(['rag_chunks']),
        /** dense dimension: the embedding model's (catalog: bge-large-en-v1.5 = 1024) */
        dim: z.int().min(2).max(32768).default(1024),
        /** max characters of a chunk's text field (VARCHAR max_length) */
        textMaxChars: z.int().min(256).max(65535).default(8192),
        analyzer: z.enum(['english', 'standard']).default('english'),
        bm25: z.strictObject({ k1: z.number().min(0).max(3).default(1.2), b: z.number().min(0).max(1).default(0.75) }).prefault({}),
        hnsw: z
          .strictObject({
            M: z.int().min(2).max(2048).default(16),
            efConstruction: z.int().min(1).max(65535).default(200),
            /** search-time ef (>= candidates) */
            ef: z.int().min(1).max(32768).default(128),
          })
          .prefault({}),
        numPartitions: z.int().min(1).max(1024).default(64),
      })
      .prefault({}),
    embeddings: z
      .strictObject({
        /** TEI embed base URL (POST {url}/embed) */
        url: url.default('http://tei-embed.embeddings.svc.cluster.local'),
        timeoutMs: z.int().min(50).max(600_000).default(10_000),
        /** inputs per /embed call (TEI --max-client-batch-size, default 32) */
        batchSize: z.int().min(1).max(1024).default(32),
        /** the model's max input tokens (bge-large-en-v1.5: 512); TEI truncates beyond, we also cap chunk size */
        maxInputTokens: z.int().min(16).max(32768).default(512),
      })
      .prefault({}),
    rerank: z
      .strictObject({
        enabled: z.boolean().default(true),
        url: url.default('http://tei-rerank.embeddings.svc.cluster.local'),
        timeoutMs: z.int().min(50).max(600_000).default(10_000),
        /** candidates sent to /rerank (rerank depth) */
        depth: z.int().min(1).max(1000).default(32),
        /** each candidate text is cut to this many characters before /rerank (and TEI truncates tokens) */
        maxTextChars: z.int().min(64).max(100_000).default(2000),
        /** a rerank score below this is "not relevant" (used by /v1/answer) */
        minScore: z.number().min(0).max(1).default(0.1),
      })
      .prefault({}),
    gateway: z
      .strictObject({
        /** LiteLLM gateway base URL (POST {url}/v1/chat/completions) */
        url: url.default('http://litellm.gateway.svc.cluster.local:4000'),
        /** the model name as the gateway knows it */
        model: z.string().min(1).default('gpt-oss-20b'),
        timeoutMs: z.int().min(100).max(600_000).default(120_000),
        maxAnswerTokens: z.int().min(16).max(32768).default(1024),
        temperature: z.number().min(0).max(2).default(0.2),
        /** total prompt budget (system + sources + question), in the chat model's tokens */
        contextTokens: z.int().min(512).max(1_000_000).default(8192),
      })
      .prefault({}),
    chunking: z
      .strictObject({
        /** chunk size in tokens (o200k, the chat model's tokenizer); keep below embeddings.maxInputTokens */
        maxTokens: z.int().min(16).max(8192).default(300),
        overlapTokens: z.int().min(0).max(4096).default(40),
      })
      .prefault({}),
    retrieval: z
      .strictObject({
        fusion: fusion.prefault({ kind: 'rrf' }),
        /** candidates from each route (BM25, dense) before fusion */
        candidates: z.int().min(1).max(16384).default(50),
        topK: z.int().min(1).max(200).default(8),
        maxTopK: z.int().min(1).max(1000).default(50),
        maxQueryChars: z.int().min(16).max(100_000).default(4000),
      })
      .prefault({}),
    ingest: z
      .strictObject({
        /** chunks embedded and upserted together (memory bound of a stream) */
        batchChunks: z.int().min(1).max(10_000).default(64),
        maxDocumentChars: z.int().min(1).max(100_000_000).default(2_000_000),
        maxStreamBytes: z.int().min(1024).max(64 * 1024 * 1024 * 1024).default(1024 * 1024 * 1024),
      })
      .prefault({}),
    answer: z
      .strictObject({
        noContextAnswer: z
          .string()
          .min(1)
          .default("I could not find relevant information in the indexed documents to answer this question."),
      })
      .prefault({}),
    tracing: z
      .strictObject({
        /** OTLP/HTTP traces endpoint (e.g. http://otel-collector.observability:4318/v1/traces); unset: spans are not exported, context still propagates */
        otlpEndpoint: url.optional(),
        serviceName: z.string().min(1).default('rag'),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.chunking.overlapTokens >= c.chunking.maxTokens) {
      ctx.addIssue({ code: 'custom', path: ['chunking', 'overlapTokens'], message: 'must be smaller than chunking.maxTokens' });
    }
    if (c.retrieval.topK > c.retrieval.maxTopK) {
      ctx.addIssue({ code: 'custom', path: ['retrieval', 'topK'], message: 'must be <= retrieval.maxTopK' });
    }
    if (c.collections.hnsw.ef < c.retrieval.candidates) {
      ctx.addIssue({ code: 'custom', path: ['collections', 'hnsw', 'ef'], message: 'must be >= retrieval.candidates (HNSW ef is the dense candidate list)' });
    }
    if (c.auth.tenantFrom !== 'request' && c.auth.mode !== 'gateway-key') {
      ctx.addIssue({ code: 'custom', path: ['auth', 'tenantFrom'], message: 'needs auth.mode gateway-key (the tenant comes from the caller\'s key)' });
    }
    if (c.retrieval.fusion.kind === 'weighted' && c.retrieval.fusion.bm25 + c.retrieval.fusion.dense === 0) {
      ctx.addIssue({ code: 'custom', path: ['retrieval', 'fusion'], message: 'bm25 and dense weights cannot both be 0' });
    }
  });

export type Config = z.infer<typeof configSchema> & { readonly secrets: Secrets };

export interface Secrets {
  readonly milvusUsername?: string;
  readonly milvusPassword?: string;
  readonly milvusToken?: string;
  readonly gatewayApiKey?: string;
  readonly teiApiKey?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): Config {
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid RAG config:\n${lines.join('\n')}`);
  }
  const pick = (k: string): string | undefined => {
    const v = env[k];
    return v !== undefined && v.length > 0 ? v : undefined;
  };
  const secrets: Secrets = {
    ...(pick('MILVUS_USERNAME') ? { milvusUsername: pick('MILVUS_USERNAME') } : {}),
    ...(pick('MILVUS_PASSWORD') ? { milvusPassword: pick('MILVUS_PASSWORD') } : {}),
    ...(pick('MILVUS_TOKEN') ? { milvusToken: pick('MILVUS_TOKEN') } : {}),
    ...(pick('GATEWAY_API_KEY') ? { gatewayApiKey: pick('GATEWAY_API_KEY') } : {}),
    ...(pick('TEI_API_KEY') ? { teiApiKey: pick('TEI_API_KEY') } : {}),
  };
  if ((secrets.milvusUsername === undefined) !== (secrets.milvusPassword === undefined)) {
    throw new ConfigError('invalid RAG config:\n  env: MILVUS_USERNAME and MILVUS_PASSWORD must be set together');
  }
  const port = pick('PORT');
  const data = r.data;
  if (port !== undefined) {
    const p = Number(port);
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new ConfigError(`invalid RAG config:\n  env PORT: not a port: ${port}`);
    data.server.port = p;
  }
  return { ...data, secrets };
}

export function loadConfigFromEnv(env: NodeJS.ProcessEnv): Config {
  const path = env['RAG_CONFIG_PATH'];
  if (path === undefined || path.length === 0) return parseConfig({}, env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read RAG_CONFIG_PATH=${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`RAG_CONFIG_PATH=${path} is not valid YAML: ${(e as Error).message}`);
  }
  return parseConfig(raw, env);
}
