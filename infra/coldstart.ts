/**
 * The cold-start model: how long a vLLM replica takes from "scheduled" to "Ready", phase by
 * phase, on a warm GPU node (image cached) and on a new one (Karpenter launches it).
 *
 * Every phase carries its source, or is labelled an estimate. The anchors are in
 * ../shared/reference/upstream-facts.md section 11; the network figures in
 * infra/catalog/network-bandwidth.ts. Only real GPUs can confirm the estimates (docs/serving.md
 * "Cold start" lists which).
 *
 * Ground floor: imports only infra/. The plan prints it (stacks/plan/render.ts), the startup
 * probe is sized from it (components/model-server.ts), the elasticity policy holds prod to the
 * seed's targets with it (policies/elasticity.ts), and the scaling simulator uses it.
 */
import { createHash } from "node:crypto";
import { requireInstanceType } from "./catalog/instances";
import { llmModel, type LlmModel, type LlmModelKey } from "./catalog/models";
import { gbpsToGiBps, networkBandwidth } from "./catalog/network-bandwidth";
import { warmStartFor, type WarmStartConfig } from "./config/warm-start";

/** How a new GPU node gets the vLLM image (config `warmStart.families.<family>.mode`). */
export type WarmStartMode = WarmStartConfig["defaultMode"];
export type NodeState = "warm" | "new";

export interface Placement {
  readonly instanceType: string;
  readonly tensorParallelSize: number;
}

export interface ColdStartOptions {
  /** How a new node gets the image; ignored on a warm node (the image is cached). Default soci. */
  readonly warmStart?: WarmStartMode;
  /** Whether the compile cache is seeded from S3 (`models.<k>.compileCache`). Default true. */
  readonly compileCache?: boolean;
  /** Where the weights come from (`models.<k>.weights.source`). Default s3. */
  readonly weightsSource?: "s3" | "huggingface";
  /** EBS throughput of the GPU node's image volume, MiB/s (SOCI writes unpacked layers there). */
  readonly volumeThroughputMiBps?: number;
  /** Snapshot mode: the volume initialization rate, MiB/s (Karpenter `volumeInitializationRate`, 100-300). */
  readonly volumeInitializationRateMiBps?: number;
}

export type PhaseName =
  | "node-launch"
  | "device-plugin"
  | "image"
  | "compile-cache-seed"
  | "process-start"
  | "weights"
  | "compile"
  | "cuda-graphs"
  | "kv-cache-profile"
  | "readiness";

export interface ColdStartPhase {
  readonly name: PhaseName;
  readonly seconds: number;
  readonly source: string;
  /** True when the figure is our estimate rather than an upstream measurement or a derivation from config. */
  readonly estimate: boolean;
}

export interface ColdStartEstimate {
  readonly totalSeconds: number;
  readonly phases: readonly ColdStartPhase[];
}

const FACTS = "upstream-facts section 11";

/** Karpenter: ~100 s from a pending pod to a Ready node (aws/karpenter-provider-aws issue #3102). */
export const NODE_LAUNCH_SECONDS = 100;
/** The NVIDIA device plugin registers the GPUs ~60 s after the node is Ready (upstream-facts section 11; not measured here). */
export const DEVICE_PLUGIN_SECONDS = 60;

/**
 * The vLLM image, GiB on the wire. The upstream range is 12-28 GB (vllm issues #27154, #17163,
 * PR #22377); 20 GiB sits in it and is an estimate for the pinned tag.
 */
export const VLLM_IMAGE_GIB = 20;
/** Its largest layer (the CUDA/PyTorch wheels), GiB: EST. One layer unpacks on one stream. */
export const VLLM_LARGEST_LAYER_GIB = 8;
/** gunzip + untar of one layer stream, GiB/s: EST (single-threaded decompression). */
export const LAYER_UNPACK_GIB_PER_S = 0.15;
/**
 * containerd's default pull: layers download three at a time (max_concurrent_downloads) and
 * unpack one after another, so the unpack of the whole image is serial. EST 0.12 GiB/s overall,
 * consistent with "an uncached pull takes minutes" (upstream-facts section 11).
 */
