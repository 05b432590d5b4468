/** Areas `models` (vLLM) and `embeddings` (TEI embed and rerank). */
import { z } from "zod";
import { EMBEDDING_MODEL_KEYS, RERANKER_MODEL_KEYS } from "../catalog/models";
import { int, replicas } from "./primitives";
import { predictiveSchema, scheduleSchema } from "./scaling";

export const modelSchema = z
  .strictObject({
    /** Key of the gpuPools entry the model is placed on. */
    pool: z.string().min(1),
    tensorParallelSize: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)], { error: "expected 1, 2, 4 or 8" }).default(1),
    maxModelLen: int(1024, 131072),
    gpuMemoryUtilization: z.number().min(0.5).max(0.98).default(0.9),
    maxNumSeqs: int(1, 2048).default(256),
    replicas: replicas(0),
    autoscaling: z
      .strictObject({
        /** Waiting requests per replica that KEDA scales on (`vllm:num_requests_waiting`). */
        queueDepthTarget: z.number().positive().default(8),
        /** Waiting requests that wake a scaled-to-zero model. */
        activationQueueDepth: z.number().nonnegative().default(1),
        /** KV-cache usage (0-1, `vllm:kv_cache_usage_perc`) above which KEDA adds replicas. */
        kvCacheUsageTarget: z.number().gt(0).lt(1).default(0.8),
        pollingIntervalSeconds: int(5, 300).default(15),
        cooldownSeconds: int(30, 3600).default(300),
      })
      .prefault({}),
    /** Time windows with a replica floor, as KEDA cron triggers (infra/config/scaling.ts, docs/scaling.md). */
    schedule: scheduleSchema,
    /** The seasonal floor from last week's demand (infra/config/scaling.ts, docs/scaling.md). */
    predictive: predictiveSchema,
    weights: z
      .strictObject({
        /** `s3`: streamed from the platform's weights bucket (Run:ai streamer); `huggingface`: downloaded at start. */
        source: z.enum(["s3", "huggingface"]).default("s3"),
        /** Hugging Face revision (commit SHA or branch) synced into S3. */
        revision: z.string().regex(/^[\w.-]+$/).default("main"),
      })
      .prefault({}),
    /**
     * The model's SLOs (seed section 11.1: p95 150 ms for 20B, 300 ms for 120B, read as time to
     * first token; 5,000 and 2,000 output tokens/s; 99.9% availability; < 0.1% errors). Alerts,
     * burn-rate rules, the capacity table and the capacity policies read them.
     */
    slo: z.strictObject({
      ttftP95Ms: int(10, 60000),
      e2eP95Ms: int(100, 600000),
      /** Aggregate output tokens/s the model must sustain at the TTFT target (omit: no throughput SLO). */
      throughputTokensPerSecond: int(1, 10_000_000).optional(),
      /** Share of requests answered without a server error, percent. */
      availabilityPct: z.number().min(90).max(99.999).default(99.9),
      /** Share of requests slower than ttftP95Ms the latency SLO allows, percent (p95 = 5). */
      latencyBudgetPct: z.number().gt(0).max(50).default(5),
    }),
  });

export const encoderSchema = (models: readonly string[], defaultModel: string) =>
  z.strictObject({
    enabled: z.boolean().default(true),
    model: z.enum(models as [string, ...string[]]).default(defaultModel),
    /** A gpuPools key, or "cpu" for the CPU image on the CPU NodePool. */
    placement: z.string().min(1),
    replicas: replicas(0),
    maxBatchTokens: int(512, 1_048_576).default(16384),
    maxConcurrentRequests: int(1, 65536).default(512),
    /** Queued requests per replica that KEDA scales on (`te_queue_size`). */
    queueSizeTarget: z.number().positive().default(32),
  });

export const embeddingsSchema = z.strictObject({
  embed: encoderSchema(EMBEDDING_MODEL_KEYS, "bge-large-en-v1.5"),
  // The default reranker has an 8192-token window: LiteLLM's rerank sends truncate: false, which
  // TEI honours, so a 512-token model refuses long pairs through the gateway (docs/gateway.md, "Long inputs").
  rerank: encoderSchema(RERANKER_MODEL_KEYS, "gte-reranker-modernbert-base"),
});
