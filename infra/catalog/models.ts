/**
 * Model catalog: each model's memory needs and its serving recipe. Config validation uses
 * the memory figures to check that a model fits the GPUs of the pool it is placed on; the
 * serving components use the recipe.
 *
 * Sources (see ../shared/reference/upstream-facts.md sections 1, 2, 10 and 11):
 * - gpt-oss: openai/gpt-oss README; vllm-project/recipes models/openai/gpt-oss-{20b,120b}.yaml,
 *   OpenAI/GPT-OSS.md, OpenAI/GPT-OSS_Hopper.yaml; vllm issue #22331 (20b loads as 12.88 GiB).
 * - Architecture (layers, KV heads, head dim): the models' config.json on Hugging Face.
 * - BGE: the models' Hugging Face cards and 1_Pooling/config.json; TEI README.
 */

export interface LlmModel {
  readonly kind: "llm";
  readonly key: string;
  /** Hugging Face repository. */
  readonly hfRepo: string;
  /**
   * tiktoken encodings the model's tokenizer library loads at start-up (gpt-oss: openai_harmony).
   * The weights sync Job stores them in S3 next to the weights, so the server never fetches them.
   */
  readonly tiktokenEncodings?: readonly TiktokenEncodingName[];
  /** Weights as loaded on the GPU, GiB (MXFP4 MoE + BF16 attention). */
  readonly weightsGiB: number;
  /**
   * KV-cache bytes per token, all layers counted at full attention:
   * 2 (K and V) x layers x KV heads x head dim x 2 bytes (BF16). Conservative for gpt-oss,
   * whose alternate layers use a 128-token sliding window.
   */
  readonly kvBytesPerToken: number;
  /** CUDA graphs, activations and the sampler, outside the KV cache, GiB. */
  readonly runtimeOverheadGiB: number;
  readonly maxContextTokens: number;
  /** Seconds to load the weights from S3 with the Run:ai streamer at 3.51 GiB/s, rounded up. */
  readonly s3LoadSeconds: number;
  /** Seconds of torch.compile and CUDA graph capture on a warm node (vllm issue #22331: ~20 s for 20b). */
  readonly compileSeconds: number;
  /** The seed's cold-start goal on a warm node, seconds. */
  readonly coldStartGoalSeconds: number;
  /** Serving recipe from vllm-project/recipes, per GPU architecture. */
  readonly recipe: {
    readonly toolCallParser: "openai";
    /** Ampere/Ada (A10G, L4, L40S, A100): V1 defaults, prefix caching on. */
    readonly default: RecipeArgs;
    /** Hopper (H100): OpenAI/GPT-OSS_Hopper.yaml. */
    readonly hopper: RecipeArgs;
    /** Hopper at TP 1, where the recipe's OOM fix applies (gpt-oss-120b on one H100). */
    readonly hopperTp1?: RecipeArgs;
  };
  readonly source: string;
}

export interface RecipeArgs {
  readonly prefixCaching: boolean;
  readonly args: readonly string[];
}

/**
 * GPT-OSS_Hopper.yaml's batching (8192 batched tokens, CUDA graphs captured up to 2048), with
 * two of its settings left out on purpose (upstream-facts section 12):
 * - `--no-enable-prefix-caching`: the recipe (OpenAI/GPT-OSS.md) recommends it only "if running
 *   with synthetic dataset for consistent performance measurement"; production traffic (shared
 *   system prompts, multi-turn chats) gains from prefix caching, which vLLM V1 enables by default.
 * - `--stream-interval 20`: it batches streamed output into 20-token bursts, a throughput
 *   setting for benchmarks that makes interactive streams stutter.
 * vLLM caps the CUDA graph capture size at max_num_batched_tokens (vllm/config/vllm.py
 * `_set_cudagraph_sizes`: `max_cudagraph_capture_size = min(max_num_tokens, ...)`), so every
 * recipe here keeps it at or below its batched tokens (tests/serving.test.ts holds them to it).
 */
const GPT_OSS_HOPPER: RecipeArgs = {
  prefixCaching: true,
  args: ["--max-num-batched-tokens", "8192", "--max-cudagraph-capture-size", "2048"],
};

/**
 * The tiktoken encoding files openai_harmony reads. With `TIKTOKEN_ENCODINGS_BASE=<dir>` it opens
 * `<dir>/<file>` and checks its SHA-256; without it, it downloads from the public URL
 * (openai/harmony src/tiktoken_ext/public_encodings.rs, `load`, `vocab_file_name`,
 * `expected_hash`). vllm-project/recipes OpenAI/GPT-OSS.md ("Troubleshooting") downloads both files
 * below into one directory and sets TIKTOKEN_ENCODINGS_BASE for offline start-up.
 */
