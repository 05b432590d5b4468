/**
 * Capacity catalog: what one vLLM replica of a model delivers on a GPU at a tensor-parallel size,
 * with where every figure comes from, and the one function that turns it into tokens/s at an SLO.
 *
 * Three kinds of point, ranked: `calibrated` (our own load tests, folded in from
 * throughput-calibrated.json by `npm run capacity:calibrate`) > `measured` (published benchmarks,
 * upstream-facts.md section 11) > `estimate` (a stated model below). A lower rank never overrides
 * a higher one for the same model x GPU x TP.
 *
 * ## How the seed's "p95 150 ms" is read
 * As time to first token (TTFT) at p95 - the config key is `models.<k>.slo.ttftP95Ms`. Why:
 * - 150 ms per output token would be 6.7 tokens/s per stream, slower than every measured
 *   inter-token latency here even in 1000-request bursts (ITL p50 27-66 ms), so it would never
 *   bind and the SLO would say nothing; the seed pairs it with an end-to-end bound instead.
 * - TTFT is what a chat user waits on and what the gateway's and vLLM's latency histograms
 *   (`vllm:time_to_first_token_seconds`) measure per request.
 * The per-token latency it implies comes from the end-to-end target: a response of N output
 * tokens must stream at (e2eP95Ms - ttftP95Ms) / N ms per token or faster
 * ({@link impliedInterTokenMs}); for 20b (20 s e2e, 150 ms TTFT) and the reference workload's
 * 1,024-token output bound that is 19.4 ms per token, for its mean 194 tokens 102 ms.
 *
 * ## Latency model (estimate): from burst throughput to throughput at the TTFT target
 * The published figures are bursts of 1000 requests: saturation throughput with TTFT of seconds
 * (4.9-25 s mean). They are not figures at an SLO. We derate them:
 * 1. Unloaded TTFT p95 `t0` = prefill time of the p95 prompt (`promptTokensP95`) at the
 *    replica's prefill rate (prompt tokens/s, compute-bound; measured where GPUStack's fixed-length
 *    runs give it, else scaled by dense BF16 TFLOPS).
 * 2. Loaded TTFT p95 = t0 / (1 - rho), rho = delivered / saturation throughput: the M/M/1
 *    response-time law, under which every percentile scales with 1/(1 - rho). An assumption:
 *    continuous batching is not M/M/1; it is the conservative textbook single-server curve.
 * 3. So the highest utilisation meeting the target is rho* = 1 - t0 / target, and the replica
 *    sustains saturation x rho* output tokens/s. If t0 >= target the replica cannot meet the
 *    target at any load: 0.
 * A calibrated or measured point that carries TTFT p95 at or under the target answers directly
 * (the highest such throughput), without the model.
 *
 * ## Estimates where nothing is measured
 * Saturation throughput scales from the same model's measured point on the reference GPU of the
 * same kind (A100-80GB for Ampere/Ada, H100 for Hopper) by min(memory-bandwidth ratio, dense
 * BF16 TFLOPS ratio): decode is bandwidth-bound until compute runs out (A10G is compute-bound by
 * this rule: 70 vs 312 TFLOPS). Tensor-parallel scaling follows the measured gpt-oss-120b H100
 * curve (TP1 2,943, TP2 7,649, TP4 11,327 tok/s). Checked against the measured points it did not
 * use: from A100-80GB the rule gives 20b on H100 8,511 tok/s (measured 9,064: -6%) and 120b TP1 on
 * H100 3,897 (measured 2,943: +32%, one 80 GB H100 leaves 120b little KV cache), so estimates can
 * be a third too high (tests/unit-economics.test.ts pins both checks).
 *
 * Imports only the other catalogs (ground floor).
 */
import calibratedFile from "./throughput-calibrated.json";
import type { GpuModel } from "./instances";
import type { LlmModelKey } from "./models";

