/**
 * The platform's configuration: one zod schema for every area, parsed once per run.
 *
 * Flow: stack config (stacks/Pulumi.<stack>.yaml) -> loadConfig() -> parsePlatformConfig()
 * -> PlatformConfig (typed, read-only). Components receive slices of PlatformConfig and never
 * read Pulumi config themselves.
 *
 * Invalid config raises one ConfigError listing every problem with its key path, before any
 * resource is registered. Unknown keys are rejected, so typos fail.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { configCapacityProblems, type CapacityConfig } from "./capacity";
import { CACHE_NODE_TYPES, DB_INSTANCE_CLASSES, gpuMemoryGiB, instanceType, type InstanceType } from "./catalog/instances";
import {
  EMBEDDING_MODEL_KEYS,
  LLM_MODEL_KEYS,
  llmMemoryNeedGiB,
  MODELS,
  RERANKER_MODEL_KEYS,
  type LlmModelKey,
} from "./catalog/models";
import { KUBERNETES_VERSION } from "./catalog/versions";

export const PROJECT = "llm-platform";
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

// ---------------------------------------------------------------------------------------------
// Building blocks

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

const cidr = (minPrefix: number, maxPrefix: number) =>
  z.cidrv4({ error: "expected an IPv4 CIDR such as 10.0.0.0/16" }).refine(
    (v) => {
      const prefix = Number(v.split("/")[1]);
      return prefix >= minPrefix && prefix <= maxPrefix;
    },
    { error: `prefix length must be between /${minPrefix} and /${maxPrefix}` },
  );

/** Durations as Karpenter v1 accepts them (`^(([0-9]+(s|m|h))+|Never)$`). */
const karpenterDuration = z
  .string()
  .regex(/^(([0-9]+(s|m|h))+|Never)$/, { error: 'expected a duration such as "30s", "5m", "720h" or "Never"' });

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
const logRetentionDays = z
  .number()
  .refine((v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v), {
    error: `expected one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")} (days)`,
  });

/** `path#key` in the Vault KV v2 mount, e.g. `llm-platform/prod/huggingface#token`. */
const vaultRef = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*#[A-Za-z0-9_.-]+$/, {
    error: 'expected a Vault KV v2 reference "path/to/secret#key", e.g. "llm-platform/prod/huggingface#token"',
  });

const roleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, { error: "expected an IAM role ARN arn:aws:iam::<account>:role/<name>" });

const replicas = (minFloor = 0) =>
  z
    .strictObject({ min: int(minFloor, 1000), max: int(1, 1000) })
    .superRefine((r, ctx) => {
      if (r.max < r.min) ctx.addIssue({ code: "custom", path: ["max"], message: `must be >= min (${r.min}), got ${r.max}` });
    });

// ---------------------------------------------------------------------------------------------
// Areas

const tagsSchema = z.strictObject({
  /** `project` cost-allocation tag. */
  project: z.string().min(1).max(256).default(PROJECT),
  /** `cost-center` cost-allocation tag. */
  costCenter: z.string().min(1).max(256),
  /** `owner` cost-allocation tag: a team or an address that answers for the stack. */
  owner: z.string().min(1).max(256),
  /** More tags for every AWS resource. */
  extra: z.record(z.string().regex(/^[\w .:/=+@-]{1,128}$/), z.string().max(256)).default({}),
});

const networkSchema = z.strictObject({
  vpcCidr: cidr(16, 20).default("10.0.0.0/16"),
  availabilityZones: z
    .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, { error: 'expected an AZ name such as "us-east-1a"' }))
    .min(2, { error: "need at least 2 availability zones" })
    .max(3, { error: "at most 3 availability zones are supported" })
    .refine((azs) => new Set(azs).size === azs.length, { error: "availability zones must be distinct" }),
  /** `single`: one NAT gateway for the VPC (cheap, not zone-redundant). `perAz`: one per AZ. */
  natGateways: z.enum(["single", "perAz"]),
  flowLogs: z
    .strictObject({ enabled: z.boolean().default(true), retentionDays: logRetentionDays.default(30) })
    .prefault({}),
});

const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

const systemNodesSchema = z
  .strictObject({
    instanceTypes: z.array(z.string()).min(1),
    minSize: int(1, 100).default(2),
    desiredSize: int(1, 100).default(2),
    maxSize: int(1, 100).default(4),
    diskSizeGiB: int(20, 1000).default(50),
  })
  .superRefine((g, ctx) => {
    if (g.maxSize < g.minSize) ctx.addIssue({ code: "custom", path: ["maxSize"], message: `must be >= minSize (${g.minSize}), got ${g.maxSize}` });
    if (g.desiredSize < g.minSize || g.desiredSize > g.maxSize)
      ctx.addIssue({ code: "custom", path: ["desiredSize"], message: `must be between minSize (${g.minSize}) and maxSize (${g.maxSize}), got ${g.desiredSize}` });
    g.instanceTypes.forEach((name, i) => {
      const t = instanceType(name);
      if (!t) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: unknownInstanceMessage(name) });
      else if (t.gpu) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `${name} is a GPU instance; the system group runs on CPU instances` });
    });
  });