export const TIKTOKEN_ENCODINGS = {
  o200k_base: {
    file: "o200k_base.tiktoken",
    url: "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    sha256: "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
  },
  cl100k_base: {
    file: "cl100k_base.tiktoken",
    url: "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    sha256: "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
  },
} as const;
export type TiktokenEncodingName = keyof typeof TIKTOKEN_ENCODINGS;

export interface EncoderModel {
  readonly kind: "embedding" | "reranker";
  readonly key: string;
  readonly hfRepo: string;
  /** Hugging Face revision the weights sync Job copies into S3 (a new revision is a new Job). */
  readonly revision: string;
  /** Pooling the model defines in 1_Pooling/config.json (BGE uses CLS). */
  readonly pooling?: "cls" | "mean";
  readonly weightsGiB: number;
  readonly maxInputTokens: number;
  readonly dimensions?: number;
  readonly source: string;
}

export type Model = LlmModel | EncoderModel;

const GIB = 1024 ** 3;

function kvBytesPerToken(layers: number, kvHeads: number, headDim: number): number {
  return 2 * layers * kvHeads * headDim * 2;
}

export const MODELS = {
  "gpt-oss-20b": {
    kind: "llm",
    key: "gpt-oss-20b",
    hfRepo: "openai/gpt-oss-20b",
    tiktokenEncodings: ["o200k_base", "cl100k_base"],
    weightsGiB: 12.88,
    kvBytesPerToken: kvBytesPerToken(24, 8, 64),
    runtimeOverheadGiB: 2,
    maxContextTokens: 131072,
    s3LoadSeconds: Math.ceil(12.88 / 3.51),
    compileSeconds: 20,
    coldStartGoalSeconds: 60,
    recipe: { toolCallParser: "openai", default: { prefixCaching: true, args: [] }, hopper: GPT_OSS_HOPPER },
    source: "openai/gpt-oss README; vllm-project/recipes models/openai/gpt-oss-20b.yaml; vllm issue #22331",
  },
  "gpt-oss-120b": {
    kind: "llm",
    key: "gpt-oss-120b",
    hfRepo: "openai/gpt-oss-120b",
    tiktokenEncodings: ["o200k_base", "cl100k_base"],
    // ~60.8 GB of weights (upstream-facts section 11) = 56.6 GiB.
    weightsGiB: 60.8e9 / GIB,
    kvBytesPerToken: kvBytesPerToken(36, 8, 64),
    runtimeOverheadGiB: 3,
    maxContextTokens: 131072,
    s3LoadSeconds: Math.ceil(60.8e9 / GIB / 3.51),
    compileSeconds: 40,
    coldStartGoalSeconds: 120,
    recipe: {
      toolCallParser: "openai",
      default: { prefixCaching: true, args: [] },
      hopper: GPT_OSS_HOPPER,
      // Recipe: "H100 TP1 OOM fix: --gpu-memory-utilization 0.95 --max-num-batched-tokens 1024".
      // The capture size follows the batched tokens down to 1024: vLLM caps it there anyway.
      hopperTp1: { prefixCaching: true, args: ["--max-num-batched-tokens", "1024", "--max-cudagraph-capture-size", "1024"] },
    },
    source: "openai/gpt-oss README; vllm-project/recipes models/openai/gpt-oss-120b.yaml, OpenAI/GPT-OSS.md",
  },
  "bge-large-en-v1.5": {
    kind: "embedding",
    key: "bge-large-en-v1.5",
    hfRepo: "BAAI/bge-large-en-v1.5",
    // Commit id (prod refuses a branch; issue 12). Source: public pins of this commit found by code search (the MTEB model registry's revision for BAAI/bge-large-en-v1.5, and Hugging Face cache snapshot paths models--BAAI--bge-large-en-v1.5/snapshots/<commit>); not checked against the Hub API from here.
    revision: "d4aa6901d3a41ba39fb536a557fa166f842b0e09",
    pooling: "cls",
    weightsGiB: 1.25,
    maxInputTokens: 512,
    dimensions: 1024,
    source: "huggingface.co/BAAI/bge-large-en-v1.5 (1_Pooling/config.json: pooling_mode_cls_token=true)",
  },
  "bge-reranker-large": {
    kind: "reranker",
    key: "bge-reranker-large",
    hfRepo: "BAAI/bge-reranker-large",
    // Commit id (prod refuses a branch; issue 12). Source: public pins of this commit found by code search (model_revision / revision= pins and Hugging Face cache snapshot paths in several unrelated repositories); not checked against the Hub API from here.
    revision: "55611d7bca2a7133960a6d3b71e083071bbfc312",
    weightsGiB: 1.04,
    maxInputTokens: 512,
    source: "huggingface.co/BAAI/bge-reranker-large; TEI README (supported rerankers)",
  },
  // A reranker with an 8192-token window: the long-input path through the gateway. LiteLLM's
  // huggingface/ rerank always sends `"truncate": false` and TEI honours it over --auto-truncate,
  // so through the gateway an input longer than the model's window is rejected, never truncated
  // (docs/gateway.md "Long inputs"); with this model that window is 8192 tokens, not 512.
  "gte-reranker-modernbert-base": {
    kind: "reranker",
    key: "gte-reranker-modernbert-base",
    hfRepo: "Alibaba-NLP/gte-reranker-modernbert-base",
    // Commit id (prod refuses a branch; issue 12). Source: public pins of this commit found by code search (two repositories link huggingface.co/Alibaba-NLP/gte-reranker-modernbert-base/tree/<commit>); not checked against the Hub API from here.
    revision: "f7481e6055501a30fb19d090657df9ec1f79ab2c",
    // 149M parameters in FP32 safetensors (the model card); an estimate, not a measured file size.
    weightsGiB: 0.56,
    maxInputTokens: 8192,
    source: "huggingface.co/Alibaba-NLP/gte-reranker-modernbert-base (ModernBERT, 8192 tokens); TEI v1.9.3 README (supported rerankers: ModernBert)",
  },
} as const satisfies Record<string, Model>;

