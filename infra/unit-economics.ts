/**
 * Unit economics: per model in a stack, what the configured replicas deliver at the SLO and what
 * a million output tokens costs, from one catalog (infra/catalog/throughput.ts) and one price
 * list (infra/catalog/instances.ts). The plan prints it, plan.json carries it, the capacity
 * policies check it, and the gateway's per-token prices are derived from it, so the three agree.
 *
 * - Replicas needed = ceil(SLO throughput / one replica's tokens/s at the TTFT target).
 * - Coverage = replicas x per-replica tokens/s / SLO throughput, at replicas.min and replicas.max.
 * - $/1M output tokens = replica $/h / (tokens/s at the SLO x economics.targetUtilization x
 *   3600) x 1e6, "all-in": the whole replica cost charged to output tokens. On-demand, and with
 *   the stack's spot mix: the share of the model's replicas (at replicas.max) that land on spot
 *   capacity (a SPOT managed group, or the Karpenter gpu-spot NodePool), at budget.spotDiscount.
 * - A replica's $/h is its GPUs' share of the node: instance $/h / GPUs per node x TP.
 * - Gateway per-token prices split that cost between input and output tokens by GPU time: an
 *   input (prompt) token costs w = saturation output tok/s / prefill tok/s of an output token,
 *   and the traffic carries r = economics.inputTokensPerOutputToken input tokens per output
 *   token, so output = C / (T (1 + r w)) and input = w x output: spend for that mix equals the
 *   replica cost C over T output tokens, exactly.
 * - Where no load meets the TTFT target (per-replica tokens/s at the SLO is 0), $/token is priced
 *   at the saturation throughput instead and the row says so (pricedAt: "saturation").
 *
 * Which placement answers: the model's pool's GPU (its smallest type, as infra/capacity.ts sizes
 * replicas) at the model's tensorParallelSize. Where replicas land is the capacity rule's:
 * managed groups at minNodes first, then the Karpenter GPU NodePools by weight within their
 * limits ({@link placeGpuReplicas}).
 *
 * Pure; imports only the catalogs, config types and infra/capacity.ts (ground floor).
 */
import { configPlacement, smallestGpuType, type CapacityConfig, type PlacedNode as CapacityPlacedNode } from "./capacity";
import { HOSTED_REFERENCE_PRICES } from "./catalog/hosted-prices";
import { HOURS_PER_MONTH, type GpuModel, type InstanceType } from "./catalog/instances";
import type { LlmModelKey } from "./catalog/models";
import { replicaThroughputAtSlo, type Basis, type ReplicaThroughput } from "./catalog/throughput";
import type { ModelConfig, PlatformConfig } from "./config";

/**
 * Annotations on each vLLM Deployment that carry its SLO from the stack file
 * (`models.<k>.slo`), so that the capacity policies read the one source the program renders
 * instead of a copy in the policy pack's config.
 */
export const SLO_ANNOTATIONS = {
  ttftP95Ms: "llm-platform.io/slo-ttft-p95-ms",
  throughputTokensPerSecond: "llm-platform.io/slo-throughput-tokens-per-second",
} as const;

export interface EconomicsSettings {
  readonly targetUtilization: number;
  readonly promptTokensP95: number;
  readonly inputTokensPerOutputToken: number;
}

export type UnitEconomicsConfig = CapacityConfig &
  Pick<PlatformConfig, "environment"> & {
    readonly budget: { readonly spotDiscount: number };
    readonly economics: EconomicsSettings;
  };

// ---------------------------------------------------------------------------------------------
// Where replicas land (the capacity rule's placement, with capacity types)

export type CapacityKind = "spot" | "on-demand";

export interface PlacedNode extends CapacityPlacedNode {
  readonly capacity: CapacityKind;
}

export interface Placement {
  /** Per demand subject ("models.gpt-oss-20b"), the node each placed replica landed on. */
  readonly replicas: ReadonlyMap<string, readonly PlacedNode[]>;
  /** Karpenter nodes launched to place them. */
  readonly launched: readonly PlacedNode[];
}