const clusterSchema = z
  .strictObject({
    /** EKS cluster name; defaults to `<tags.project>-<stack>`. */
    name: z
      .string()
      .regex(/^[a-zA-Z][a-zA-Z0-9-]{0,99}$/, { error: "expected letters, digits and hyphens, starting with a letter (max 100)" })
      .optional(),
    kubernetesVersion: z
      .string()
      .regex(/^1\.\d{2}$/, { error: 'expected a Kubernetes minor version such as "1.36"' })
      .default(KUBERNETES_VERSION.value),
    endpoint: z.strictObject({
      publicAccess: z.boolean(),
      privateAccess: z.literal(true, { error: "must be true: nodes and in-VPC tooling reach the API privately" }).default(true),
      publicAccessCidrs: z.array(cidr(0, 32)).default([]),
    }),
    /** EKS upgrade policy. EXTENDED support bills $0.60/h instead of $0.10/h. */
    supportType: z.enum(["STANDARD", "EXTENDED"]).default("STANDARD"),
    logging: z
      .strictObject({
        types: z.array(z.enum(EKS_LOG_TYPES)).default([...EKS_LOG_TYPES]),
        retentionDays: logRetentionDays.default(90),
      })
      .prefault({}),
    /** IAM roles that get cluster-admin through EKS access entries. */
    adminRoleArns: z.array(roleArn).default([]),
    /** Envelope encryption of Kubernetes Secrets with a KMS key the stack creates. */
    secretsEncryption: z.boolean().default(true),
    systemNodes: systemNodesSchema,
    /** The default gp3 StorageClass. `Retain` keeps EBS volumes when their PVC is deleted. */
    storageReclaimPolicy: z.enum(["Retain", "Delete"]).default("Retain"),
  })
  .superRefine((c, ctx) => {
    if (c.endpoint.publicAccess && c.endpoint.publicAccessCidrs.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["endpoint", "publicAccessCidrs"],
        message: "must list at least one CIDR when publicAccess is true (write 0.0.0.0/0 explicitly if you mean the whole internet)",
      });
    if (!c.endpoint.publicAccess && c.endpoint.publicAccessCidrs.length > 0)
      ctx.addIssue({ code: "custom", path: ["endpoint", "publicAccessCidrs"], message: "must be empty when publicAccess is false" });
  });

const gpuPoolSchema = z
  .strictObject({
    instanceTypes: z.array(z.string()).min(1),
    capacityType: z.enum(["ON_DEMAND", "SPOT"]),
    minNodes: int(0, 100).default(0),
    /** EKS requires a managed node group's max size to be at least 1. */
    maxNodes: int(1, 100),
    /** Root volume: the serving images (vLLM is 12-28 GB) plus a model cache. */
    diskSizeGiB: int(100, 4000).default(300),
    /** Attach EFA interfaces (p4d/p5 only; for multi-node NCCL traffic). */
    efa: z.boolean().default(false),
  })
  .superRefine((p, ctx) => {
    if (p.maxNodes < p.minNodes)
      ctx.addIssue({ code: "custom", path: ["maxNodes"], message: `must be >= minNodes (${p.minNodes}), got ${p.maxNodes}` });
    const types: InstanceType[] = [];
    p.instanceTypes.forEach((name, i) => {
      const t = instanceType(name);
      if (!t) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: unknownInstanceMessage(name) });
      else if (!t.gpu) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `${name} has no GPU; GPU pools take GPU instance types` });
      else {
        types.push(t);
        if (p.efa && t.efaInterfaces === 0)
          ctx.addIssue({ code: "custom", path: ["efa"], message: `${name} does not support EFA; set efa: false or use p4d.24xlarge, p4de.24xlarge or p5.48xlarge` });
      }
    });
    if (p.efa && new Set(types.map((t) => t.efaInterfaces)).size > 1)
      ctx.addIssue({ code: "custom", path: ["instanceTypes"], message: "an EFA pool needs types with the same number of EFA interfaces (one launch template serves them all)" });
    const models = [...new Set(types.map((t) => t.gpu?.model))];
    if (models.length > 1)
      ctx.addIssue({
        code: "custom",
        path: ["instanceTypes"],
        message: `mixes GPU models (${models.join(", ")}); a pool has one GPU model so that models placed on it fit every node`,
      });
  });

const consolidationPolicy = z.enum(["WhenEmpty", "WhenEmptyOrUnderutilized"], {
  error: 'expected "WhenEmpty" or "WhenEmptyOrUnderutilized" (Karpenter v1; "WhenUnderutilized" was removed with v1beta1)',
});

const nodePoolSchema = (kind: "gpu" | "cpu") =>
  z
    .strictObject({
      enabled: z.boolean().default(true),
      /**
       * The instance types the NodePool may launch (requirement node.kubernetes.io/instance-type
       * In ...), each from the priced catalog. GPU pools list every GPU type a model or GPU
       * encoder may burst onto; the capacity cross-check (infra/capacity.ts) requires it.
       */
      instanceTypes: z.array(z.string()).min(1),
      limits: z.strictObject({ cpu: int(1), memoryGiB: int(1), gpus: int(0) }),
      weight: int(1, 100),
      consolidationPolicy,
      consolidateAfter: karpenterDuration,
      expireAfter: karpenterDuration.default("720h"),
      /** Share of this pool's nodes that may be disrupted at once, e.g. "10%" or "1". */
      disruptionBudgetNodes: z.string().regex(/^(\d+|\d+%)$/, { error: 'expected a node count or a percentage such as "10%"' }).default("10%"),
    })
    .superRefine((p, ctx) => {
      p.instanceTypes.forEach((name, i) => {
        const t = instanceType(name);
        if (!t) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `${name} is not in infra/catalog/instances.ts, so it cannot be priced; add it there (with its price and source) or pick a listed type` });
        else if (kind === "gpu" && !t.gpu) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `${name} has no GPU; GPU NodePools take GPU types` });
        else if (kind === "cpu" && t.gpu) ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `${name} is a GPU type; the CPU NodePool takes CPU types` });
        // Karpenter only launches types that keep the pool within spec.limits (upstream-facts section 12).
        else if (p.enabled && (t.vcpu > p.limits.cpu || t.memoryGiB > p.limits.memoryGiB || (t.gpu?.count ?? 0) > p.limits.gpus))
          ctx.addIssue({
            code: "custom",
            path: ["limits"],
            message:
              `${name} (${t.vcpu} vCPU, ${t.memoryGiB} GiB, ${t.gpu?.count ?? 0} GPUs) does not fit the limits (cpu ${p.limits.cpu}, memoryGiB ${p.limits.memoryGiB}, gpus ${p.limits.gpus}), ` +
              `so Karpenter can never launch it; raise the limits or drop the type`,
          });
      });
      if (kind === "gpu" && p.enabled && p.limits.gpus < 1)
        ctx.addIssue({ code: "custom", path: ["limits", "gpus"], message: "must be >= 1 for an enabled GPU NodePool (it is the hard cap on GPUs)" });
      if (kind === "cpu" && p.limits.gpus !== 0)
        ctx.addIssue({ code: "custom", path: ["limits", "gpus"], message: `must be 0 for the CPU NodePool, got ${p.limits.gpus}` });
    });