export interface ThroughputPoint {
  model: LlmModelKey;
  gpu: GpuModel;
  tensorParallelSize: number;
  concurrency: number;
  outputTokensPerSecond: number;
  ttftMs?: { p50?: number; p95?: number; mean?: number };
  itlMs?: { p50?: number; p95?: number; mean?: number };
  provenance: { kind: "measured" | "estimate" | "calibrated"; source: string; note?: string; date?: string };
}

export type Basis = ThroughputPoint["provenance"]["kind"];

// ---------------------------------------------------------------------------------------------
// GPU specs for the estimates (not in instances.ts: these are performance figures, not what EC2 sells)

export interface GpuPerformance {
  /** Memory bandwidth, GB/s. */
  readonly memoryBandwidthGBps: number;
  /** Dense (no sparsity) BF16 tensor TFLOPS. */
  readonly denseBf16Tflops: number;
  readonly architecture: "ampere" | "ada" | "hopper";
  readonly source: string;
}

export const GPU_PERFORMANCE: Readonly<Record<GpuModel, GpuPerformance>> = {
  a10g: {
    memoryBandwidthGBps: 600,
    denseBf16Tflops: 70,
    architecture: "ampere",
    source:
      "third-party: baseten.co/blog/nvidia-a10-vs-a10g-for-ml-model-inference (A10G: 24 GB GDDR6, 600 GB/s; BF16 tensor 70 TFLOPS against the A10's 125); AWS publishes no A10G TFLOPS",
  },
  l4: { memoryBandwidthGBps: 300, denseBf16Tflops: 121, architecture: "ada", source: "NVIDIA L4 datasheet: 300 GB/s; BF16 tensor 242 TFLOPS with sparsity (121 dense)" },
  l40s: { memoryBandwidthGBps: 864, denseBf16Tflops: 362, architecture: "ada", source: "NVIDIA L40S datasheet: 864 GB/s; BF16 tensor 733 TFLOPS with sparsity (362 dense)" },
  a100: { memoryBandwidthGBps: 1555, denseBf16Tflops: 312, architecture: "ampere", source: "NVIDIA A100 datasheet, 40 GB SXM: 1,555 GB/s; BF16 tensor 312 TFLOPS dense" },
  "a100-80gb": { memoryBandwidthGBps: 2039, denseBf16Tflops: 312, architecture: "ampere", source: "NVIDIA A100 datasheet, 80 GB SXM: 2,039 GB/s; BF16 tensor 312 TFLOPS dense" },
  h100: { memoryBandwidthGBps: 3350, denseBf16Tflops: 989, architecture: "hopper", source: "NVIDIA H100 datasheet, SXM: 3.35 TB/s; BF16 tensor 1,979 TFLOPS with sparsity (989 dense)" },
};

// ---------------------------------------------------------------------------------------------
// The reference workload the measured points were taken with

/**
 * ShareGPT as `vllm bench serve --dataset-name sharegpt` samples it: in GPUStack's runs 1000
 * requests carried 215,312 prompt and ~194,000 output tokens (means 215 and 194); vLLM's ShareGPT
 * sampler drops prompts over 1,024 tokens and prompt + output over 2,048 (vllm
 * benchmarks/datasets.py `is_valid_sequence`, max_prompt_len 1024, max_total_len 2048), so 1,024
 * is the prompt bound we take as the p95 prompt (conservative: the p95 is at or under it).
 */
export const REFERENCE_WORKLOAD = {
  promptTokensMean: 215,
  outputTokensMean: 194,
  promptTokensP95: 1024,
  outputTokensMax: 1024,
  source: "GPUStack performance lab runs (vllm bench serve, ShareGPT, 1000 prompts: 215,312 input / ~194,000 output tokens); vllm benchmarks/datasets.py is_valid_sequence (prompt <= 1024, total <= 2048)",
} as const;

// ---------------------------------------------------------------------------------------------
// Measured points (upstream-facts.md section 11 and the GPUStack pages it cites)

const GPUSTACK = (model: "gpt-oss-20b" | "gpt-oss-120b", gpu: "h100" | "a100") => `gpustack/gpustack docs/performance-lab/${model}/${gpu}.md (vLLM 0.11, ShareGPT, burst of 1000)`;
const BURST = "a burst of 1000 requests: saturation throughput with TTFT of seconds, not a figure at an SLO";