export const CONTAINERD_SERIAL_PULL_GIB_PER_S = 0.12;
/** Share of the image a vLLM start reads (Python, PyTorch, CUDA libraries): EST. */
export const IMAGE_READ_AT_START_SHARE = 0.4;

/** Run:ai Model Streamer from S3, GiB/s (run-ai/runai-model-streamer docs/src/benchmarks.md, g5.12xlarge). */
export const STREAMER_S3_GIB_PER_S = 3.51;
/** Hugging Face download, GiB/s: EST for the fallback path. */
export const HF_DOWNLOAD_GIB_PER_S = 0.1;

/** Python imports, CUDA context, engine and API server up to weight loading, seconds: EST. */
export const PROCESS_START_SECONDS = 15;
/** Loading a torch.compile artifact from a seeded cache instead of compiling, seconds: EST. */
export const COMPILE_CACHED_SECONDS = 3;
/** CUDA graph capture, seconds: EST (capture sizes up to max_num_batched_tokens, upstream-facts section 12). */
export const CUDA_GRAPH_SECONDS = 10;
/** vLLM's memory-profiling run that sizes the KV cache, seconds: EST. */
export const KV_PROFILE_SECONDS = 5;
/** The compile cache archive (torch.compile, Inductor, Triton), GiB: EST. */
export const COMPILE_CACHE_GIB = 0.5;
/** An init container pulling a small image and starting, seconds: EST. */
export const INIT_CONTAINER_START_SECONDS = 2;

/** Probe periods the model server uses (components/model-server.ts); readiness is derived from them. */
export const STARTUP_PROBE_PERIOD_SECONDS = 5;
export const READINESS_PROBE_PERIOD_SECONDS = 5;
/** EndpointSlice update after the pod turns Ready, seconds: EST. */
export const ENDPOINT_PROPAGATION_SECONDS = 1;

/** Default EBS throughput of the GPU nodes' image volume, MiB/s (gp3 maximum is 1000). */
export const DEFAULT_VOLUME_THROUGHPUT_MIBPS = 1000;
/** Default volume initialization rate for snapshot volumes, MiB/s (Karpenter CRD allows 100-300). */
export const DEFAULT_VOLUME_INITIALIZATION_MIBPS = 300;

const MIB_PER_GIB = 1024;

/** Seconds rounded up to a tenth, so sums stay readable and never understate. */
function s(x: number): number {
  return Math.ceil(x * 10) / 10;
}

/** The instance's network during a start (burst rate: a new node has its credits), GiB/s. */
export function startupNetworkGiBps(instanceType: string): number {
  return gbpsToGiBps(networkBandwidth(instanceType).burstGbps);
}