const karpenterSchema = z
  .strictObject({
    /** EC2NodeClass AMI alias: `al2023@v<YYYYMMDD>` pinned; `al2023@latest` only outside prod. */
    amiAlias: z.string().regex(/^al2023@(latest|v\d{8})$/, { error: 'expected "al2023@v<YYYYMMDD>" (or "al2023@latest" outside prod)' }),
    gpuSpot: nodePoolSchema("gpu"),
    gpuOnDemand: nodePoolSchema("gpu"),
    cpu: nodePoolSchema("cpu"),
  })
  .superRefine((k, ctx) => {
    if (k.gpuOnDemand.enabled && k.gpuSpot.enabled && k.gpuOnDemand.weight >= k.gpuSpot.weight)
      ctx.addIssue({
        code: "custom",
        path: ["gpuOnDemand", "weight"],
        message: `must be lower than gpuSpot.weight (${k.gpuSpot.weight}) so that spot is tried first, got ${k.gpuOnDemand.weight}`,
      });
  });

const modelSchema = z
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
    weights: z
      .strictObject({
        /** `s3`: streamed from the platform's weights bucket (Run:ai streamer); `huggingface`: downloaded at start. */
        source: z.enum(["s3", "huggingface"]).default("s3"),
        /** Hugging Face revision (commit SHA or branch) synced into S3. */
        revision: z.string().regex(/^[\w.-]+$/).default("main"),
      })
      .prefault({}),
    /** SLO targets the alerts fire on (seed: p95 150 ms for 20B, 300 ms for 120B). */
    slo: z.strictObject({ ttftP95Ms: int(10, 60000), e2eP95Ms: int(100, 600000) }),
  });

const encoderSchema = (models: readonly string[], defaultModel: string) =>
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

const embeddingsSchema = z.strictObject({
  embed: encoderSchema(EMBEDDING_MODEL_KEYS, "bge-large-en-v1.5"),
  // The default reranker has an 8192-token window: LiteLLM's rerank sends truncate: false, which
  // TEI honours, so a 512-token model refuses long pairs through the gateway (docs/gateway.md, "Long inputs").
  rerank: encoderSchema(RERANKER_MODEL_KEYS, "gte-reranker-modernbert-base"),
});

const vectorDbSchema = z
  .strictObject({
    mode: z.enum(["standalone", "cluster"]),
    etcdReplicas: z.union([z.literal(1), z.literal(3)], { error: "expected 1 or 3 (etcd needs an odd quorum)" }),
    /** Milvus message queue / WAL. `woodpecker` keeps the WAL on S3 with no extra brokers. */
    messageQueue: z.enum(["woodpecker", "pulsarv3", "kafka"]),
    queryNodeReplicas: int(1, 50).default(1),
    dataNodeReplicas: int(1, 50).default(1),
    proxyReplicas: int(1, 20).default(1),
    etcdStorageGi: int(5, 1000).default(10),
  })
  .superRefine((v, ctx) => {
    if (v.mode === "standalone" && (v.queryNodeReplicas > 1 || v.dataNodeReplicas > 1 || v.proxyReplicas > 1))
      ctx.addIssue({ code: "custom", path: ["mode"], message: "standalone runs one pod; set mode: cluster to scale query, data or proxy nodes" });
  });

/**
 * The image of a service we ship: `build` builds services/<name> and pushes it to an ECR
 * repository the stack owns (components/service-image.ts); `registry` is a published image,
 * pinned by tag or digest (never :latest).
 */
const serviceImageSchema = z.discriminatedUnion("source", [
  z.strictObject({ source: z.literal("build") }),
  z.strictObject({
    source: z.literal("registry"),
    ref: z
      .string()
      .regex(/^[\w.-]+(:\d+)?(\/[\w.-]+)+(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/, { error: "expected repository:tag or repository@sha256:<digest>" })
      // eslint-disable-next-line no-restricted-syntax -- this is the check that rejects :latest
      .refine((r) => !r.endsWith(":latest"), { error: "must be pinned; :latest is not allowed" }),
  }),
]);

const safetySchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    image: serviceImageSchema,
    replicas: replicas(1),
    targetCpuUtilization: int(20, 95).default(70),
    /** What the service answers when Azure AI Content Safety is unreachable. */
    failureMode: z.enum(["closed", "open-with-warning"]).default("closed"),
    azure: z.strictObject({
      enabled: z.boolean(),
      endpoint: z.url({ protocol: /^https$/, error: "expected an https:// URL" }).optional(),
      timeoutMs: int(100, 10000).default(1500),
    }),
    /** Severity (0-7) at or above which a category blocks. */
    thresholds: z
      .strictObject({
        hate: int(0, 7).default(4),
        sexual: int(0, 7).default(4),
        violence: int(0, 7).default(4),
        selfHarm: int(0, 7).default(2),
      })
      .prefault({}),
    /** Characters per token assumed when the service's text and body limits are derived from the largest maxModelLen. */
    charsPerToken: int(2, 32).default(8),
    /** The service's shipped, versioned default lists (weapons, self-harm, secrets, PII, prompt injection). */
    defaultLists: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Ids of default lists to leave out, e.g. ["pii_us_ssn"]. */
        disable: z.array(z.string().regex(/^[a-z0-9_]{1,64}$/)).default([]),
      })
      .prefault({}),
  })
  .superRefine((s, ctx) => {
    if (s.azure.enabled && !s.azure.endpoint)
      ctx.addIssue({ code: "custom", path: ["azure", "endpoint"], message: "required when azure.enabled is true (https://<resource>.cognitiveservices.azure.com)" });
  });