export const MEASURED_POINTS: readonly ThroughputPoint[] = [
  {
    model: "gpt-oss-20b",
    gpu: "h100",
    tensorParallelSize: 1,
    concurrency: 1000,
    outputTokensPerSecond: 9064.4,
    ttftMs: { mean: 4933.91, p50: 4761.74 },
    itlMs: { mean: 38.92, p50: 27.02 },
    provenance: { kind: "measured", source: `${GPUSTACK("gpt-oss-20b", "h100")} --async-scheduling; upstream-facts.md section 11`, note: `${BURST}; TTFT p99 8,030 ms` },
  },
  {
    model: "gpt-oss-20b",
    gpu: "a100-80gb",
    tensorParallelSize: 1,
    concurrency: 1000,
    outputTokensPerSecond: 5179.92,
    ttftMs: { mean: 12371.62, p50: 11647.98 },
    itlMs: { mean: 36.85, p50: 28.41 },
    provenance: { kind: "measured", source: `${GPUSTACK("gpt-oss-20b", "a100")} --async-scheduling, A100 SXM 80GB; upstream-facts.md section 11`, note: `${BURST}; TTFT p99 27,041 ms` },
  },
  {
    model: "gpt-oss-120b",
    gpu: "h100",
    tensorParallelSize: 1,
    concurrency: 1000,
    outputTokensPerSecond: 2943,
    ttftMs: { mean: 23600 },
    provenance: { kind: "measured", source: `${GPUSTACK("gpt-oss-120b", "h100")}; upstream-facts.md section 11`, note: `${BURST} (TTFT mean 23.6 s)` },
  },
  {
    model: "gpt-oss-120b",
    gpu: "h100",
    tensorParallelSize: 2,
    concurrency: 1000,
    outputTokensPerSecond: 7649,
    provenance: { kind: "measured", source: `${GPUSTACK("gpt-oss-120b", "h100")}; upstream-facts.md section 11`, note: BURST },
  },
  {
    model: "gpt-oss-120b",
    gpu: "h100",
    tensorParallelSize: 4,
    concurrency: 1000,
    outputTokensPerSecond: 11327,
    provenance: { kind: "measured", source: `${GPUSTACK("gpt-oss-120b", "h100")}; upstream-facts.md section 11`, note: BURST },
  },
  {
    model: "gpt-oss-120b",
    gpu: "h100",
    tensorParallelSize: 1,
    concurrency: 1,
    outputTokensPerSecond: 511,
    provenance: {
      kind: "measured",
      source: "upstream-facts.md section 11 ('at low concurrency, gpt-oss-120b on 1xH100 gives about 511 tok/s')",
      note: "the concurrency is not stated ('low'); recorded at 1. No TTFT given. Shows the single-stream decode speed, not capacity",
    },
  },
  {
    model: "gpt-oss-120b",
    gpu: "a100-80gb",
    tensorParallelSize: 1,
    concurrency: 1000,
    outputTokensPerSecond: 2371.67,
    ttftMs: { mean: 24787.19, p50: 23575.09 },
    itlMs: { mean: 82.31, p50: 65.76 },
    provenance: { kind: "measured", source: `${GPUSTACK("gpt-oss-120b", "a100")} --async-scheduling --max-model-len 32768, A100 SXM 80GB`, note: `${BURST}; TTFT p99 56,631 ms` },
  },
  {
    model: "gpt-oss-120b",
    gpu: "a100-80gb",
    tensorParallelSize: 2,
    concurrency: 1000,
    outputTokensPerSecond: 3765.02,
    ttftMs: { mean: 16190.5, p50: 15435.84 },
    itlMs: { mean: 51.2, p50: 40.51 },
    provenance: { kind: "measured", source: `${GPUSTACK("gpt-oss-120b", "a100")} --async-scheduling -tp 2, 2 x A100 SXM 80GB`, note: `${BURST}; TTFT p99 36,099 ms` },
  },
];

