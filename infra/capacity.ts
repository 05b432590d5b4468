/**
 * GPU capacity: can the configured replicas of every GPU workload (vLLM models and GPU TEI
 * encoders) actually get GPUs?
 *
 * - `replicas.min` must fit the capacity that exists without any autoscaler: the managed node
 *   groups at `minNodes`. Nothing grows a managed group (there is no cluster-autoscaler), and
 *   Karpenter only launches for pods that are already pending.
 * - `replicas.max` must be reachable through the managed node groups at `minNodes` plus what the
 *   Karpenter GPU NodePools may launch within their `spec.limits` (Karpenter only launches types
 *   that keep a pool within its limits: karpenter docs, NodePools, `spec.limits`;
 *   upstream-facts section 12), with every workload at its maximum at once.
 * - Every GPU a workload is placed on is offered by at least one enabled Karpenter GPU NodePool,
 *   so that burst and replacement capacity exist beside the managed baseline.
 * - A GPU node group kept at minNodes > 0 that no workload can use is refused: idle money.
 *
 * One pure function (`capacityProblems`) does the arithmetic. The config cross-check
 * (infra/config/cross-checks.ts) feeds it demands read from the config; the offline cluster model
 * (tests/cluster/scheduling.ts) feeds it demands read from the rendered Deployments, ScaledObjects,
 * node groups and NodePools, with admission decided by the pods' real node affinity. Both must
 * agree; each is tested with a configuration that breaks it.
 *
 * Imports only the catalogs and config types (the ground floor).
 */
import { requireInstanceType, type InstanceType } from "./catalog/instances";
import type { EncoderConfig, GpuPoolConfig, ModelConfig, NodePoolConfig } from "./config";

export interface Resources {
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly gpus: number;
}

// ---------------------------------------------------------------------------------------------
// What a node offers pods

/** Node daemons' requests per node: VPC CNI, kube-proxy, EBS CSI node, Pod Identity agent, node-exporter, NVIDIA device plugin, DCGM exporter, Istio CNI. */
export const DAEMONSET_ALLOWANCE = { cpu: 0.5, memoryGiB: 1 } as const;
/** Share of nominal memory the OS, kernel and firmware keep (MemTotal is below the EC2 figure). */
export const OS_MEMORY_SHARE = 0.05;
/** kubelet `evictionHard: memory.available<100Mi` on the EKS AL2023 AMI. */
export const EVICTION_HARD_GIB = 100 / 1024;

/** kube-reserved CPU (cores) by the EKS AMI's ranges: 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% above four. */
export function kubeReservedCpu(vcpu: number): number {
  const ranges: [number, number, number][] = [
    [0, 1, 0.06],
    [1, 2, 0.01],
    [2, 4, 0.005],
    [4, Infinity, 0.0025],
  ];
  return ranges.reduce((sum, [from, to, share]) => sum + Math.max(0, Math.min(vcpu, to) - from) * share, 0);
}

/**
 * kube-reserved memory (GiB): 11 MiB x maxPods + 255 MiB, with maxPods taken at the EKS
 * recommendation (110 below 30 vCPUs, 250 from 30), the larger bound for the VPC CNI.
 */
export function kubeReservedMemoryGiB(vcpu: number): number {
  const maxPods = vcpu < 30 ? 110 : 250;
  return (11 * maxPods + 255) / 1024;
}

/**
 * Allocatable resources of a node: the instance minus the system reserve. Sources:
 * awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go (`getCPUMillicoresToReserve`,
 * `getMemoryMebibytesToReserve`: 11 x maxPods + 255 MiB, eviction-hard 100Mi); the node
 * daemons' allowance and the OS share are this project's stated assumptions.
 */