/** The RAG service (services/rag, docs/rag.md): retrieval and answer settings rendered into its config file. */
const ragSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    image: serviceImageSchema.default({ source: "build" }),
    replicas: replicas(1).default({ min: 1, max: 2 }),
    targetCpuUtilization: int(20, 95).default(70),
    /** Milvus collections the service may use; the first is the default. */
    collections: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, { error: "a Milvus collection name: letters, digits and _, starting with a letter or _" }))
      .min(1)
      .default(["rag_chunks"])
      .refine((n) => new Set(n).size === n.length, { error: "collection names must be unique" }),
    chunking: z
      .strictObject({
        /** Chunk size in o200k tokens (the chat model's tokenizer). */
        maxTokens: int(16, 8192).default(300),
        overlapTokens: int(0, 4096).default(40),
      })
      .prefault({})
      .superRefine((c, ctx) => {
        if (c.overlapTokens >= c.maxTokens) ctx.addIssue({ code: "custom", path: ["overlapTokens"], message: `must be smaller than rag.chunking.maxTokens (${c.maxTokens}), got ${c.overlapTokens}` });
      }),
    fusion: z
      .discriminatedUnion("kind", [
        z.strictObject({ kind: z.literal("rrf"), k: int(1, 16384).default(60) }),
        z.strictObject({ kind: z.literal("weighted"), bm25: z.number().min(0).max(1), dense: z.number().min(0).max(1) }),
      ])
      .prefault({ kind: "rrf" })
      .superRefine((f, ctx) => {
        if (f.kind === "weighted" && f.bm25 + f.dense === 0) ctx.addIssue({ code: "custom", path: ["bm25"], message: "rag.fusion.bm25 and rag.fusion.dense cannot both be 0" });
      }),
    /** Candidates from each route (BM25, dense) before fusion. */
    candidates: int(1, 16384).default(50),
    topK: int(1, 200).default(8),
    maxTopK: int(1, 1000).default(50),
    rerank: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Fused candidates sent to TEI /rerank. */
        depth: int(1, 1000).default(32),
        /** A rerank score below this is "not relevant" for /v1/answer. */
        minScore: z.number().min(0).max(1).default(0.1),
      })
      .prefault({}),
    /** Where a request's tenant comes from: the request, or the caller's LiteLLM team or user id. */
    tenantFrom: z.enum(["request", "team_id", "user_id"]).default("request"),
    /** Publish the service at /rag on the gateway's ALB (components/rag.ts ragIngress). */
    gatewayRoute: z.boolean().default(true),
    /**
     * The in-cluster retrieval evaluation (services/rag eval/run.ts --url): a Job that ingests the
     * shipped fixture for a fresh tenant into the real TEI and Milvus, asks its questions and
     * deletes the documents. Off by default; it needs a LiteLLM key the operator put in Vault.
     */
    evaluation: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** A LiteLLM key for the Job, "path#key" in the KV mount (never the value). */
        apiKeyVaultRef: vaultRef.optional(),
        /** The Job fails when hybrid + rerank recall@5 is below this. */
        minRecallAt5: z.number().min(0).max(1).default(0.6),
      })
      .prefault({})
      .superRefine((e, ctx) => {
        if (e.enabled && !e.apiKeyVaultRef)
          ctx.addIssue({ code: "custom", path: ["apiKeyVaultRef"], message: 'required when rag.evaluation.enabled is true: a LiteLLM key in Vault, e.g. "llm-platform/<env>/rag-eval#api-key" (the service checks callers\' keys)' });
      }),
    /** The chat model that answers (a `models` key); the call goes through the gateway. */
    answerModel: z.string().min(1).default("gpt-oss-20b"),
    maxAnswerTokens: int(16, 32768).default(1024),
    /** Prompt budget (system + sources + question + answer) in the answer model's tokens. */
    contextTokens: int(512, 1_000_000).default(8192),
  })
  .prefault({})
  .superRefine((r, ctx) => {
    if (r.topK > r.maxTopK) ctx.addIssue({ code: "custom", path: ["topK"], message: `must be <= rag.maxTopK (${r.maxTopK}), got ${r.topK}` });
    if (r.rerank.enabled && r.rerank.depth < r.topK) ctx.addIssue({ code: "custom", path: ["rerank", "depth"], message: `must be >= rag.topK (${r.topK}) so that the reranked list fills the answer, got ${r.rerank.depth}` });
    if (r.maxAnswerTokens >= r.contextTokens) ctx.addIssue({ code: "custom", path: ["maxAnswerTokens"], message: `must be smaller than rag.contextTokens (${r.contextTokens}), got ${r.maxAnswerTokens}` });
  });

const alertReceiverSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("none") }),
  z.strictObject({ type: z.literal("slack"), channel: z.string().regex(/^#[\w-]+$/), webhookUrlVaultRef: vaultRef }),
  z.strictObject({ type: z.literal("pagerduty"), routingKeyVaultRef: vaultRef }),
]);

const observabilitySchema = z.strictObject({
  prometheus: z.strictObject({
    replicas: int(1, 3),
    retention: z.string().regex(/^\d+(h|d|w)$/, { error: 'expected a Prometheus duration such as "15d"' }),
    storageGi: int(10, 10000),
    scrapeInterval: z.string().regex(/^\d+s$/).default("30s"),
  }),
  grafana: z.strictObject({ replicas: int(1, 3).default(1) }).prefault({}),
  alertmanager: z.strictObject({ replicas: int(1, 3), receiver: alertReceiverSchema }),
  /** Base URL of docs/runbooks.md as published (alerts link to <base>#<alert>). */
  runbookBaseUrl: z.url({ protocol: /^https$/ }).default("https://github.com/example-org/llm-platform/blob/main/docs/runbooks.md"),
  tracing: z.strictObject({
    enabled: z.boolean(),
    /** Head sampling ratio for the collector (0-1). */
    samplingRatio: z.number().min(0).max(1).default(0.1),
    jaegerStorage: z.enum(["memory", "badger"]).default("memory"),
    /** Pass --otlp-traces-endpoint to vLLM; leave off unless the pinned image has OpenTelemetry. */
    vllmTraces: z.boolean().default(false),
  }),
});

const vaultSchema = z.strictObject({
  address: z.url({ protocol: /^https$/, error: "expected the Vault address as an https:// URL" }),
  /** Where Vault lives, for the egress NetworkPolicy of External Secrets (CIDRs). */
  cidrs: z.array(cidr(8, 32)).min(1),
  /** Vault Enterprise / HCP namespace; omit for OSS Vault. */
  namespace: z.string().regex(/^[\w-]+(\/[\w-]+)*$/).optional(),
  /** KV v2 mount that holds the platform's secrets. */
  kvMount: z.string().regex(/^[\w-]+$/).default("secret"),
  /** Prefix of every secret path the platform owns in that mount. */
  pathPrefix: z.string().regex(/^[\w-]+(\/[\w-]+)*$/),
  /**
   * Mount path for this cluster's JWT auth method (service-account tokens verified against the
   * cluster's OIDC issuer); defaults to `jwt-<cluster name>`.
   */
  jwtAuthPath: z.string().regex(/^[\w-]+(\/[\w-]+)*$/).optional(),
  /** Secrets the operators put in Vault by hand. */
  operatorSecrets: z.strictObject({ huggingfaceToken: vaultRef, azureContentSafetyKey: vaultRef }),
});

const budgetSchema = z.strictObject({
  /** Hard ceiling for the estimated monthly cost at maximum scale, USD. */
  monthlyUsd: z.number().positive({ error: "must be > 0 (USD per month)" }),
  /** Assumed spot discount off on-demand (0-0.9). Public reports range 50-80% for GPUs. */
  spotDiscount: z.number().min(0).max(0.9),
  /** Addresses AWS Budgets notifies at 80% forecast and 100% actual. */
  alertEmails: z.array(z.email()).default([]),
});

const protectionSchema = z.strictObject({
  /** Keep stateful resources (buckets, volumes, databases) in AWS when they leave the stack. */
  retainOnDelete: z.boolean(),
  /** Pulumi `protect`: refuse to delete stateful resources at all. */
  protect: z.boolean(),
});

const networkSecuritySchema = z
  .strictObject({
    istio: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
  })
  .prefault({});

const autoscalingSchema = z
  .strictObject({
    kedaOperatorReplicas: int(1, 3).default(1),
  })
  .prefault({});

const edgeSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    loadBalancer: z
      .strictObject({
        scheme: z.enum(["internal", "internet-facing"]).default("internal"),
        certificateArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/, { error: "expected an ACM certificate ARN" })
          .optional(),
        waf: z.strictObject({ enabled: z.boolean().default(false), rateLimitPer5Min: int(100, 2_000_000_000).default(2000) }).prefault({}),
        accessLogRetentionDays: int(1, 3650).default(90),
      })
      .prefault({}),
    gateway: z.strictObject({ replicas: replicas(1).prefault({ min: 2, max: 4 }) }).prefault({}),
    database: z
      .strictObject({
        instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/).default("db.t4g.medium"),
        allocatedStorageGiB: int(20, 65536).default(50),
        multiAz: z.boolean().default(false),
        backupRetentionDays: int(1, 35).default(7),
        deletionProtection: z.boolean().default(false),
      })
      .prefault({}),
    cache: z
      .strictObject({
        nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/).default("cache.t4g.medium"),
        replicasPerShard: int(0, 5).default(0),
        automaticFailover: z.boolean().default(false),
      })
      .prefault({}),
  })
  .prefault({})
  .superRefine((e, ctx) => {
    if (e.enabled && !e.loadBalancer.certificateArn)
      ctx.addIssue({ code: "custom", path: ["loadBalancer", "certificateArn"], message: "required when edge.enabled is true (TLS terminates at the ALB)" });
    if (!DB_INSTANCE_CLASSES.has(e.database.instanceClass))
      ctx.addIssue({ code: "custom", path: ["database", "instanceClass"], message: `${e.database.instanceClass} is not in infra/catalog/instances.ts (DB_INSTANCE_CLASSES), so it cannot be priced; known: ${[...DB_INSTANCE_CLASSES.keys()].join(", ")}` });
    if (!CACHE_NODE_TYPES.has(e.cache.nodeType))
      ctx.addIssue({ code: "custom", path: ["cache", "nodeType"], message: `${e.cache.nodeType} is not in infra/catalog/instances.ts (CACHE_NODE_TYPES), so it cannot be priced; known: ${[...CACHE_NODE_TYPES.keys()].join(", ")}` });
    if (e.cache.automaticFailover && e.cache.replicasPerShard < 1)
      ctx.addIssue({ code: "custom", path: ["cache", "replicasPerShard"], message: "must be >= 1 when automaticFailover is true" });
  });

// ---------------------------------------------------------------------------------------------
// The whole config