/**
 * A point on a GPU we do not sell (H200): kept as evidence for the latency model, outside the
 * catalog's GpuModel keys. At concurrency 300 the TTFT p50 is 474 ms: even a 4-GPU H200 replica
 * is far over a 300 ms TTFT well below its burst figure.
 */
export const OFF_CATALOG_POINTS = [
  {
    model: "gpt-oss-120b",
    gpu: "h200",
    tensorParallelSize: 4,
    concurrency: 300,
    outputTokensPerSecond: 16055,
    ttftMs: { p50: 474 },
    provenance: { kind: "measured", source: "vllm-project/vllm issue #40838 (4 x H200, TP 4); upstream-facts.md section 11" },
  },
] as const;

/**
 * Prefill (prompt) tokens/s of one replica, measured from GPUStack's fixed-length runs: prompt
 * tokens over the run's duration (vLLM baseline, no async scheduling).
 */
export const MEASURED_PREFILL: readonly { model: LlmModelKey; gpu: GpuModel; tensorParallelSize: number; promptTokensPerSecond: number; source: string }[] = [
  { model: "gpt-oss-20b", gpu: "h100", tensorParallelSize: 1, promptTokensPerSecond: 999120 / 32.58, source: `${GPUSTACK("gpt-oss-20b", "h100")}, random 2K input: 999,120 prompt tokens in 32.58 s` },
  { model: "gpt-oss-20b", gpu: "a100-80gb", tensorParallelSize: 1, promptTokensPerSecond: 999120 / 58.06, source: `${GPUSTACK("gpt-oss-20b", "a100")}, random 2K input: 999,120 prompt tokens in 58.06 s` },
  { model: "gpt-oss-120b", gpu: "a100-80gb", tensorParallelSize: 1, promptTokensPerSecond: 1999249 / 269.39, source: `${GPUSTACK("gpt-oss-120b", "a100")}, random 4K input: 1,999,249 prompt tokens in 269.39 s` },
];

/** 120b's prefill relative to 20b's at the same 4K prompts on one A100-80GB: 7,421 / 15,523 tok/s (GPUStack). */
const PREFILL_MODEL_FACTOR: Readonly<Record<LlmModelKey, number>> = { "gpt-oss-20b": 1, "gpt-oss-120b": 1999249 / 269.39 / (1999249 / 128.79) };

/** Tensor-parallel scaling of throughput, from the measured gpt-oss-120b H100 points (TP 8 extrapolated by the TP2->TP4 step). */
export const TP_SCALING: Readonly<Record<number, number>> = { 1: 1, 2: 7649 / 2943, 4: 11327 / 2943, 8: (11327 / 2943) * (11327 / 7649) };

// ---------------------------------------------------------------------------------------------
// Calibrated points (our own load tests)

function validCalibrated(raw: unknown): ThroughputPoint[] {
  const points = (raw as { points?: unknown })?.points;
  if (!Array.isArray(points)) throw new Error("infra/catalog/throughput-calibrated.json: expected { \"points\": [...] }");
  return points.map((p: ThroughputPoint, i) => {
    const bad = (what: string) => new Error(`infra/catalog/throughput-calibrated.json points[${i}]: ${what}; rerun npm run capacity:calibrate or fix the entry`);
    if (!(p.gpu in GPU_PERFORMANCE)) throw bad(`gpu ${String(p.gpu)} is not a GpuModel (${Object.keys(GPU_PERFORMANCE).join(", ")})`);
    if (!(typeof p.outputTokensPerSecond === "number" && p.outputTokensPerSecond > 0)) throw bad("outputTokensPerSecond must be > 0");
    if (!(Number.isInteger(p.tensorParallelSize) && p.tensorParallelSize >= 1)) throw bad("tensorParallelSize must be an integer >= 1");
    if (!p.provenance?.source) throw bad("provenance.source is required");
    return { ...p, provenance: { ...p.provenance, kind: "calibrated" as const } };
  });
}

