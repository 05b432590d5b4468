/** Areas `models` (vLLM) and `embeddings` (TEI embed and rerank). */
import { z } from "zod";
import { EMBEDDING_MODEL_KEYS, MODELS, RERANKER_MODEL_KEYS } from "../catalog/models";
import { parseQuantity } from "../cost";
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

const cpuQuantity = z.string().regex(/^\d+(\.\d+)?m?$/, { error: 'expected a Kubernetes CPU quantity such as "500m" or "2"' });
const memoryQuantity = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, { error: 'expected a Kubernetes memory quantity such as "1536Mi" or "4Gi"' });
const quantities = z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity });

/**
 * What a CPU replica of TEI needs beside its weights: the router, the tokenizer and the
 * activations of a batch (an assumption of this project, not a measurement; a `maxBatchTokens`
 * batch of a large model can need more, which is what limits.memory is for).
 */
export const TEI_CPU_RUNTIME_GIB = 0.5;

/** Today's CPU requests and limits of a TEI replica (the default of `cpuResources`). */
export const TEI_CPU_RESOURCES = { requests: { cpu: "2", memory: "4Gi" }, limits: { cpu: "4", memory: "6Gi" } } as const;

export const encoderSchema = (models: readonly string[], defaultModel: string) =>
  z
    .strictObject({
      enabled: z.boolean().default(true),
      model: z.enum(models as [string, ...string[]]).default(defaultModel),
      /** A gpuPools key, or "cpu" for the CPU image on CPU nodes (`cpuNodes` says which). */
      placement: z.string().min(1),
      /**
       * With placement "cpu": `karpenter` puts the replicas on Karpenter's CPU NodePool (nodes
       * launched for them); `system` puts them on the system node group (no node of their own:
       * small setups such as dev, where the system group has room for them).
       */
      cpuNodes: z.enum(["karpenter", "system"]).default("karpenter"),
      /** With placement "cpu": the TEI container's requests and limits. */
      cpuResources: z.strictObject({ requests: quantities, limits: quantities }).default({ requests: { ...TEI_CPU_RESOURCES.requests }, limits: { ...TEI_CPU_RESOURCES.limits } }),
      replicas: replicas(0),
      maxBatchTokens: int(512, 1_048_576).default(16384),
      maxConcurrentRequests: int(1, 65536).default(512),
      /** Queued requests per replica that KEDA scales on (`te_queue_size`). */
      queueSizeTarget: z.number().positive().default(32),
    })
    .superRefine((e, ctx) => {
      if (e.placement !== "cpu") {
        if (e.cpuNodes !== "karpenter")
          ctx.addIssue({ code: "custom", path: ["cpuNodes"], message: `applies to placement "cpu" only; placement "${e.placement}" is a GPU pool: remove cpuNodes or set placement: cpu` });
        return;
      }
      const { requests, limits } = e.cpuResources;
      // Kubernetes refuses a container whose request exceeds its limit (core/v1 validation: "must be less than or equal to ... limit").
      for (const k of ["cpu", "memory"] as const)
        if ((parseQuantity(requests[k]) ?? 0) > (parseQuantity(limits[k]) ?? Infinity))
          ctx.addIssue({ code: "custom", path: ["cpuResources", "limits", k], message: `must be >= cpuResources.requests.${k} (${requests[k]}), got ${limits[k]}: Kubernetes refuses a request above its limit` });
      const model = (MODELS as Record<string, { weightsGiB: number }>)[e.model];
      const memGiB = (parseQuantity(requests.memory) ?? 0) / 1024 ** 3;
      if (model && memGiB < model.weightsGiB + TEI_CPU_RUNTIME_GIB)
        ctx.addIssue({
          code: "custom",
          path: ["cpuResources", "requests", "memory"],
          message: `${e.model} needs at least ${(model.weightsGiB + TEI_CPU_RUNTIME_GIB).toFixed(2)} GiB (weights ${model.weightsGiB} GiB in infra/catalog/models.ts + ${TEI_CPU_RUNTIME_GIB} GiB for TEI's runtime), got ${requests.memory}; raise the request`,
        });
    });

export const embeddingsSchema = z.strictObject({
  embed: encoderSchema(EMBEDDING_MODEL_KEYS, "bge-large-en-v1.5"),
  // The default reranker has an 8192-token window: LiteLLM's rerank sends truncate: false, which
  // TEI honours, so a 512-token model refuses long pairs through the gateway (docs/gateway.md, "Long inputs").
  rerank: encoderSchema(RERANKER_MODEL_KEYS, "gte-reranker-modernbert-base"),
});