export const AREAS = {
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region such as "us-east-1"' }),
  environment: z.enum(ENVIRONMENTS),
  tags: tagsSchema,
  network: networkSchema,
  cluster: clusterSchema,
  gpuPools: z
    .record(z.string().regex(/^[a-z][a-z0-9-]{0,20}$/, { error: "pool names are lower-case letters, digits and hyphens" }), gpuPoolSchema)
    .default({}),
  karpenter: karpenterSchema,
  models: z.partialRecord(z.enum(LLM_MODEL_KEYS as [LlmModelKey, ...LlmModelKey[]]), modelSchema).refine((m) => Object.keys(m).length > 0, {
    error: "configure at least one model",
  }),
  embeddings: embeddingsSchema,
  vectorDb: vectorDbSchema,
  safety: safetySchema,
  rag: ragSchema,
  observability: observabilitySchema,
  vault: vaultSchema,
  budget: budgetSchema,
  protection: protectionSchema,
  networkSecurity: networkSecuritySchema,
  autoscaling: autoscalingSchema,
  edge: edgeSchema,
} as const;

export const PlatformConfigSchema = z.strictObject(AREAS);

type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

type ParsedConfig = z.output<typeof PlatformConfigSchema>;
export type ModelConfig = DeepReadonly<z.output<typeof modelSchema>>;
export type GpuPoolConfig = DeepReadonly<z.output<typeof gpuPoolSchema>>;
export type NodePoolConfig = DeepReadonly<z.output<ReturnType<typeof nodePoolSchema>>>;
export type EncoderConfig = DeepReadonly<z.output<ReturnType<typeof encoderSchema>>>;

/** The validated, read-only config every component receives (or a slice of it). */
export type PlatformConfig = DeepReadonly<
  Omit<ParsedConfig, "cluster"> & {
    /** Pulumi stack name. */
    stack: string;
    cluster: ParsedConfig["cluster"] & { name: string };
  }
>;

// ---------------------------------------------------------------------------------------------
// Cross-area checks

export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

