/**
 * Capacity against the SLOs, and $/token against the hosted reference (issue 14):
 * - capacity-slo-at-max: each model's maximum replicas deliver its SLO throughput at its TTFT
 *   target (prod mandatory, staging advisory).
 * - capacity-slo-baseline: its minimum replicas deliver a configurable share of it.
 * - token-cost-vs-hosted: its all-in $/1M output tokens at the target utilization is not above the
 *   hosted reference (advisory).
 *
 * What they read: each vLLM Deployment (label `llm-platform.io/model`, `--tensor-parallel-size`,
 * the `llm-platform.io/pool` its node affinity names), its KEDA ScaledObject (min/max replicas)
 * and the managed node group of that pool (instance type: GPU and price; capacity type). The
 * per-replica figure comes from infra/catalog/throughput.ts `replicaThroughputAtSlo` and the price
 * from infra/unit-economics.ts, the same functions the plan's table uses. The SLO targets are the
 * stack file's `models.<k>.slo`, read from the Deployment's annotations (`SLO_ANNOTATIONS`), so
 * there is one source for them.
 */
import type { PolicyConfigSchema, PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { HOSTED_REFERENCE_PRICES } from "llm-platform-infra/catalog/hosted-prices";
import { requireInstanceType, type GpuModel } from "llm-platform-infra/catalog/instances";
import { LLM_MODEL_KEYS, type LlmModelKey } from "llm-platform-infra/catalog/models";
import { replicaThroughputAtSlo, type ReplicaThroughput } from "llm-platform-infra/catalog/throughput";
import { smallestGpuType } from "llm-platform-infra/capacity";
import { replicaHourlyUsd, SLO_ANNOTATIONS, usdPerMillionOutputTokens } from "llm-platform-infra/unit-economics";
import { countableNodeGroups, nodeGroupView, POOL_LABEL } from "./lib/capacity";
import { SCALED_OBJECT, walk } from "./lib/k8s";
import { configOf, propsOf } from "./lib/policy";
import { arr, get, isRecord, num, record, str, stringMap, strings } from "./lib/props";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const MODEL_LABEL = "llm-platform.io/model";

export interface ModelSloTarget {
  readonly ttftP95Ms: number;
  readonly throughputTokensPerSecond?: number;
}

export interface CapacitySloConfig {
  /** Keep equal to economics.promptTokensP95. */
  readonly promptTokensP95: number;
}

export interface BaselineConfig extends CapacitySloConfig {
  /** Share of the SLO throughput replicas.min must deliver (0-1). */
  readonly baselineShare: number;
}

export interface TokenCostConfig extends CapacitySloConfig {
  /** Keep equal to economics.targetUtilization, economics.inputTokensPerOutputToken, budget.spotDiscount. */
  readonly targetUtilization: number;
  readonly inputTokensPerOutputToken: number;
  readonly spotDiscount: number;
}

/** One model server as the rendered objects describe it. */
export interface ServedModel {
  readonly resource: PolicyResource;
  readonly model: LlmModelKey;
  readonly deployment: string;
  readonly tensorParallelSize: number;
  readonly pool?: string;
  readonly gpu?: GpuModel;
  readonly instanceType?: string;
  readonly spot: boolean;
  readonly replicas: { readonly min: number; readonly max: number };
  /** From the Deployment's SLO annotations; undefined when it carries none. */
  readonly slo?: ModelSloTarget;
}

function argValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

/** The vLLM Deployments and what serves them, read from the resources. */
export function servedModels(resources: readonly PolicyResource[]): ServedModel[] {
  const groups = countableNodeGroups(resources).map((r) => nodeGroupView(r.name, propsOf(r)));
  const out: ServedModel[] = [];
  for (const r of resources) {
    if (r.type !== DEPLOYMENT) continue;
    const p = propsOf(r);
    const model = str(get(p, "metadata", "labels", MODEL_LABEL));
    if (!model || !(LLM_MODEL_KEYS as readonly string[]).includes(model)) continue;
    const name = str(get(p, "metadata", "name")) ?? r.name;
    const namespace = str(get(p, "metadata", "namespace")) ?? "default";
    const podSpec = record(get(p, "spec", "template", "spec"));
    const container = arr(podSpec.containers).map(record).find((c) => strings(c.args).includes("--tensor-parallel-size")) ?? record(arr(podSpec.containers)[0]);
    const tp = Number(argValue(strings(container.args), "--tensor-parallel-size") ?? "1");
    let pool: string | undefined;
    walk(get(podSpec, "affinity"), (node) => {
      if (isRecord(node) && node.key === POOL_LABEL && node.operator === "In") pool ??= strings(node.values)[0];
    });
    const group = groups.find((g) => g.pool === pool);
    const t = group && group.instanceTypes.length > 0 ? smallestGpuType(group.instanceTypes) : undefined;
    const scaler = resources.find((s) => {
      if (s.type !== SCALED_OBJECT) return false;
      const sp = propsOf(s);
      return (str(get(sp, "metadata", "namespace")) ?? "default") === namespace && str(get(sp, "spec", "scaleTargetRef", "name")) === name;
    });
    const sp = scaler ? propsOf(scaler) : undefined;
    const fixed = num(get(p, "spec", "replicas")) ?? 1;
    const ann = stringMap(get(p, "metadata", "annotations"));
    const ttft = Number(ann[SLO_ANNOTATIONS.ttftP95Ms]);
    const throughput = Number(ann[SLO_ANNOTATIONS.throughputTokensPerSecond]);
    const slo: ModelSloTarget | undefined =
      ttft > 0 ? { ttftP95Ms: ttft, ...(throughput > 0 ? { throughputTokensPerSecond: throughput } : {}) } : undefined;
    out.push({
      resource: r,
      model: model as LlmModelKey,
      deployment: `${namespace}/${name}`,
      tensorParallelSize: Number.isFinite(tp) && tp >= 1 ? tp : 1,
      ...(pool ? { pool } : {}),
      ...(t?.gpu ? { gpu: t.gpu.model, instanceType: t.name } : {}),
      spot: group?.capacityType === "SPOT",
      replicas: sp ? { min: num(get(sp, "spec", "minReplicaCount")) ?? 0, max: num(get(sp, "spec", "maxReplicaCount")) ?? 100 } : { min: fixed, max: fixed },
      ...(slo ? { slo } : {}),
    });
  }
  return out;
}

function perReplica(m: ServedModel, target: ModelSloTarget, promptTokensP95: number): ReplicaThroughput | undefined {
  if (!m.gpu) return undefined;
  return replicaThroughputAtSlo(m.model, { gpu: m.gpu, tensorParallelSize: m.tensorParallelSize }, { ttftP95Ms: target.ttftP95Ms }, { promptTokensP95 });
}

const tok = (n: number) => Math.round(n).toLocaleString("en-US");

const sloSchema: PolicyConfigSchema["properties"] = {
  promptTokensP95: { type: "integer", minimum: 16, default: 1024, description: "Keep equal to economics.promptTokensP95." },
};

function forEachTarget(resources: readonly PolicyResource[], c: CapacitySloConfig, check: (m: ServedModel, target: ModelSloTarget & { throughputTokensPerSecond: number }, per: ReplicaThroughput | undefined) => void): void {
  for (const m of servedModels(resources)) {
    const target = m.slo;
    if (!target?.throughputTokensPerSecond) continue;
    check(m, { ...target, throughputTokensPerSecond: target.throughputTokensPerSecond }, perReplica(m, target, c.promptTokensP95));
  }
}

function shortfall(m: ServedModel, replicas: number, goal: number, per: ReplicaThroughput | undefined, what: string, key: string): string | undefined {
  if (!per) return `${m.deployment}: no managed node group with pool label ${m.pool ?? "(none)"}, so its GPU is unknown and its capacity cannot be checked`;
  const delivered = replicas * per.tokensPerSecond;
  if (delivered >= goal) return undefined;
  const fix =
    per.tokensPerSecond > 0
      ? `raise ${key} to ${Math.ceil(goal / per.tokensPerSecond)}`
      : `no replica count suffices on ${m.gpu}: place the model on a faster GPU (models.${m.model}.pool), or relax models.${m.model}.slo.ttftP95Ms`;
  return (
    `${m.deployment} (${m.model} on ${m.tensorParallelSize} x ${m.gpu}): ${what} ${replicas} replica(s) x ${tok(per.tokensPerSecond)} tok/s at the TTFT target = ${tok(delivered)} tok/s, below ${tok(goal)} [${per.basis}: ${per.note}] - ${fix}`
  );
}

export const capacitySloAtMax: StackValidationPolicy = {
  name: "capacity-slo-at-max",
  description: "Each model's replicas.max (KEDA maxReplicaCount) delivers its SLO throughput at its TTFT p95 target, by the capacity catalog (infra/catalog/throughput.ts).",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["reliability", "capacity"],
  configSchema: { properties: sloSchema },
  remediationSteps: "Raise models.<k>.replicas.max (and the Karpenter limits that reach it), place the model on a faster GPU, or calibrate the catalog with a load test (npm run capacity:calibrate).",
  validateStack: (args, report) => {
    const c = configOf<CapacitySloConfig>(args);
    forEachTarget(args.resources, c, (m, target, per) => {
      const msg = shortfall(m, m.replicas.max, target.throughputTokensPerSecond, per, "maximum", `models.${m.model}.replicas.max`);
      if (msg) report(msg, m.resource.urn);
    });
  },
};

export const capacitySloBaseline: StackValidationPolicy = {
  name: "capacity-slo-baseline",
  description: "Each model's replicas.min (KEDA minReplicaCount) delivers baselineShare of its SLO throughput at its TTFT p95 target.",
  enforcementLevel: "mandatory",
  severity: "medium",
  tags: ["reliability", "capacity"],
  configSchema: {
    properties: { ...sloSchema, baselineShare: { type: "number", minimum: 0, maximum: 1, default: 0.5, description: "Share of the SLO throughput the minimum replicas must deliver." } },
  },
  remediationSteps: "Raise models.<k>.replicas.min (and the managed pool's minNodes that holds it), or lower baselineShare in policies/config/<stack>.json.",
  validateStack: (args, report) => {
    const c = configOf<BaselineConfig>(args);
    if (c.baselineShare === 0) return;
    forEachTarget(args.resources, c, (m, target, per) => {
      const goal = target.throughputTokensPerSecond * c.baselineShare;
      const msg = shortfall(m, m.replicas.min, goal, per, `baseline (${Math.round(c.baselineShare * 100)}% of the SLO throughput):`, `models.${m.model}.replicas.min`);
      if (msg) report(msg, m.resource.urn);
    });
  },
};

export const tokenCostVsHosted: StackValidationPolicy = {
  name: "token-cost-vs-hosted",
  description:
    "Each model's all-in $/1M output tokens at the target utilization (replica $/h over tokens/s at the SLO) is not above the hosted reference (output + input per output token, infra/catalog/hosted-prices.ts).",
  enforcementLevel: "advisory",
  severity: "low",
  tags: ["cost"],
  configSchema: {
    properties: {
      ...sloSchema,
      targetUtilization: { type: "number", exclusiveMinimum: 0, maximum: 1, default: 0.6, description: "Keep equal to economics.targetUtilization." },
      inputTokensPerOutputToken: { type: "number", minimum: 0, default: 1.1, description: "Keep equal to economics.inputTokensPerOutputToken." },
      spotDiscount: { type: "number", minimum: 0, maximum: 0.9, default: 0, description: "Keep equal to budget.spotDiscount." },
    },
  },
  remediationSteps: "Use a cheaper GPU per token (docs/capacity.md), raise the utilization the fleet runs at, or buy the model from a hosted API.",
  validateStack: (args, report) => {
    const c = configOf<TokenCostConfig>(args);
    for (const m of servedModels(args.resources)) {
      const target = m.slo;
      if (!target || !m.instanceType) continue;
      const per = perReplica(m, target, c.promptTokensP95)!;
      const tokens = per.tokensPerSecond > 0 ? per.tokensPerSecond : per.saturationTokensPerSecond;
      const hourly = replicaHourlyUsd(requireInstanceType(m.instanceType), m.tensorParallelSize) * (m.spot ? 1 - c.spotDiscount : 1);
      const self = usdPerMillionOutputTokens(hourly, tokens, c.targetUtilization);
      const h = HOSTED_REFERENCE_PRICES[m.model];
      const hosted = h.outputPerMTokUsd + c.inputTokensPerOutputToken * h.inputPerMTokUsd;
      if (self > hosted)
        report(
          `${m.deployment} (${m.model} on ${m.tensorParallelSize} x ${m.instanceType}${m.spot ? ", spot" : ", on-demand"}): $${self.toFixed(3)} per 1M output tokens at ${Math.round(c.targetUtilization * 100)}% of ` +
            `${per.tokensPerSecond > 0 ? "its SLO throughput" : "its saturation throughput (no load meets the TTFT target)"} [${per.basis}], above the hosted reference $${hosted.toFixed(3)} ` +
            `($${h.outputPerMTokUsd} output + ${c.inputTokensPerOutputToken} x $${h.inputPerMTokUsd} input; ${h.source})`,
          m.resource.urn,
        );
    }
  },
};

export const capacitySloPolicies = [capacitySloAtMax, capacitySloBaseline, tokenCostVsHosted];