export type ModelKey = keyof typeof MODELS;
export type LlmModelKey = { [K in ModelKey]: (typeof MODELS)[K]["kind"] extends "llm" ? K : never }[ModelKey];
export type EncoderModelKey = Exclude<ModelKey, LlmModelKey>;

export const LLM_MODEL_KEYS = Object.values(MODELS)
  .filter((m) => m.kind === "llm")
  .map((m) => m.key) as LlmModelKey[];
export const EMBEDDING_MODEL_KEYS = Object.values(MODELS)
  .filter((m) => m.kind === "embedding")
  .map((m) => m.key) as EncoderModelKey[];
export const RERANKER_MODEL_KEYS = Object.values(MODELS)
  .filter((m) => m.kind === "reranker")
  .map((m) => m.key) as EncoderModelKey[];

export function llmModel(key: LlmModelKey): LlmModel {
  return MODELS[key];
}

/** Seconds from container start to the API answering, on a warm node with the image cached. */
export const VLLM_PROCESS_START_SECONDS = 15;
/** CUDA-graph capture after compile, seconds. */
export const CUDA_GRAPH_SECONDS = 10;
/** Hugging Face download speed assumed for the fallback path (GiB/s). */
export const HF_DOWNLOAD_GIB_PER_S = 0.1;

/**
 * Estimated engine start of a replica on a warm GPU node (image already pulled): process start,
 * weights (S3 via the Run:ai streamer at 3.51 GiB/s, or a Hugging Face download), torch.compile
 * and CUDA graphs. The seed's goals: < 60 s for 20b, < 120 s for 120b.
 *
 * @deprecated The complete model (node launch, device plugin, image, compile cache, KV-cache
 * profiling, readiness; bounded by the instance's network) is infra/coldstart.ts
 * `coldStartEstimate`; the plan, the startup probe and the policies use it. This one remains for
 * tests/serving.test.ts only.
 */
export function coldStartSeconds(model: LlmModel, source: "s3" | "huggingface"): number {
  const weights = source === "s3" ? model.s3LoadSeconds : Math.ceil(model.weightsGiB / HF_DOWNLOAD_GIB_PER_S);
  return VLLM_PROCESS_START_SECONDS + weights + model.compileSeconds + CUDA_GRAPH_SECONDS;
}

/**
 * GPU memory (GiB) a replica needs: the weights, the runtime overhead, and a KV cache large
 * enough for one sequence of `maxModelLen` tokens (vLLM refuses to start otherwise).
 */
export function llmMemoryNeedGiB(model: LlmModel, maxModelLen: number): number {
  return model.weightsGiB + model.runtimeOverheadGiB + (model.kvBytesPerToken * maxModelLen) / GIB;
}