/** The image phase on a new node for a warm-start mode. */
export function imagePhase(mode: WarmStartMode, instanceType: string, opts: ColdStartOptions = {}): ColdStartPhase {
  const net = startupNetworkGiBps(instanceType);
  switch (mode) {
    case "none":
      return {
        name: "image",
        seconds: s(VLLM_IMAGE_GIB / Math.min(net, CONTAINERD_SERIAL_PULL_GIB_PER_S)),
        source: `uncached pull of ~${VLLM_IMAGE_GIB} GiB at min(network, ${CONTAINERD_SERIAL_PULL_GIB_PER_S} GiB/s serial unpack) (${FACTS}: minutes)`,
        estimate: true,
      };
    case "soci": {
      const disk = (opts.volumeThroughputMiBps ?? DEFAULT_VOLUME_THROUGHPUT_MIBPS) / MIB_PER_GIB;
      const download = VLLM_IMAGE_GIB / Math.min(net, disk);
      const unpack = VLLM_LARGEST_LAYER_GIB / LAYER_UNPACK_GIB_PER_S;
      return {
        name: "image",
        seconds: s(Math.max(download, unpack)),
        source: `SOCI parallel pull: max(${VLLM_IMAGE_GIB} GiB / min(network, EBS ${Math.round(disk * MIB_PER_GIB)} MiB/s), largest layer ${VLLM_LARGEST_LAYER_GIB} GiB / ${LAYER_UNPACK_GIB_PER_S} GiB/s) (awslabs/soci-snapshotter docs/parallel-mode.md)`,
        estimate: true,
      };
    }
    case "snapshot": {
      const rate = (opts.volumeInitializationRateMiBps ?? DEFAULT_VOLUME_INITIALIZATION_MIBPS) / MIB_PER_GIB;
      return {
        name: "image",
        seconds: s((VLLM_IMAGE_GIB * IMAGE_READ_AT_START_SHARE) / rate),
        source: `image on an EBS snapshot volume: ${IMAGE_READ_AT_START_SHARE * 100}% of ${VLLM_IMAGE_GIB} GiB read at the ${Math.round(rate * MIB_PER_GIB)} MiB/s initialization rate (Karpenter EC2NodeClass volumeInitializationRate)`,
        estimate: true,
      };
    }
  }
}

/**
 * Weights: the Run:ai streamer reads from S3 at 3.51 GiB/s, bounded by the instance's network.
 * Each tensor-parallel rank streams the checkpoint and keeps its shard, so the node moves
 * weights x TP through its NIC (conservative: EST for TP > 1).
 */
export function weightsPhase(model: LlmModel, p: Placement, source: "s3" | "huggingface"): ColdStartPhase {
  if (source === "huggingface") {
    return { name: "weights", seconds: s(model.weightsGiB / HF_DOWNLOAD_GIB_PER_S), source: `Hugging Face download at ${HF_DOWNLOAD_GIB_PER_S} GiB/s`, estimate: true };
  }
  const net = startupNetworkGiBps(p.instanceType);
  const seconds = Math.max(model.weightsGiB / STREAMER_S3_GIB_PER_S, (model.weightsGiB * p.tensorParallelSize) / net);
  return {
    name: "weights",
    seconds: s(seconds),
    source: `${model.weightsGiB.toFixed(1)} GiB x TP ${p.tensorParallelSize} at min(streamer ${STREAMER_S3_GIB_PER_S} GiB/s, network ${net.toFixed(2)} GiB/s) (run-ai/runai-model-streamer benchmarks; infra/catalog/network-bandwidth.ts)`,
    estimate: p.tensorParallelSize > 1,
  };
}

/** The phases inside the vLLM container (what the startup probe waits for). */
export function enginePhases(model: LlmModel, p: Placement, opts: ColdStartOptions = {}): ColdStartPhase[] {
  const compileCache = opts.compileCache ?? true;
  const sm = requireInstanceType(p.instanceType).gpu?.computeCapability ?? "?";
  return [
    { name: "process-start", seconds: PROCESS_START_SECONDS, source: "Python imports, CUDA context, API server", estimate: true },
    weightsPhase(model, p, opts.weightsSource ?? "s3"),
    compileCache
      ? { name: "compile", seconds: COMPILE_CACHED_SECONDS, source: "torch.compile artifacts loaded from the seeded cache (VLLM_CACHE_ROOT)", estimate: true }
      : {
          name: "compile",
          seconds: model.compileSeconds,
          source: `torch.compile from scratch on sm${sm.replace(".", "")} (vllm issue #22331: ~20 s for 20b on sm86; larger models scaled)`,
          estimate: model.key !== "gpt-oss-20b",
        },
    { name: "cuda-graphs", seconds: CUDA_GRAPH_SECONDS, source: "CUDA graph capture", estimate: true },
    { name: "kv-cache-profile", seconds: KV_PROFILE_SECONDS, source: "profiling run that sizes the KV cache", estimate: true },
  ];
}