/**
 * Where every GPU demand's `which` replicas land, by the capacity rule's own placement
 * (infra/capacity.ts `configPlacement`), with each node's capacity type: a managed group's
 * `capacityType`, or the Karpenter pool's (gpu-spot is spot).
 */
export function placeGpuReplicas(c: CapacityConfig, which: "min" | "max"): Placement {
  const kind = (n: CapacityPlacedNode): PlacedNode => ({
    ...n,
    capacity: n.source.kind === "nodeGroup" ? (c.gpuPools[n.source.name]?.capacityType === "SPOT" ? "spot" : "on-demand") : n.source.name === "gpu-spot" ? "spot" : "on-demand",
  });
  const p = configPlacement(c, which);
  return { replicas: new Map([...p.replicas].map(([k, v]) => [k, v.map(kind)])), launched: p.launched.map(kind) };
}

/**
 * The Karpenter nodes the GPU workloads' minimum replicas need beyond the managed groups at
 * minNodes, for the cost model's baseline (infra/cost.ts `CostOptions.minReplicaNodes`).
 */
export function minReplicaKarpenterNodes(c: CapacityConfig): { pool: string; instanceType: string; capacity: CapacityKind }[] {
  return placeGpuReplicas(c, "min").launched.map((n) => ({ pool: n.source.name, instanceType: n.type.name, capacity: n.capacity }));
}

// ---------------------------------------------------------------------------------------------
// Per-model rows

export interface UnitEconomicsRow {
  readonly model: LlmModelKey;
  readonly gpu: GpuModel;
  readonly instanceType: string;
  readonly tensorParallelSize: number;
  readonly slo: { readonly ttftP95Ms: number; readonly throughputTokensPerSecond?: number };
  /** One replica at the TTFT target (infra/catalog/throughput.ts). */
  readonly perReplica: ReplicaThroughput;
  /** Replicas to meet the SLO throughput; undefined without a throughput SLO, null when no replica meets the TTFT target. */
  readonly replicasNeeded: number | null | undefined;
  readonly replicas: { readonly min: number; readonly max: number };
  /** Delivered / SLO throughput (x of target) at replicas.min and replicas.max; undefined without a throughput SLO. */
  readonly coverage: { readonly baseline?: number; readonly max?: number };
  /** Share of replicas.max that land on spot capacity. */
  readonly spotShare: number;
  readonly replicaHourlyUsd: { readonly onDemand: number; readonly spotMix: number };
  /** Output tokens/s one replica is priced at: at the SLO, or at saturation where no load meets the SLO. */
  readonly pricedTokensPerSecond: number;
  readonly pricedAt: "slo" | "saturation";
  /** All-in $ per 1M output tokens at economics.targetUtilization. */
  readonly usdPerMOutput: { readonly onDemand: number; readonly spotMix: number };
  /** Gateway prices (USD per token) with the stack's spot mix. */
  readonly gateway: { readonly inputCostPerToken: number; readonly outputCostPerToken: number; readonly inputWeight: number };
  readonly hosted: { readonly inputPerMTokUsd: number; readonly outputPerMTokUsd: number; readonly lowestOutputPerMTokUsd?: number; readonly allInPerMOutputUsd: number; readonly source: string };
  /** Self-hosted all-in $/1M output (spot mix) above the hosted all-in price (output + r x input). */
  readonly aboveHosted: boolean;
  readonly basis: Basis;
  readonly source: string;
  readonly note: string;
}

const div = (a: number, b: number) => (b > 0 ? a / b : Infinity);

/**
 * All-in USD per 1M output tokens of a replica costing `hourlyUsd` that sustains `tokensPerSecond`
 * output tokens/s, used at `targetUtilization` of it. The one formula the plan, the gateway prices
 * and the capacity policies share. Infinity when it delivers nothing.
 */
export function usdPerMillionOutputTokens(hourlyUsd: number, tokensPerSecond: number, targetUtilization: number): number {
  return div(hourlyUsd, tokensPerSecond * targetUtilization * 3600) * 1e6;
}

/** A replica's $/h: its GPUs' share of the node, instance $/h / GPUs per node x TP. */
export function replicaHourlyUsd(t: InstanceType, tensorParallelSize: number): number {
  return (t.onDemandHourlyUsd / (t.gpu?.count ?? 1)) * tensorParallelSize;
}

