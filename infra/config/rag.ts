/** Area `rag`: the RAG service (services/rag). */
import { z } from "zod";
import { int, replicas, serviceImageSchema, vaultRef } from "./primitives";

/** The RAG service (services/rag, docs/rag.md): retrieval and answer settings rendered into its config file. */
export const ragSchema = z
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