type DeepPartial<T> = T extends readonly (infer E)[]
  ? readonly E[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

function crossChecks(c: DeepPartial<ParsedConfig>, add: (path: (string | number)[], message: string) => void): void {
  const env = c.environment;

  const azs = c.network?.availabilityZones;
  if (c.region && azs) {
    azs.forEach((az, i) => {
      if (!az.startsWith(c.region!)) add(["network", "availabilityZones", i], `${az} is not in region ${c.region} (aws:region)`);
    });
  }

  if (azs && env === "prod" && azs.length < 3) add(["network", "availabilityZones"], `prod needs 3 availability zones for HA, got ${azs.length}`);

  if (env === "prod" && c.karpenter?.amiAlias?.endsWith("@latest"))
    add(["karpenter", "amiAlias"], 'must be pinned in prod (al2023@v<YYYYMMDD>); "@latest" replaces every node whenever AWS publishes an AMI');

  // Pools whose entry failed to parse still have a key; their own errors are reported already.
  const poolNames = c.gpuPools ? Object.keys(c.gpuPools) : undefined;
  const rawPoolNames = new Set(poolNames);
  if (c.models && c.gpuPools) {
    for (const [key, m] of Object.entries(c.models) as [LlmModelKey, DeepPartial<z.output<typeof modelSchema>>][]) {
      const path = ["models", key];
      if (!m.pool) continue;
      const pool = c.gpuPools[m.pool];
      if (!pool) {
        if (!rawPoolNames.has(m.pool)) add([...path, "pool"], `no gpuPools entry named "${m.pool}"; known pools: ${poolNames?.join(", ") || "(none)"}`);
        continue;
      }
      const model = MODELS[key];
      if (m.maxModelLen === undefined || m.tensorParallelSize === undefined || m.gpuMemoryUtilization === undefined) continue;
      if (m.maxModelLen > model.maxContextTokens)
        add([...path, "maxModelLen"], `must be <= the model's context (${model.maxContextTokens}), got ${m.maxModelLen}`);
      const need = llmMemoryNeedGiB(model, m.maxModelLen);
      for (const name of pool.instanceTypes ?? []) {
        const t = instanceType(name);
        if (!t?.gpu) continue; // reported by the pool's own checks
        if (m.tensorParallelSize > t.gpu.count)
          add([...path, "tensorParallelSize"], `must be <= the GPUs per instance of pool "${m.pool}" (${name} has ${t.gpu.count}), got ${m.tensorParallelSize}`);
        const have = gpuMemoryGiB(t) * m.gpuMemoryUtilization * m.tensorParallelSize;
        if (need > have)
          add(
            [...path, "pool"],
            `${key} needs ${need.toFixed(1)} GiB of GPU memory (weights ${model.weightsGiB.toFixed(1)} + runtime ${model.runtimeOverheadGiB} + KV for ${m.maxModelLen} tokens) ` +
              `but pool "${m.pool}" (${name}: ${gpuMemoryGiB(t).toFixed(1)} GiB per GPU x TP ${m.tensorParallelSize} x utilization ${m.gpuMemoryUtilization}) gives ${have.toFixed(1)} GiB; ` +
              `raise tensorParallelSize, lower maxModelLen or place it on a larger GPU`,
          );
      }
      if (env === "prod" && m.replicas?.min !== undefined && m.replicas.min < 2)
        add([...path, "replicas", "min"], `prod keeps at least 2 replicas of every model, got ${m.replicas.min}`);
    }
  }

  if (c.embeddings && c.gpuPools) {
    for (const role of ["embed", "rerank"] as const) {
      const e = c.embeddings[role];
      if (e?.enabled !== false && e?.placement && e.placement !== "cpu" && !rawPoolNames.has(e.placement))
        add(["embeddings", role, "placement"], `expected "cpu" or a gpuPools key (${poolNames?.join(", ") || "none configured"}), got "${e.placement}"`);
    }
  }

  // GPU capacity (infra/capacity.ts): replicas.min fits the node groups at minNodes, replicas.max
  // is reachable through Karpenter, every placed GPU is offered by a Karpenter NodePool.
  const capacity = capacityInput(c);
  if (capacity) for (const p of configCapacityProblems(capacity)) add(p.path.split("."), p.message);

  if (c.vectorDb?.mode && env && env !== "dev" && c.vectorDb.mode !== "cluster")
    add(["vectorDb", "mode"], `${env} runs Milvus in cluster mode for HA, got "${c.vectorDb.mode}"`);

  if (c.rag?.enabled) {
    const key = c.rag.answerModel;
    const model = key && c.models ? (c.models as Record<string, DeepPartial<z.output<typeof modelSchema>> | undefined>)[key] : undefined;
    if (key && c.models && !model)
      add(["rag", "answerModel"], `"${key}" is not a configured model (models: ${Object.keys(c.models).join(", ") || "none"}); set rag.answerModel to one of them, or add models.${key}`);
    if (model?.maxModelLen !== undefined && c.rag.contextTokens !== undefined && c.rag.contextTokens > model.maxModelLen)
      add(["rag", "contextTokens"], `must be <= models.${key}.maxModelLen (${model.maxModelLen}), the answer model's context, got ${c.rag.contextTokens}`);
    if (c.embeddings?.embed && c.embeddings.embed.enabled === false) add(["rag", "enabled"], "the RAG service embeds through TEI: set embeddings.embed.enabled to true, or rag.enabled to false");
    if (c.rag.rerank?.enabled && c.embeddings?.rerank && c.embeddings.rerank.enabled === false)
      add(["rag", "rerank", "enabled"], "the reranker is off (embeddings.rerank.enabled: false): set rag.rerank.enabled to false, or turn the reranker on");
    if (c.edge && c.edge.enabled === false) add(["rag", "enabled"], "the RAG service answers through the gateway and is reached through its /rag route: set edge.enabled to true, or rag.enabled to false");
    const catalog = c.embeddings?.embed?.model ? (MODELS as Record<string, (typeof MODELS)[keyof typeof MODELS]>)[c.embeddings.embed.model] : undefined;
    const embed = catalog && catalog.kind !== "llm" ? catalog : undefined;
    if (embed && c.rag.chunking?.maxTokens !== undefined && c.rag.chunking.maxTokens > embed.maxInputTokens)
      add(["rag", "chunking", "maxTokens"], `must be <= the embedding model's input limit (${embed.key}: ${embed.maxInputTokens} tokens), got ${c.rag.chunking.maxTokens}`);
  }

  if (c.protection && env && env !== "dev" && c.protection.retainOnDelete === false && c.protection.protect === false)
    add(["protection"], `${env} must set retainOnDelete or protect so that stateful resources survive a destroy or refactor`);
}

/** The parts the capacity cross-check reads, when every one of them parsed and refers to known pools. */
function capacityInput(c: DeepPartial<ParsedConfig>): CapacityConfig | undefined {
  const { gpuPools, karpenter, models, embeddings } = c;
  if (!gpuPools || !karpenter?.gpuSpot?.limits || !karpenter.gpuOnDemand?.limits || !models || !embeddings?.embed || !embeddings.rerank) return undefined;
  const pools = Object.values(gpuPools);
  if (pools.some((p) => !p?.instanceTypes?.length || p.minNodes === undefined || p.instanceTypes.some((n) => !instanceType(n)?.gpu))) return undefined;
  if ([karpenter.gpuSpot, karpenter.gpuOnDemand].some((p) => !p.instanceTypes || p.instanceTypes.some((n) => !instanceType(n)?.gpu))) return undefined;
  const known = (pool: string | undefined) => pool !== undefined && gpuPools[pool] !== undefined;
  if (Object.values(models).some((m) => !m?.replicas || m.tensorParallelSize === undefined || !known(m.pool))) return undefined;
  if ([embeddings.embed, embeddings.rerank].some((e) => !e.replicas || (e.enabled !== false && e.placement !== "cpu" && !known(e.placement)))) return undefined;
  return c as unknown as CapacityConfig;
}

// ---------------------------------------------------------------------------------------------
// Parsing and errors

export class ConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      `Invalid configuration for stack "${stackName}" (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
        issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n") +
        `\nSee docs/configuration.md for every key.`,
    );
    this.name = "ConfigError";
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  if (path[0] === "region") return "aws:region";
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  // Walk the schema along the path to list the keys an object accepts.
  let schema: z.ZodType | undefined = PlatformConfigSchema;
  for (const p of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(p)];
    else if (schema instanceof z.ZodRecord) schema = schema._zod.def.valueType as z.ZodType;
    else return [];
  }
  schema = unwrap(schema);
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodRecord) {
    const keyType = schema._zod.def.keyType as z.ZodType;
    if (keyType instanceof z.ZodEnum) return keyType.options.map(String);
  }
  return [];
}

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  let cur = s;
  for (let i = 0; i < 10 && cur; i++) {
    const def = cur._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
    if (def.innerType) cur = def.innerType;
    else if (cur instanceof z.ZodPipe && def.in) cur = def.in;
    else break;
  }
  return cur;
}

function issueToConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = issue.path;
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeysAt(path);
      return issue.keys.map((k) => {
        const best = known.map((c) => [c, editDistance(k.toLowerCase(), c.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
        const hint = best && best[1] <= 3 ? `; did you mean "${best[0]}"?` : known.length ? `; expected one of: ${known.join(", ")}` : "";
        return { path: formatPath([...path, k]), message: `unknown key${hint}` };
      });
    }
    case "invalid_type":
      return [{ path: formatPath(path), message: issue.input === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, got ${describe(issue.input)}` }];
    case "invalid_value": {
      const expected = /^Invalid (option|input)/.test(issue.message) ? `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` : issue.message;
      return [{ path: formatPath(path), message: `${expected}, got ${describe(issue.input)}` }];
    }
    case "invalid_key":
      return [{ path: formatPath(path), message: `invalid key: ${issue.issues.map((i) => i.message).join("; ")}` }];
    case "too_small":
    case "too_big": {
      const custom = !/^Too (small|big)/.test(issue.message);
      if (custom) return [{ path: formatPath(path), message: issue.message }];
      const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const what = issue.origin === "array" ? `at least/most ${String(bound)} items` : `${op} ${String(bound)}`;
      return [
        {
          path: formatPath(path),
          message: issue.origin === "array" ? `expected ${what.replace("at least/most", issue.code === "too_small" ? "at least" : "at most")}, got ${Array.isArray(issue.input) ? issue.input.length : "?"}` : `must be ${what}, got ${describe(issue.input)}`,
        },
      ];
    }
    case "invalid_union": {
      if (issue.discriminator !== undefined && "options" in issue && issue.options)
        return [
          {
            path: formatPath(path[path.length - 1] === issue.discriminator ? path : [...path, issue.discriminator]),
            message: `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(", ")}, got ${describe((issue.input as Record<string, unknown> | undefined)?.[issue.discriminator])}`,
          },
        ];
      return [{ path: formatPath(path), message: `${issue.message}, got ${describe(issue.input)}` }];
    }
    default:
      return [{ path: formatPath(path), message: issue.message.replace(/^Invalid input: /, "") }];
  }
}