/** The GPU model and the instance type a model's replicas are sized for (the pool's smallest type). */
export function modelPlacement(c: Pick<CapacityConfig, "gpuPools">, m: ModelConfig): { gpu: GpuModel; instanceType: InstanceType; tensorParallelSize: number } {
  const pool = c.gpuPools[m.pool];
  if (!pool) throw new Error(`models.*.pool ${m.pool} is not a gpuPools key`);
  const t = smallestGpuType(pool.instanceTypes);
  return { gpu: t.gpu!.model, instanceType: t, tensorParallelSize: m.tensorParallelSize };
}

export function unitEconomicsRow(c: UnitEconomicsConfig, model: LlmModelKey, placementAtMax: Placement = placeGpuReplicas(c, "max")): UnitEconomicsRow {
  const m = c.models[model]!;
  const e = c.economics;
  const p = modelPlacement(c, m);
  const per = replicaThroughputAtSlo(model, { gpu: p.gpu, tensorParallelSize: p.tensorParallelSize }, { ttftP95Ms: m.slo.ttftP95Ms }, { promptTokensP95: e.promptTokensP95 });
  const target = m.slo.throughputTokensPerSecond;
  const replicasNeeded = target === undefined ? undefined : per.tokensPerSecond > 0 ? Math.ceil(target / per.tokensPerSecond) : null;
  const coverage = target === undefined ? {} : { baseline: (m.replicas.min * per.tokensPerSecond) / target, max: (m.replicas.max * per.tokensPerSecond) / target };

  const landed = placementAtMax.replicas.get(`models.${model}`) ?? [];
  const spotShare = landed.length > 0 ? landed.filter((n) => n.capacity === "spot").length / landed.length : 0;
  const onDemand = replicaHourlyUsd(p.instanceType, p.tensorParallelSize);
  const spotMix = onDemand * (1 - spotShare * c.budget.spotDiscount);

  const pricedAt = per.tokensPerSecond > 0 ? "slo" : "saturation";
  const priced = pricedAt === "slo" ? per.tokensPerSecond : per.saturationTokensPerSecond;
  const tokensPerHour = priced * e.targetUtilization * 3600;
  const usdPerMOutput = { onDemand: usdPerMillionOutputTokens(onDemand, priced, e.targetUtilization), spotMix: usdPerMillionOutputTokens(spotMix, priced, e.targetUtilization) };
  const w = per.saturationTokensPerSecond > 0 && per.prefillTokensPerSecond > 0 ? per.saturationTokensPerSecond / per.prefillTokensPerSecond : 0;
  const r = e.inputTokensPerOutputToken;
  const outputCostPerToken = div(spotMix, tokensPerHour * (1 + r * w));
  const hostedRef = HOSTED_REFERENCE_PRICES[model];
  const hostedAllIn = hostedRef.outputPerMTokUsd + r * hostedRef.inputPerMTokUsd;
  const basisText = per.basis === "estimate" ? "estimate" : per.basis;
  return {
    model,
    gpu: p.gpu,
    instanceType: p.instanceType.name,
    tensorParallelSize: p.tensorParallelSize,
    slo: { ttftP95Ms: m.slo.ttftP95Ms, ...(target !== undefined ? { throughputTokensPerSecond: target } : {}) },
    perReplica: per,
    replicasNeeded,
    replicas: { min: m.replicas.min, max: m.replicas.max },
    coverage,
    spotShare,
    replicaHourlyUsd: { onDemand, spotMix },
    pricedTokensPerSecond: priced,
    pricedAt,
    usdPerMOutput,
    gateway: { inputCostPerToken: w * outputCostPerToken, outputCostPerToken, inputWeight: w },
    hosted: { ...hostedRef, allInPerMOutputUsd: hostedAllIn },
    aboveHosted: usdPerMOutput.spotMix > hostedAllIn,
    basis: per.basis,
    source: per.source,
    note:
      `${basisText}: ${per.note}` +
      (pricedAt === "saturation" ? "; $/token priced at saturation throughput because no load meets the TTFT target" : "") +
      `; replica $/h = ${p.instanceType.name} $${p.instanceType.onDemandHourlyUsd}/h / ${p.instanceType.gpu!.count} GPU x TP ${p.tensorParallelSize}` +
      (spotShare > 0 ? `, ${Math.round(spotShare * 100)}% of replicas on spot at ${Math.round(c.budget.spotDiscount * 100)}% off (budget.spotDiscount, an assumption)` : ""),
  };
}