export const CALIBRATED_POINTS: readonly ThroughputPoint[] = validCalibrated(calibratedFile);

// ---------------------------------------------------------------------------------------------
// Estimates

const RANK: Readonly<Record<Basis, number>> = { calibrated: 3, measured: 2, estimate: 1 };

export interface Placement {
  readonly gpu: GpuModel;
  readonly tensorParallelSize: number;
}

const referenceGpu = (gpu: GpuModel): GpuModel => (GPU_PERFORMANCE[gpu].architecture === "hopper" ? "h100" : "a100-80gb");
const tpScale = (tp: number) => TP_SCALING[tp] ?? tp;

function saturationOf(points: readonly ThroughputPoint[]): ThroughputPoint | undefined {
  // The saturation figure: the highest throughput among the best-ranked points.
  const best = Math.max(...points.map((p) => RANK[p.provenance.kind]));
  return points.filter((p) => RANK[p.provenance.kind] === best).reduce<ThroughputPoint | undefined>((a, p) => (!a || p.outputTokensPerSecond > a.outputTokensPerSecond ? p : a), undefined);
}

/**
 * Saturation (burst) output tokens/s as an estimate: the same model's best point on the reference
 * GPU of the same kind at the nearest TP at or below, scaled by min(bandwidth, compute) ratio and
 * the TP curve. Undefined when the model has no anchor at all.
 */
export function estimateSaturation(model: LlmModelKey, placement: Placement, anchors: readonly ThroughputPoint[] = [...CALIBRATED_POINTS, ...MEASURED_POINTS]): ThroughputPoint | undefined {
  const ref = referenceGpu(placement.gpu);
  const candidates = [ref, ref === "h100" ? "a100-80gb" : "h100"] as GpuModel[];
  for (const anchorGpu of candidates) {
    const onRef = anchors.filter((p) => p.model === model && p.gpu === anchorGpu && p.tensorParallelSize <= placement.tensorParallelSize && p.concurrency > 1);
    if (onRef.length === 0) continue;
    const anchorTp = Math.max(...onRef.map((p) => p.tensorParallelSize));
    const anchor = saturationOf(onRef.filter((p) => p.tensorParallelSize === anchorTp))!;
    const a = GPU_PERFORMANCE[anchorGpu];
    const g = GPU_PERFORMANCE[placement.gpu];
    const bw = g.memoryBandwidthGBps / a.memoryBandwidthGBps;
    const fl = g.denseBf16Tflops / a.denseBf16Tflops;
    const gpuScale = Math.min(bw, fl);
    const tp = tpScale(placement.tensorParallelSize) / tpScale(anchorTp);
    return {
      model,
      gpu: placement.gpu,
      tensorParallelSize: placement.tensorParallelSize,
      concurrency: anchor.concurrency,
      outputTokensPerSecond: anchor.outputTokensPerSecond * gpuScale * tp,
      provenance: {
        kind: "estimate",
        source: `estimate from ${anchor.provenance.kind} ${model} ${anchorGpu} TP${anchorTp} ${Math.round(anchor.outputTokensPerSecond)} tok/s (${anchor.provenance.source})`,
        note:
          `x ${gpuScale.toFixed(3)} (min of memory bandwidth ${g.memoryBandwidthGBps}/${a.memoryBandwidthGBps} GB/s = ${bw.toFixed(3)} and dense BF16 ${g.denseBf16Tflops}/${a.denseBf16Tflops} TFLOPS = ${fl.toFixed(3)})` +
          (tp !== 1 ? ` x ${tp.toFixed(3)} (TP ${anchorTp} -> ${placement.tensorParallelSize}, the measured 120b H100 TP curve)` : ""),
      },
    };
  }
  return undefined;
}