export function allocatable(t: InstanceType): Resources {
  return {
    cpu: t.vcpu - kubeReservedCpu(t.vcpu) - DAEMONSET_ALLOWANCE.cpu,
    memoryGiB: t.memoryGiB * (1 - OS_MEMORY_SHARE) - kubeReservedMemoryGiB(t.vcpu) - EVICTION_HARD_GIB - DAEMONSET_ALLOWANCE.memoryGiB,
    gpus: t.gpu?.count ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// What a GPU replica asks for (components/model-server.ts `resourcesFor` builds the pod from the same rule)

/** The pool's type with the least CPU per GPU: pods sized for it fit every node of the pool. */
export function smallestGpuType(instanceTypes: readonly string[]): InstanceType {
  return instanceTypes.map(requireInstanceType).reduce((a, b) => (b.vcpu / b.gpu!.count < a.vcpu / a.gpu!.count ? b : a));
}

/** Requests of one replica at tensor-parallel size `tp`: three quarters of the smallest node's per-GPU share. */
export function gpuReplicaRequests(instanceTypes: readonly string[], tp: number): Resources {
  const t = smallestGpuType(instanceTypes);
  const gpus = t.gpu!.count;
  return { cpu: Math.max(1, Math.floor((t.vcpu / gpus) * 0.75)) * tp, memoryGiB: Math.floor((t.memoryGiB / gpus) * 0.75) * tp, gpus: tp };
}

// ---------------------------------------------------------------------------------------------
// The arithmetic

export interface NodeGroupSupply {
  /** The pool name (`llm-platform.io/pool`). */
  readonly name: string;
  readonly instanceTypes: readonly string[];
  readonly minNodes: number;
}

export interface NodePoolSupply {
  /** The NodePool's name (`karpenter.sh/nodepool`). */
  readonly name: string;
  /** Where it is configured, for messages: "karpenter.gpuSpot". */
  readonly configKey: string;
  readonly weight: number;
  /** The catalog types its requirements admit. */
  readonly instanceTypes: readonly string[];
  readonly limits: Resources;
}

export type NodeSource = { readonly kind: "nodeGroup" | "nodePool"; readonly name: string };

export interface GpuDemand {
  /** What the messages name: "models.gpt-oss-120b" or "Deployment inference/vllm-gpt-oss-120b". */
  readonly subject: string;
  /** The key that places it, for the message about Karpenter: "pool" or "placement". */
  readonly placementField: string;
  /** GPU as people say it, e.g. "H100". */
  readonly gpu: string;
  readonly replicas: { readonly min: number; readonly max: number };
  /** Requests of one replica (gpus = GPUs per replica). */
  readonly requests: Resources;
  /** Whether a replica may run on a node of `t` from `source` (labels, affinity, taints). */
  admits(source: NodeSource, t: InstanceType): boolean;
}

export interface CapacityProblem {
  readonly subject: string;
  /** "replicas.min", "replicas.max" or the placement field. */
  readonly field: string;
  readonly message: string;
}

interface SimNode {
  readonly source: NodeSource;
  readonly type: InstanceType;
  /** Launched by Karpenter (not one of a managed group's minNodes). */
  readonly launched: boolean;
  free: Resources;
}

const fits = (free: Resources, r: Resources) => free.cpu >= r.cpu && free.memoryGiB >= r.memoryGiB && free.gpus >= r.gpus;
const minus = (a: Resources, b: Resources): Resources => ({ cpu: a.cpu - b.cpu, memoryGiB: a.memoryGiB - b.memoryGiB, gpus: a.gpus - b.gpus });
const plus = (a: Resources, b: Resources): Resources => ({ cpu: a.cpu + b.cpu, memoryGiB: a.memoryGiB + b.memoryGiB, gpus: a.gpus + b.gpus });
const ZERO: Resources = { cpu: 0, memoryGiB: 0, gpus: 0 };
const asResources = (t: InstanceType): Resources => ({ cpu: t.vcpu, memoryGiB: t.memoryGiB, gpus: t.gpu?.count ?? 0 });
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** A managed group may launch any of its types: count it at its weakest (fewest GPUs, then CPU, then memory). */
function weakest(types: readonly string[]): InstanceType {
  return types
    .map(requireInstanceType)
    .reduce((a, b) => ((b.gpu?.count ?? 0) - (a.gpu?.count ?? 0) || b.vcpu - a.vcpu || b.memoryGiB - a.memoryGiB) < 0 ? b : a);
}

function baselineNodes(groups: readonly NodeGroupSupply[]): SimNode[] {
  return groups.flatMap((g) => {
    const t = weakest(g.instanceTypes);
    return Array.from({ length: g.minNodes }, () => ({ source: { kind: "nodeGroup" as const, name: g.name }, type: t, launched: false, free: allocatable(t) }));
  });
}

/** Places one replica of `d` on the first node with room; the node, or undefined. */
function place(d: GpuDemand, nodes: SimNode[]): SimNode | undefined {
  const n = nodes.find((x) => d.admits(x.source, x.type) && fits(x.free, d.requests));
  if (n) n.free = minus(n.free, d.requests);
  return n;
}

/** Replicas of `d` that fit one empty node of `t`. */
function slots(d: GpuDemand, t: InstanceType): number {
  const a = allocatable(t);
  const r = d.requests;
  return Math.floor(Math.min(r.gpus > 0 ? a.gpus / r.gpus : Infinity, r.cpu > 0 ? a.cpu / r.cpu : Infinity, r.memoryGiB > 0 ? a.memoryGiB / r.memoryGiB : Infinity));
}

/** Launches one Karpenter node for `d`: the highest-weight pool first, its cheapest type per replica within the limits. */
function launch(d: GpuDemand, pools: readonly NodePoolSupply[], used: Map<string, Resources>, nodes: SimNode[]): boolean {
  for (const p of [...pools].sort((a, b) => b.weight - a.weight)) {
    const u = used.get(p.name) ?? ZERO;
    const candidates = p.instanceTypes
      .map(requireInstanceType)
      .filter((t) => d.admits({ kind: "nodePool", name: p.name }, t) && slots(d, t) > 0 && fits(p.limits, plus(u, asResources(t))))
      .sort((a, b) => a.onDemandHourlyUsd / slots(d, a) - b.onDemandHourlyUsd / slots(d, b));
    const t = candidates[0];
    if (!t) continue;
    used.set(p.name, plus(u, asResources(t)));
    nodes.push({ source: { kind: "nodePool", name: p.name }, type: t, launched: true, free: allocatable(t) });
    return true;
  }
  return false;
}

function offeringPools(d: GpuDemand, pools: readonly NodePoolSupply[]): NodePoolSupply[] {
  return pools.filter((p) => p.instanceTypes.some((n) => d.admits({ kind: "nodePool", name: p.name }, requireInstanceType(n))));
}

function baselineGpus(d: GpuDemand, groups: readonly NodeGroupSupply[]): { names: string[]; gpus: number; types: string[] } {
  const admitting = groups.filter((g) => g.instanceTypes.some((n) => d.admits({ kind: "nodeGroup", name: g.name }, requireInstanceType(n))));
  return {
    names: admitting.map((g) => g.name),
    gpus: admitting.reduce((s, g) => s + g.minNodes * (weakest(g.instanceTypes).gpu?.count ?? 0), 0),
    types: [...new Set(admitting.flatMap((g) => g.instanceTypes))],
  };
}

function groupsText(b: { names: string[]; gpus: number }, sharedWith: string[]): string {
  if (b.names.length === 0) return "no node group admits it";
  const shared = sharedWith.length ? `, shared with ${sharedWith.join(", ")}` : "";
  return `node group${b.names.length > 1 ? "s" : ""} ${b.names.join(", ")} hold${b.names.length > 1 ? "" : "s"} ${b.gpus} at minNodes${shared}`;
}

/** Where a replica landed: a managed group's node or a node Karpenter launched. */
export interface PlacedNode {
  readonly source: NodeSource;
  readonly type: InstanceType;
  readonly launched: boolean;
}

export interface Placement {
  /** Per demand subject ("models.gpt-oss-20b"), the node each placed replica landed on. */
  readonly replicas: ReadonlyMap<string, readonly PlacedNode[]>;
  /** Karpenter nodes launched to place them. */
  readonly launched: readonly PlacedNode[];
}

/**
 * Places every demand's `which` replicas, all at once: larger replicas first, then by subject;
 * the managed groups at minNodes first-fit, then one Karpenter node at a time from the
 * highest-weight GPU NodePool, its cheapest type per replica within the pool's limits. Replicas
 * that fit nowhere are left out ({@link capacityProblems} reports them). The capacity rule, the
 * cost model's baseline and unit economics (infra/unit-economics.ts) all place this way.
 */
export function placeReplicas(groups: readonly NodeGroupSupply[], pools: readonly NodePoolSupply[], demands: readonly GpuDemand[], which: "min" | "max"): Placement {
  const order = [...demands].sort((a, b) => b.requests.gpus - a.requests.gpus || (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  const nodes = baselineNodes(groups);
  const used = new Map<string, Resources>();
  const replicas = new Map<string, PlacedNode[]>();
  for (const d of order) {
    const landed: PlacedNode[] = [];
    const want = which === "min" ? d.replicas.min : d.replicas.max;
    while (landed.length < want) {
      const n = place(d, nodes) ?? (launch(d, pools, used, nodes) ? place(d, nodes) : undefined);
      if (!n) break;
      landed.push(n);
    }
    replicas.set(d.subject, landed);
  }
  return { replicas, launched: nodes.filter((n) => n.launched) };
}

/**
 * The capacity problems of `demands` against the managed groups (at minNodes) and the Karpenter
 * GPU NodePools (within their limits). Demands are placed larger replicas first, then by subject
 * (embeddings before models, in the config and in the cluster model alike); when several share
 * capacity, the later one reports the shortage.
 */
export function capacityProblems(groups: readonly NodeGroupSupply[], pools: readonly NodePoolSupply[], demands: readonly GpuDemand[]): CapacityProblem[] {
  const problems: CapacityProblem[] = [];
  // Larger replicas first (packing), then by name, so the result does not depend on input order.
  const order = [...demands].sort((a, b) => b.requests.gpus - a.requests.gpus || (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  const sharers = (d: GpuDemand, names: string[]) =>
    demands.filter((o) => o !== d && groups.some((g) => names.includes(g.name) && g.instanceTypes.some((n) => o.admits({ kind: "nodeGroup", name: g.name }, requireInstanceType(n))))).map((o) => o.subject.split(/[./]/).pop()!);
  const need = (n: number, d: GpuDemand) => `${plural(n, "replica")} need${n === 1 ? "s" : ""} ${n * d.requests.gpus} ${d.gpu} GPU${n * d.requests.gpus === 1 ? "" : "s"}`;

  // replicas.min on the managed groups at minNodes, no autoscaler.
  const base = baselineNodes(groups);
  for (const d of order) {
    let placed = 0;
    while (placed < d.replicas.min && place(d, base)) placed++;
    if (placed < d.replicas.min) {
      const b = baselineGpus(d, groups);
      const others = sharers(d, b.names);
      const fix = b.names.length ? `raise gpuPools.${b.names[0]}.minNodes or lower replicas.min` : `place it on a pool with minNodes > 0 or lower replicas.min`;
      problems.push({
        subject: d.subject,
        field: "replicas.min",
        message: `${need(d.replicas.min, d)} without an autoscaler; ${groupsText(b, others)}; only ${placed} fit${others.length ? " beside them" : ""} — ${fix}`,
      });
    }
  }

  // A GPU group kept up (minNodes > 0) that no workload can use is idle money (issue 12, "Capacity").
  for (const g of groups) {
    const t = weakest(g.instanceTypes);
    if (g.minNodes > 0 && t.gpu && !demands.some((d) => g.instanceTypes.some((n) => d.admits({ kind: "nodeGroup", name: g.name }, requireInstanceType(n)))))
      problems.push({
        subject: `gpuPools.${g.name}`,
        field: "minNodes",
        message: `${plural(g.minNodes, "node")} of ${t.name} that no model or GPU encoder is placed on: idle money — place a workload on the pool or set minNodes: 0`,
      });
  }

  // replicas.max on the groups at minNodes plus Karpenter within its limits, everything at max at once.
  const atMax = placeReplicas(groups, pools, demands, "max");
  for (const d of order) {
    const offering = offeringPools(d, pools);
    const placed = atMax.replicas.get(d.subject)!.length;
    const b = baselineGpus(d, groups);
    const types = b.types.length ? b.types.join(", ") : `a type with ${d.gpu} GPUs`;
    if (placed < d.replicas.max) {
      const karpenter =
        offering.length === 0
          ? `no Karpenter NodePool offers ${d.gpu.toLowerCase()} — add ${types} to karpenter.gpuSpot.instanceTypes or lower replicas.max`
          : `Karpenter NodePool${offering.length > 1 ? "s" : ""} ${offering.map((p) => p.name).join(", ")} reach${offering.length > 1 ? "" : "es"} ${offering.length > 1 ? "their" : "its"} limits with only ${placed} placed — raise ${offering.map((p) => `${p.configKey}.limits`).join(" or ")} or lower replicas.max`;
      problems.push({ subject: d.subject, field: "replicas.max", message: `${need(d.replicas.max, d)}; ${groupsText(b, sharers(d, b.names))} and ${karpenter}` });
    } else if (offering.length === 0 && d.replicas.max > 0) {
      problems.push({
        subject: d.subject,
        field: d.placementField,
        message: `no Karpenter NodePool offers ${d.gpu.toLowerCase()} for burst or replacement capacity beside node group ${b.names.join(", ") || "(none)"} — add ${types} to karpenter.gpuSpot.instanceTypes`,
      });
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// From the config

export interface CapacityConfig {
  readonly gpuPools: Readonly<Record<string, GpuPoolConfig>>;
  readonly karpenter: { readonly gpuSpot: NodePoolConfig; readonly gpuOnDemand: NodePoolConfig };
  readonly models: Readonly<Partial<Record<string, ModelConfig>>>;
  readonly embeddings: Readonly<Record<"embed" | "rerank", EncoderConfig>>;
}

/** Karpenter GPU NodePool names and their config keys, as components/karpenter.ts names them. */
export const GPU_NODEPOOLS = [
  { name: "gpu-spot", key: "gpuSpot" },
  { name: "gpu-on-demand", key: "gpuOnDemand" },
] as const;

/**
 * The config's GPU demands, admitted as components/model-server.ts `modelNodeAffinity` admits
 * them: the pool's own node group, or a Karpenter GPU node with the same GPU (name and memory
 * per GPU) and at least `tensorParallelSize` GPUs.
 */
export function configDemands(c: CapacityConfig): GpuDemand[] {
  const demand = (subject: string, placementField: string, poolName: string, tp: number, replicas: { min: number; max: number }): GpuDemand => {
    const pool = c.gpuPools[poolName]!;
    const want = smallestGpuType(pool.instanceTypes).gpu!;
    return {
      subject,
      placementField,
      gpu: want.name.toUpperCase(),
      replicas,
      requests: gpuReplicaRequests(pool.instanceTypes, tp),
      admits: (s, t) =>
        s.kind === "nodeGroup" ? s.name === poolName : t.gpu !== undefined && t.gpu.name === want.name && t.gpu.memoryMiB === want.memoryMiB && t.gpu.count >= tp,
    };
  };
  const out: GpuDemand[] = [];
  for (const [key, m] of Object.entries(c.models)) if (m) out.push(demand(`models.${key}`, "pool", m.pool, m.tensorParallelSize, m.replicas));
  for (const role of ["embed", "rerank"] as const) {
    const e = c.embeddings[role];
    if (e.enabled && e.placement !== "cpu") out.push(demand(`embeddings.${role}`, "placement", e.placement, 1, e.replicas));
  }
  return out;
}

/** The config's managed GPU groups (at minNodes) and enabled Karpenter GPU NodePools. */
export function configSupply(c: Pick<CapacityConfig, "gpuPools" | "karpenter">): { groups: NodeGroupSupply[]; pools: NodePoolSupply[] } {
  const groups = Object.entries(c.gpuPools).map(([name, p]) => ({ name, instanceTypes: p.instanceTypes, minNodes: p.minNodes }));
  const pools = GPU_NODEPOOLS.filter((p) => c.karpenter[p.key].enabled).map((p) => {
    const n = c.karpenter[p.key];
    return { name: p.name, configKey: `karpenter.${p.key}`, weight: n.weight, instanceTypes: n.instanceTypes, limits: { cpu: n.limits.cpu, memoryGiB: n.limits.memoryGiB, gpus: n.limits.gpus } };
  });
  return { groups, pools };
}

/** Where the config's GPU replicas land at `which` ({@link placeReplicas}). */
export function configPlacement(c: CapacityConfig, which: "min" | "max"): Placement {
  const { groups, pools } = configSupply(c);
  return placeReplicas(groups, pools, configDemands(c), which);
}

/** The capacity problems of a config, with the key path each belongs to. */
export function configCapacityProblems(c: CapacityConfig): { path: string; message: string }[] {
  const { groups, pools } = configSupply(c);
  return capacityProblems(groups, pools, configDemands(c)).map((p) => ({ path: `${p.subject}.${p.field}`, message: p.message }));
}
