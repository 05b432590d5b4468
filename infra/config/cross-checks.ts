/**
 * Cross-area checks: rules that span keys of more than one area, or environments. Each adds a
 * problem at the key an operator must change. They run over every area that parsed, so one
 * broken area does not hide problems elsewhere.
 */
import { configCapacityProblems, type CapacityConfig } from "../capacity";
import { gpuMemoryGiB, instanceType } from "../catalog/instances";
import { llmMemoryNeedGiB, MODELS, type LlmModelKey } from "../catalog/models";
import type { modelSchema } from "./models";
import { warmStartProblems } from "./warm-start";
import type { ParsedConfig } from "./schema";
import type { z } from "zod";

export type DeepPartial<T> = T extends readonly (infer E)[]
  ? readonly E[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export function crossChecks(c: DeepPartial<ParsedConfig>, add: (path: (string | number)[], message: string) => void): void {
  const env = c.environment;

  const azs = c.network?.availabilityZones;
  if (c.region && azs) {
    azs.forEach((az, i) => {
      if (!az.startsWith(c.region!)) add(["network", "availabilityZones", i], `${az} is not in region ${c.region} (aws:region)`);
    });
  }

  if (azs && env === "prod" && azs.length < 3) add(["network", "availabilityZones"], `prod needs 3 availability zones for HA, got ${azs.length}`);

  warmStartProblems(c, add);

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