/** Every point of the catalog for a model x GPU x TP, best-ranked first; an estimate where nothing else exists. */
export function pointsFor(model: LlmModelKey, placement: Placement): ThroughputPoint[] {
  const same = (p: ThroughputPoint) => p.model === model && p.gpu === placement.gpu && p.tensorParallelSize === placement.tensorParallelSize;
  const known = [...CALIBRATED_POINTS, ...MEASURED_POINTS].filter(same).sort((a, b) => RANK[b.provenance.kind] - RANK[a.provenance.kind]);
  if (known.length > 0) return known;
  const e = estimateSaturation(model, placement);
  return e ? [e] : [];
}

/** The catalog: every model x catalog GPU x TP 1/2/4/8 the catalog can answer for. */
export function throughputCatalog(models: readonly LlmModelKey[] = ["gpt-oss-20b", "gpt-oss-120b"]): ThroughputPoint[] {
  const gpus = Object.keys(GPU_PERFORMANCE) as GpuModel[];
  return models.flatMap((m) => gpus.flatMap((gpu) => [1, 2, 4, 8].flatMap((tp) => pointsFor(m, { gpu, tensorParallelSize: tp }))));
}

/** Prompt tokens/s of a replica: measured where GPUStack's runs give it, else scaled by dense BF16 TFLOPS (prefill is compute-bound). */
export function prefillTokensPerSecond(model: LlmModelKey, placement: Placement): { value: number; basis: "measured" | "estimate"; source: string } {
  const exact = MEASURED_PREFILL.find((p) => p.model === model && p.gpu === placement.gpu && p.tensorParallelSize === placement.tensorParallelSize);
  if (exact) return { value: exact.promptTokensPerSecond, basis: "measured", source: exact.source };
  // Tokens/s per dense TFLOP of 20b on the reference GPU of the same kind, times the model factor.
  const ref = referenceGpu(placement.gpu);
  const base = MEASURED_PREFILL.find((p) => p.model === "gpt-oss-20b" && p.gpu === ref && p.tensorParallelSize === 1)!;
  const perTflop = base.promptTokensPerSecond / GPU_PERFORMANCE[ref].denseBf16Tflops;
  const tp = placement.tensorParallelSize;
  // TP splits each prefill over the GPUs; 10% lost per doubling to all-reduce (an assumption).
  const tpFactor = tp * 0.9 ** Math.log2(tp);
  const value = perTflop * GPU_PERFORMANCE[placement.gpu].denseBf16Tflops * PREFILL_MODEL_FACTOR[model] * tpFactor;
  return {
    value,
    basis: "estimate",
    source: `estimate: ${perTflop.toFixed(1)} prompt tok/s per dense BF16 TFLOP (gpt-oss-20b on ${ref}, ${base.source}) x ${GPU_PERFORMANCE[placement.gpu].denseBf16Tflops} TFLOPS x model factor ${PREFILL_MODEL_FACTOR[model].toFixed(3)} x TP ${tp} at 90% per doubling`,
  };
}

// ---------------------------------------------------------------------------------------------
// The answer at an SLO

export interface SloTarget {
  readonly ttftP95Ms: number;
}

export interface ReplicaThroughput {
  /** Output tokens/s one replica sustains with TTFT p95 at or under the target. */
  readonly tokensPerSecond: number;
  /** measured / calibrated only when a point with TTFT p95 under the target answers directly; otherwise the latency model makes it an estimate. */
  readonly basis: Basis;
  readonly source: string;
  readonly note: string;
  /** Burst (saturation) tokens/s the figure was derated from, and its own basis. */
  readonly saturationTokensPerSecond: number;
  readonly saturationBasis: Basis;
  /** rho*: the share of saturation usable at the target (1 when answered by a point). */
  readonly utilizationAtSlo: number;
  /** Unloaded TTFT p95 of the p95 prompt, ms. */
  readonly unloadedTtftP95Ms: number;
  /** Prompt tokens/s of the replica (for the input/output price split). */
  readonly prefillTokensPerSecond: number;
}

export interface SloOptions {
  /** p95 prompt length, tokens (default the reference workload's 1,024). */
  readonly promptTokensP95?: number;
}