/** One row per configured model. */
export function unitEconomicsReport(c: UnitEconomicsConfig): UnitEconomicsRow[] {
  const placement = placeGpuReplicas(c, "max");
  return (Object.keys(c.models) as LlmModelKey[]).filter((k) => c.models[k]).map((k) => unitEconomicsRow(c, k, placement));
}

export interface TokenPrices {
  readonly inputCostPerToken: number;
  readonly outputCostPerToken: number;
}

/** The gateway's per-token prices (USD) per self-hosted model, from the same rows. */
export function gatewayTokenPrices(c: UnitEconomicsConfig): Record<string, TokenPrices> {
  return Object.fromEntries(unitEconomicsReport(c).map((r) => [r.model, { inputCostPerToken: r.gateway.inputCostPerToken, outputCostPerToken: r.gateway.outputCostPerToken }]));
}

// ---------------------------------------------------------------------------------------------
// Rendering

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a");
const usd = (n: number) => (Number.isFinite(n) ? `$${n < 10 ? n.toFixed(3) : n.toFixed(2)}` : "n/a");
const x = (n: number | undefined) => (n === undefined ? "-" : `${n.toFixed(2)}x`);

/** The plan's capacity and $/token table, one block per model. */
export function renderUnitEconomics(rows: readonly UnitEconomicsRow[]): string[] {
  if (rows.length === 0) return [];
  const out = ["Capacity and unit economics (infra/unit-economics.ts; docs/capacity.md):"];
  for (const r of rows) {
    const target = r.slo.throughputTokensPerSecond;
    out.push(
      `  ${r.model} on ${r.tensorParallelSize} x ${r.gpu} (${r.instanceType}), SLO TTFT p95 ${r.slo.ttftP95Ms} ms${target !== undefined ? `, ${fmt(target)} output tok/s` : ", no throughput SLO"}`,
      `    one replica at the SLO: ${fmt(r.perReplica.tokensPerSecond)} tok/s [${r.perReplica.basis}] (saturation ${fmt(r.perReplica.saturationTokensPerSecond)} tok/s [${r.perReplica.saturationBasis}], unloaded TTFT p95 ${fmt(r.perReplica.unloadedTtftP95Ms)} ms [estimate])`,
      `    replicas: needed ${r.replicasNeeded === undefined ? "-" : r.replicasNeeded === null ? "none suffice (the TTFT target is out of reach on this GPU)" : r.replicasNeeded}; baseline ${r.replicas.min} (${x(r.coverage.baseline)}); max ${r.replicas.max} (${x(r.coverage.max)})`,
      `    $/1M output tokens at ${r.pricedAt === "slo" ? "the SLO" : "saturation (SLO unreachable)"} and target utilization: on-demand ${usd(r.usdPerMOutput.onDemand)}, spot mix (${Math.round(r.spotShare * 100)}% spot) ${usd(r.usdPerMOutput.spotMix)} [${r.basis}]`,
      `    hosted reference: ${usd(r.hosted.outputPerMTokUsd)} output / ${usd(r.hosted.inputPerMTokUsd)} input per 1M (all-in ${usd(r.hosted.allInPerMOutputUsd)})${r.hosted.lowestOutputPerMTokUsd !== undefined ? `, lowest ${usd(r.hosted.lowestOutputPerMTokUsd)} output` : ""} [${r.hosted.source}]${r.aboveHosted ? "  << self-hosting costs more" : ""}`,
      `    gateway prices: input ${r.gateway.inputCostPerToken.toExponential(3)} / output ${r.gateway.outputCostPerToken.toExponential(3)} USD per token`,
      `    source: ${r.source}`,
    );
  }
  out.push(`  (${HOURS_PER_MONTH} h/month; every figure marked [estimate] rests on the stated model in infra/catalog/throughput.ts, not a measurement)`);
  return out;
}