/**
 * Parses raw config (area name -> value, as in the stack file under `llm-platform:`, plus
 * `region` from `aws:region`). Returns the typed config or throws one ConfigError with every
 * problem.
 */
export function parsePlatformConfig(raw: Record<string, unknown>, stack: string): PlatformConfig {
  const issues: ConfigIssue[] = [];
  const whole = PlatformConfigSchema.safeParse(raw, { reportInput: true });
  // A refinement message at a key that already has a type/range/enum problem adds nothing.
  const structural = new Set(whole.error?.issues.filter((i) => i.code !== "custom").map((i) => formatPath(i.path)));
  if (!whole.success)
    for (const i of whole.error.issues) {
      if (i.code === "custom" && structural.has(formatPath(i.path))) continue;
      issues.push(...issueToConfigIssues(i));
    }

  // Cross-area checks run over every area that parsed, so that one broken area does not hide
  // problems elsewhere.
  const parsed = partialParse(PlatformConfigSchema, raw) as DeepPartial<ParsedConfig>;
  crossChecks(parsed ?? {}, (path, message) => {
    if (!structural.has(formatPath(path))) issues.push({ path: formatPath(path), message });
  });

  if (issues.length > 0 || !whole.success) throw new ConfigError(stack, dedupe(issues));

  const c = whole.data;
  return {
    ...c,
    stack,
    cluster: { ...c.cluster, name: c.cluster.name ?? `${c.tags.project}-${stack}` },
  };
}

/**
 * Parses what it can: the value if it is valid, otherwise (for objects and records) each
 * property that is valid on its own. Object-level refinements are skipped for the parts.
 */
function partialParse(schema: z.ZodType, value: unknown): unknown {
  const whole = schema.safeParse(value);
  if (whole.success) return whole.data;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const inner = unwrap(schema);
  const out: Record<string, unknown> = {};
  if (inner instanceof z.ZodObject) {
    for (const [k, s] of Object.entries<z.ZodType>(inner.shape)) {
      const v = partialParse(s, (value as Record<string, unknown>)[k]);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (inner instanceof z.ZodRecord) {
    const keyType = inner._zod.def.keyType as z.ZodType;
    for (const [k, v] of Object.entries(value)) {
      if (keyType.safeParse(k).success) out[k] = partialParse(inner._zod.def.valueType as z.ZodType, v) ?? {};
    }
    return out;
  }
  return undefined;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Reads this stack's config from the Pulumi runtime: every `llm-platform:<area>` key (objects
 * arrive as JSON) plus `aws:region`. Unknown `llm-platform:` keys are passed on, so the schema
 * rejects typos in area names too.
 */
export function loadConfig(): PlatformConfig {
  const all = pulumi.runtime.allConfig();
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (key === "aws:region") raw.region = value;
    else if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = parseConfigValue(value);
  }
  return parsePlatformConfig(raw, pulumi.getStack());
}

function parseConfigValue(v: string): unknown {
  const t = v.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}

function unknownInstanceMessage(name: string): string {
  return `${name} is not in infra/catalog/instances.ts; add it there (with its price and source) or pick a listed type`;
}

/**
 * Every key path the schema accepts, e.g. `gpuPools.<name>.maxNodes`. The docs test checks
 * that docs/configuration.md documents each one.
 */
export function configKeyPaths(): string[] {
  const out: string[] = [];
  const walk = (s: z.ZodType | undefined, path: string): void => {
    const inner = unwrap(s);
    if (inner instanceof z.ZodObject) {
      for (const [k, v] of Object.entries<z.ZodType>(inner.shape)) {
        const p = path ? `${path}.${k}` : k;
        out.push(p);
        walk(v, p);
      }
    } else if (inner instanceof z.ZodRecord) {
      walk(inner._zod.def.valueType as z.ZodType, `${path}.<name>`);
    } else if (inner instanceof z.ZodDiscriminatedUnion) {
      for (const o of inner._zod.def.options as z.ZodType[]) walk(o, path);
    }
  };
  walk(PlatformConfigSchema, "");
  return [...new Set(out)];
}