/**
 * Estimated time from a replica being scheduled to it serving, on a warm node (GPU node up,
 * image cached) or a new node (Karpenter launches it).
 */
export function coldStartEstimate(key: LlmModelKey, placement: Placement, node: NodeState, opts: ColdStartOptions = {}): ColdStartEstimate {
  const model = llmModel(key);
  const compileCache = opts.compileCache ?? true;
  const phases: ColdStartPhase[] = [];
  if (node === "new") {
    phases.push({ name: "node-launch", seconds: NODE_LAUNCH_SECONDS, source: "Karpenter pending pod to Ready node (aws/karpenter-provider-aws issue #3102)", estimate: false });
    phases.push({ name: "device-plugin", seconds: DEVICE_PLUGIN_SECONDS, source: `NVIDIA device plugin registers the GPUs (${FACTS})`, estimate: true });
    phases.push(imagePhase(opts.warmStart ?? "soci", placement.instanceType, opts));
  } else {
    phases.push({ name: "image", seconds: 0, source: "cached on the node (pinned tag, imagePullPolicy IfNotPresent)", estimate: false });
  }
  if (compileCache) {
    const net = startupNetworkGiBps(placement.instanceType);
    phases.push({
      name: "compile-cache-seed",
      seconds: s(INIT_CONTAINER_START_SECONDS + COMPILE_CACHE_GIB / Math.min(net, STREAMER_S3_GIB_PER_S)),
      source: `init container copies ~${COMPILE_CACHE_GIB} GiB from S3 into the node-local cache`,
      estimate: true,
    });
  }
  phases.push(...enginePhases(model, placement, opts));
  phases.push({
    name: "readiness",
    seconds: STARTUP_PROBE_PERIOD_SECONDS + READINESS_PROBE_PERIOD_SECONDS + ENDPOINT_PROPAGATION_SECONDS,
    source: `worst case: startup probe period ${STARTUP_PROBE_PERIOD_SECONDS} s + readiness period ${READINESS_PROBE_PERIOD_SECONDS} s + endpoint update`,
    estimate: false,
  });
  return { totalSeconds: s(phases.reduce((a, p) => a + p.seconds, 0)), phases };
}

/** The longest phase: what to work on when an estimate misses its target. */
export function dominantPhase(e: ColdStartEstimate): ColdStartPhase {
  return e.phases.reduce((a, b) => (b.seconds > a.seconds ? b : a));
}

/** Safety factor of the startup probe over the container's worst warm estimate. */
export const STARTUP_BUDGET_FACTOR = 2;

/**
 * Seconds the startup probe allows: the container's phases with the compile cache missed (a new
 * pin before its cache is produced), times STARTUP_BUDGET_FACTOR, rounded up to the probe period.
 */
export function startupProbeBudgetSeconds(key: LlmModelKey, placement: Placement, opts: Pick<ColdStartOptions, "weightsSource"> = {}): number {
  const engine = enginePhases(llmModel(key), placement, { ...opts, compileCache: false }).reduce((a, p) => a + p.seconds, 0);
  const budget = STARTUP_BUDGET_FACTOR * engine;
  return Math.ceil(budget / STARTUP_PROBE_PERIOD_SECONDS) * STARTUP_PROBE_PERIOD_SECONDS;
}

/** What a compile cache is valid for: any change to one of these invalidates it. */
export interface CompileCacheKeyInput {
  /** The vLLM image reference (digest when pinned by digest, else the tag). */
  readonly vllmImage: string;
  readonly model: string;
  readonly modelRevision: string;
  /** CUDA compute capability, e.g. "8.6". */
  readonly gpuArch: string;
  readonly tensorParallelSize: number;
  readonly maxModelLen: number;
}