/**
 * At this SLO (TTFT p95 target), how many output tokens/s does ONE replica of `model` on
 * `placement` sustain? Pure; see the module comment for the model and its assumptions.
 */
export function replicaThroughputAtSlo(model: LlmModelKey, placement: Placement, slo: SloTarget, opts: SloOptions = {}): ReplicaThroughput {
  const points = pointsFor(model, placement);
  const prefill = prefillTokensPerSecond(model, placement);
  const promptP95 = opts.promptTokensP95 ?? REFERENCE_WORKLOAD.promptTokensP95;
  const t0 = (promptP95 / prefill.value) * 1000;
  const sat = saturationOf(points);
  const where = `${model} on ${placement.tensorParallelSize} x ${placement.gpu}`;
  if (!sat)
    return {
      tokensPerSecond: 0,
      basis: "estimate",
      source: "no catalog point and no anchor to estimate from",
      note: `${where}: nothing known; add a measurement (npm run capacity:calibrate)`,
      saturationTokensPerSecond: 0,
      saturationBasis: "estimate",
      utilizationAtSlo: 0,
      unloadedTtftP95Ms: t0,
      prefillTokensPerSecond: prefill.value,
    };

  // A calibrated or measured point with TTFT p95 at or under the target answers directly.
  const direct = points.filter((p) => p.provenance.kind !== "estimate" && p.ttftMs?.p95 !== undefined && p.ttftMs.p95 <= slo.ttftP95Ms);
  if (direct.length > 0) {
    const best = Math.max(...direct.map((p) => RANK[p.provenance.kind]));
    const p = direct.filter((x) => RANK[x.provenance.kind] === best).reduce((a, b) => (b.outputTokensPerSecond > a.outputTokensPerSecond ? b : a));
    return {
      tokensPerSecond: p.outputTokensPerSecond,
      basis: p.provenance.kind,
      source: p.provenance.source,
      note: `${where}: ${p.provenance.kind} at concurrency ${p.concurrency} with TTFT p95 ${p.ttftMs!.p95} ms <= ${slo.ttftP95Ms} ms`,
      saturationTokensPerSecond: sat.outputTokensPerSecond,
      saturationBasis: sat.provenance.kind,
      utilizationAtSlo: 1,
      unloadedTtftP95Ms: t0,
      prefillTokensPerSecond: prefill.value,
    };
  }

  const rho = Math.max(0, 1 - t0 / slo.ttftP95Ms);
  const tokensPerSecond = sat.outputTokensPerSecond * rho;
  return {
    tokensPerSecond,
    basis: "estimate",
    source: `saturation: ${sat.provenance.kind} ${Math.round(sat.outputTokensPerSecond)} tok/s (${sat.provenance.source}${sat.provenance.note ? `; ${sat.provenance.note}` : ""}); prefill: ${prefill.basis} ${Math.round(prefill.value)} prompt tok/s (${prefill.source})`,
    note:
      rho === 0
        ? `${where}: unloaded TTFT p95 of a ${promptP95}-token prompt is ${Math.round(t0)} ms, at or over the ${slo.ttftP95Ms} ms target: no load meets it (estimate)`
        : `${where}: estimate by the M/M/1 latency model: unloaded TTFT p95 ${Math.round(t0)} ms (${promptP95}-token prompt), usable utilisation 1 - ${Math.round(t0)}/${slo.ttftP95Ms} = ${rho.toFixed(2)} of ${Math.round(sat.outputTokensPerSecond)} tok/s`,
    saturationTokensPerSecond: sat.outputTokensPerSecond,
    saturationBasis: sat.provenance.kind,
    utilizationAtSlo: rho,
    unloadedTtftP95Ms: t0,
    prefillTokensPerSecond: prefill.value,
  };
}

/** The per-output-token latency an end-to-end target implies for a response of `outputTokens` tokens, ms. */
export function impliedInterTokenMs(slo: { ttftP95Ms: number; e2eP95Ms: number }, outputTokens: number): number {
  return (slo.e2eP95Ms - slo.ttftP95Ms) / outputTokens;
}