/** sha256 of the canonical tuple (fixed key order, JSON); the cache lives under this key in S3. */
export function compileCacheKey(i: CompileCacheKeyInput): string {
  const canonical = JSON.stringify([
    ["vllmImage", i.vllmImage],
    ["model", i.model],
    ["modelRevision", i.modelRevision],
    ["gpuArch", i.gpuArch],
    ["tensorParallelSize", i.tensorParallelSize],
    ["maxModelLen", i.maxModelLen],
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** The seed's scale-up target: a replica on a new node within 5 minutes. */
export const NEW_NODE_LIMIT_SECONDS = 300;

export interface ColdStartConfig {
  readonly models: Readonly<Partial<Record<LlmModelKey, { readonly pool: string; readonly tensorParallelSize: number; readonly weights: { readonly source: "s3" | "huggingface" } }>>>;
  readonly gpuPools: Readonly<Record<string, { readonly instanceTypes: readonly string[] }>>;
  readonly karpenter: {
    readonly gpuSpot: { readonly enabled: boolean; readonly instanceTypes: readonly string[] };
    readonly gpuOnDemand: { readonly enabled: boolean; readonly instanceTypes: readonly string[] };
  };
  readonly warmStart: WarmStartConfig;
}

export interface ColdStartRow {
  readonly model: LlmModelKey;
  readonly instanceType: string;
  readonly tensorParallelSize: number;
  /** How a new node gets the image (the Karpenter GPU class's mode, else the pool family's). */
  readonly warmStart: WarmStartMode;
  readonly compileCache: boolean;
  readonly weightsSource: "s3" | "huggingface";
  readonly warm: ColdStartEstimate;
  readonly new: ColdStartEstimate;
  /** The seed's warm-node goal for the model (60 s 20b, 120 s 120b). */
  readonly warmGoalSeconds: number;
  readonly newNodeLimitSeconds: number;
  readonly startupProbeBudgetSeconds: number;
}

/** The smallest (fewest vCPU per GPU) type of a pool, as components/model-server.ts places requests. */
function smallestType(types: readonly string[]): string {
  return types.map(requireInstanceType).reduce((a, b) => (b.vcpu / b.gpu!.count < a.vcpu / a.gpu!.count ? b : a)).name;
}

/** Per configured model: warm-node and new-node estimates with their phases (the plan prints them). */
export function coldStartReport(c: ColdStartConfig): ColdStartRow[] {
  const k = c.karpenter;
  const karpenterTypes = [k.gpuSpot, k.gpuOnDemand].filter((p) => p.enabled).flatMap((p) => p.instanceTypes);
  const rows: ColdStartRow[] = [];
  for (const [key, m] of Object.entries(c.models) as [LlmModelKey, NonNullable<ColdStartConfig["models"][LlmModelKey]>][]) {
    const pool = c.gpuPools[m.pool];
    if (!pool) continue;
    const instanceType = smallestType(pool.instanceTypes);
    const fam = karpenterTypes.length > 0 ? warmStartFor(c.warmStart, karpenterTypes[0]!) : warmStartFor(c.warmStart, instanceType);
    const placement = { instanceType, tensorParallelSize: m.tensorParallelSize };
    const opts: ColdStartOptions = {
      warmStart: fam.mode,
      compileCache: c.warmStart.compileCache.enabled && m.weights.source === "s3",
      weightsSource: m.weights.source,
      volumeThroughputMiBps: c.warmStart.imageVolume.throughputMiBps,
      volumeInitializationRateMiBps: fam.volumeInitializationRateMiBps,
    };
    rows.push({
      model: key,
      instanceType,
      tensorParallelSize: m.tensorParallelSize,
      warmStart: fam.mode,
      compileCache: opts.compileCache!,
      weightsSource: m.weights.source,
      warm: coldStartEstimate(key, placement, "warm", opts),
      new: coldStartEstimate(key, placement, "new", opts),
      warmGoalSeconds: llmModel(key).coldStartGoalSeconds,
      newNodeLimitSeconds: NEW_NODE_LIMIT_SECONDS,
      startupProbeBudgetSeconds: startupProbeBudgetSeconds(key, placement, { weightsSource: m.weights.source }),
    });
  }
  return rows;
}

/** What an operator changes to shorten a phase (policy messages and the plan). */
export const PHASE_REMEDY: Readonly<Record<PhaseName, string>> = {
  "node-launch": "keep warm capacity (replicas.min, gpuPools.<pool>.minNodes): Karpenter's launch time is not configurable",
  "device-plugin": "keep warm capacity (replicas.min, gpuPools.<pool>.minNodes)",
  image: "set warmStart.families.<family>.mode (or warmStart.defaultMode) to soci or snapshot, or raise warmStart.imageVolume.throughputMiBps",
  "compile-cache-seed": "keep the cache small (it is seeded at every start)",
  "process-start": "nothing to configure",
  weights: "use models.<name>.weights.source s3, or a type with more network bandwidth",
  compile: "set warmStart.compileCache.enabled true and produce the cache (warmStart.compileCache.produce)",
  "cuda-graphs": "lower --max-cudagraph-capture-size (the recipe's)",
  "kv-cache-profile": "nothing to configure",
  readiness: "nothing to configure",
};

/**
 * The phase that breaks a target: the one whose best setting saves the most (image: the fastest
 * warm-start mode; compile: the compile cache on; weights: from S3), else the longest phase.
 */
export function breakingPhase(key: LlmModelKey, placement: Placement, node: NodeState, opts: ColdStartOptions = {}): ColdStartPhase {
  const e = coldStartEstimate(key, placement, node, opts);
  const total = (o: ColdStartOptions) => coldStartEstimate(key, placement, node, { ...opts, ...o }).totalSeconds;
  const savings: [PhaseName, number][] = [
    ["image", node === "new" ? e.totalSeconds - Math.min(...(["soci", "snapshot"] as const).map((m) => total({ warmStart: m }))) : 0],
    ["compile", e.totalSeconds - total({ compileCache: true })],
    ["weights", e.totalSeconds - total({ weightsSource: "s3" })],
  ];
  const [name, saved] = savings.reduce((a, b) => (b[1] > a[1] ? b : a));
  if (saved > 0) return e.phases.find((p) => p.name === name)!;
  return e.phases.reduce((a, b) => (b.seconds > a.seconds ? b : a));
}

/** The plan's cold-start block (stacks/plan/render.ts); plan.json carries the rows with every source. */
export function renderColdStart(rows: readonly ColdStartRow[]): string[] {
  if (rows.length === 0) return [];
  const phases = (e: ColdStartEstimate) => e.phases.filter((p) => p.seconds > 0 || p.name !== "image").map((p) => `${p.name} ${p.seconds}${p.estimate ? "*" : ""}`).join(" + ");
  const out = ["Cold start of a replica, seconds (model: infra/coldstart.ts; docs/serving.md \"Cold start\"; * = estimate, sources in plan.json coldStart):"];
  for (const r of rows) {
    const warmOk = r.warm.totalSeconds <= r.warmGoalSeconds;
    const newOk = r.new.totalSeconds <= r.newNodeLimitSeconds;
    out.push(
      `  ${r.model.padEnd(14)} ${`${r.instanceType} TP${r.tensorParallelSize}`.padEnd(18)} warm node ${String(r.warm.totalSeconds).padStart(6)} (goal <= ${r.warmGoalSeconds}${warmOk ? "" : " - MISSED"})` +
        `  new node ${String(r.new.totalSeconds).padStart(6)} (limit ${r.newNodeLimitSeconds}${newOk ? "" : " - MISSED"})`,
    );
    out.push(`    image on new nodes: ${r.warmStart}; compile cache: ${r.compileCache ? "seeded from S3" : "off"}; weights: ${r.weightsSource}; startup probe budget ${r.startupProbeBudgetSeconds} s`);
    out.push(`    warm: ${phases(r.warm)}`);
    out.push(`    new:  ${phases(r.new)}`);
  }
  return out;
}
