/**
 * Cluster model check 6: schedulability and capacity.
 *
 * Node sources, as the program registers them:
 * - managed node groups: their labels and taints as components/node-groups.ts sets them
 *   (POOL_LABEL, the GPU labels, GPU_TAINT), plus the kubelet's well-known labels and EKS's
 *   `eks.amazonaws.com/nodegroup` / `eks.amazonaws.com/capacityType`, one node shape per
 *   instance type;
 * - Karpenter NodePools: every catalog type whose well-known labels (infra/catalog/instances.ts
 *   `karpenterLabels`) satisfy the NodePool's requirements, with the template's labels and taints,
 *   `karpenter.sh/nodepool` and `karpenter.sh/capacity-type`.
 * A node of a type offers its allocatable resources (infra/capacity.ts `allocatable`: the
 * instance minus the stated system reserve).
 *
 * Checks, each a pure function returning problems:
 * - every pod template (program and chart pods, and the chart pods of tests/cluster/chart-pods.ts)
 *   has a node source whose labels satisfy its nodeSelector and required node affinity (In, NotIn,
 *   Exists, DoesNotExist, Gt, Lt), whose taints it tolerates and, except for DaemonSets, whose
 *   allocatable resources fit its requests;
 * - GPU pods request nvidia.com/gpu and tolerate the GPU taint; every GPU node source carries the
 *   taint; no pod that requests no GPU can land on a GPU node;
 * - capacity: the shared rule of infra/capacity.ts over the rendered workloads (replicas from
 *   their ScaledObjects or HPAs, admission by their real affinity), node groups and NodePools.
 */
import { GPU_TAINT, POOL_LABEL } from "../../components/node-groups";
import { capacityProblems, allocatable, GPU_NODEPOOLS, type GpuDemand, type NodeGroupSupply, type NodePoolSupply, type NodeSource, type Resources } from "../../infra/capacity";
import { INSTANCE_TYPES, karpenterLabels, kubeletLabels, requireInstanceType, type InstanceType } from "../../infra/catalog/instances";
import { admissionMismatch, matchesRequirement, parseQuantity, podRequests, tolerates, type Requirement, type Taint } from "../../infra/kube-scheduling";
import { chartPlacementPods } from "./chart-pods";

// The scheduler's matching lives in the ground floor (infra/kube-scheduling.ts), shared with the cost model.
export { matchesRequirement, podRequests, tolerates, type Requirement, type Taint };
import type { ClusterModel, PodTemplate } from "./model";

/** One shape of node a source may bring up. */
export interface NodeShape {
  readonly source: NodeSource;
  readonly type: InstanceType;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
}

export interface NodeSourceView {
  readonly source: NodeSource;
  readonly shapes: readonly NodeShape[];
  /** Node groups: nodes that exist without any autoscaler. */
  readonly minNodes?: number;
  readonly instanceTypes: readonly string[];
  /** NodePools: spec.limits and weight. */
  readonly limits?: Resources;
  readonly weight?: number;
}

const MNG = "eks:index:ManagedNodeGroup";
const EFFECTS: Record<string, string> = { NO_SCHEDULE: "NoSchedule", NO_EXECUTE: "NoExecute", PREFER_NO_SCHEDULE: "PreferNoSchedule" };
const GIB = 1024 ** 3;

/** Why a node shape's labels or taints turn the pod away, or undefined when they admit it. */
export function labelAndTaintMismatch(spec: Record<string, any>, shape: NodeShape): string | undefined {
  return admissionMismatch(spec, shape.labels, shape.taints);
}

function fitMismatch(req: Resources, t: InstanceType): string | undefined {
  const a = allocatable(t);
  if (req.gpus > a.gpus) return `requests ${req.gpus} GPUs, ${t.name} has ${a.gpus}`;
  if (req.cpu > a.cpu) return `requests ${req.cpu} CPU, ${t.name} allocates ${a.cpu.toFixed(2)}`;
  if (req.memoryGiB > a.memoryGiB) return `requests ${req.memoryGiB.toFixed(1)} GiB, ${t.name} allocates ${a.memoryGiB.toFixed(1)}`;
  return undefined;
}

const isDaemonSet = (p: PodTemplate) => p.origin.includes("DaemonSet");

// ---------------------------------------------------------------------------------------------
// Node sources

/** The node sources the program registers: managed node groups and Karpenter NodePools. */
export function nodeSources(m: ClusterModel): NodeSourceView[] {
  const out: NodeSourceView[] = [];
  for (const r of m.run.resources.filter((x) => x.type === MNG)) {
    const i = r.inputs as any;
    const labels: Record<string, string> = i.labels ?? {};
    const source: NodeSource = { kind: "nodeGroup", name: labels[POOL_LABEL] ?? r.name };
    const taints: Taint[] = (i.taints ?? []).map((t: any) => ({ key: t.key, value: t.value, effect: EFFECTS[t.effect] ?? t.effect }));
    const types: string[] = (i.instanceTypes ?? []).filter((n: string) => INSTANCE_TYPES.has(n));
    out.push({
      source,
      instanceTypes: types,
      minNodes: i.scalingConfig?.minSize ?? 0,
      shapes: types.map((n) => {
        const t = requireInstanceType(n);
        return {
          source,
          type: t,
          taints,
          labels: { ...kubeletLabels(t), "eks.amazonaws.com/nodegroup": String(i.nodeGroupName ?? r.name), "eks.amazonaws.com/capacityType": String(i.capacityType ?? "ON_DEMAND"), ...labels },
        };
      }),
    });
  }
  for (const { obj } of m.objects.filter((o) => o.obj.kind === "NodePool")) {
    const name = obj.metadata.name;
    const source: NodeSource = { kind: "nodePool", name };
    const tpl = obj.spec?.template ?? {};
    const reqs: Requirement[] = tpl.spec?.requirements ?? [];
    const capacity = reqs.find((r) => r.key === "karpenter.sh/capacity-type" && r.operator === "In")?.values ?? ["on-demand"];
    const taints: Taint[] = tpl.spec?.taints ?? [];
    const shapes: NodeShape[] = [];
    for (const t of INSTANCE_TYPES.values())
      for (const c of capacity) {
        const labels = { ...karpenterLabels(t), ...(tpl.metadata?.labels ?? {}), "karpenter.sh/nodepool": name, "karpenter.sh/capacity-type": c };
        if (reqs.every((r) => matchesRequirement(labels, r))) shapes.push({ source, type: t, labels, taints });
      }
    const l = obj.spec?.limits ?? {};
    out.push({
      source,
      shapes,
      instanceTypes: [...new Set(shapes.map((s) => s.type.name))],
      limits: { cpu: parseQuantity(l.cpu) ?? Infinity, memoryGiB: (parseQuantity(l.memory) ?? Infinity) / GIB, gpus: parseQuantity(l["nvidia.com/gpu"]) ?? Infinity },
      weight: obj.spec?.weight ?? 0,
    });
  }
  return out;
}

/** Every pod template the check covers: the model's pods plus the placement facts of charts it has no renderer for. */
export function scheduledPods(m: ClusterModel): PodTemplate[] {
  return [...m.pods, ...chartPlacementPods(m.releases)];
}

/** The shapes that admit a pod (labels, taints, and for non-DaemonSets its requests). */
export function admittingShapes(pod: PodTemplate, sources: readonly NodeSourceView[]): NodeShape[] {
  const req = podRequests(pod.spec);
  return sources.flatMap((s) => s.shapes).filter((sh) => !labelAndTaintMismatch(pod.spec, sh) && (isDaemonSet(pod) || !fitMismatch(req, sh.type)));
}

const sourceName = (s: NodeSource) => `${s.kind === "nodeGroup" ? "node group" : "NodePool"} ${s.name}`;

// ---------------------------------------------------------------------------------------------
// The checks

/** Every pod template has a node source that admits it. */
export function unschedulablePods(m: ClusterModel, sources = nodeSources(m)): string[] {
  const problems: string[] = [];
  for (const pod of scheduledPods(m)) {
    if (admittingShapes(pod, sources).length > 0) continue;
    const req = podRequests(pod.spec);
    const reasons = sources.map((s) => {
      const why = s.shapes.map((sh) => labelAndTaintMismatch(pod.spec, sh) ?? (isDaemonSet(pod) ? undefined : fitMismatch(req, sh.type)));
      return `${sourceName(s.source)}: ${why.find((w) => w) ?? "no instance type"}`;
    });
    problems.push(`${pod.origin}: no node source admits it (${reasons.join("; ")})`);
  }
  return problems;
}

/** GPU pods request GPUs and tolerate the GPU taint; GPU nodes are tainted; non-GPU pods never land on GPU nodes. */
export function gpuIsolationProblems(m: ClusterModel, sources = nodeSources(m)): string[] {
  const problems: string[] = [];
  const gpuTaint: Taint = { key: GPU_TAINT.key, value: GPU_TAINT.value, effect: "NoSchedule" };
  for (const s of sources) {
    const bare = s.shapes.filter((sh) => sh.type.gpu && !sh.taints.some((t) => t.key === gpuTaint.key && t.effect === "NoSchedule"));
    if (bare.length) problems.push(`${sourceName(s.source)}: GPU nodes (${[...new Set(bare.map((b) => b.type.name))].join(", ")}) without the taint ${gpuTaint.key}=${gpuTaint.value}:NoSchedule`);
  }
  for (const pod of scheduledPods(m)) {
    if (isDaemonSet(pod)) continue;
    const req = podRequests(pod.spec);
    const tolerant = tolerates(pod.spec.tolerations, gpuTaint);
    if (req.gpus > 0 && !tolerant) problems.push(`${pod.origin}: requests nvidia.com/gpu but does not tolerate the GPU taint ${gpuTaint.key}`);
    if (req.gpus === 0 && tolerant) problems.push(`${pod.origin}: tolerates the GPU taint but requests no nvidia.com/gpu`);
    if (req.gpus === 0) {
      const onGpu = [...new Set(admittingShapes(pod, sources).filter((sh) => sh.type.gpu).map((sh) => sourceName(sh.source)))];
      if (onGpu.length) problems.push(`${pod.origin}: requests no GPU but may land on GPU nodes of ${onGpu.join(", ")}`);
    }
  }
  return problems;
}

export interface RenderedDemand extends GpuDemand {
  readonly pod: PodTemplate;
}

/** The GPU workloads the program renders, with their replica bounds from the ScaledObject or HPA that scales them. */
export function renderedDemands(m: ClusterModel, sources = nodeSources(m)): RenderedDemand[] {
  const out: RenderedDemand[] = [];
  for (const { obj } of m.objects.filter((o) => o.obj.kind === "Deployment" || o.obj.kind === "StatefulSet")) {
    const ns = obj.metadata.namespace ?? "default";
    const pod = m.pods.find((p) => p.origin === `${obj.kind} ${ns}/${obj.metadata.name}`);
    if (!pod) continue;
    const requests = podRequests(pod.spec);
    if (requests.gpus === 0) continue;
    const targets = (kind: string) => m.objects.find((o) => o.obj.kind === kind && o.obj.metadata.namespace === ns && o.obj.spec?.scaleTargetRef?.name === obj.metadata.name)?.obj;
    const so = targets("ScaledObject");
    const hpa = targets("HorizontalPodAutoscaler");
    const replicas = so
      ? { min: so.spec.minReplicaCount ?? 0, max: so.spec.maxReplicaCount ?? 100 }
      : hpa
        ? { min: hpa.spec.minReplicas ?? 1, max: hpa.spec.maxReplicas }
        : { min: obj.spec?.replicas ?? 1, max: obj.spec?.replicas ?? 1 };
    const shapes = sources.flatMap((s) => s.shapes);
    const gpu = shapes.find((sh) => sh.type.gpu && !labelAndTaintMismatch(pod.spec, sh))?.type.gpu?.name.toUpperCase() ?? "GPU";
    out.push({
      pod,
      subject: pod.origin,
      placementField: "node affinity",
      gpu,
      replicas,
      requests,
      admits: (source, t) => shapes.some((sh) => sh.source.kind === source.kind && sh.source.name === source.name && sh.type.name === t.name && !labelAndTaintMismatch(pod.spec, sh)),
    });
  }
  return out;
}

/** The capacity rule of infra/capacity.ts, over what the program renders. */
export function renderedCapacityProblems(m: ClusterModel, sources = nodeSources(m)): string[] {
  const groups: NodeGroupSupply[] = sources.filter((s) => s.source.kind === "nodeGroup").map((s) => ({ name: s.source.name, instanceTypes: s.instanceTypes, minNodes: s.minNodes ?? 0 }));
  const pools: NodePoolSupply[] = sources
    .filter((s) => s.source.kind === "nodePool" && (s.limits?.gpus ?? 0) > 0)
    .map((s) => ({
      name: s.source.name,
      configKey: `karpenter.${GPU_NODEPOOLS.find((p) => p.name === s.source.name)?.key ?? s.source.name}`,
      weight: s.weight ?? 0,
      instanceTypes: s.instanceTypes,
      limits: s.limits!,
    }));
  return capacityProblems(groups, pools, renderedDemands(m, sources)).map((p) => `${p.subject}: ${p.field}: ${p.message}`);
}

/** Check 6, all parts. */
export function schedulingProblems(m: ClusterModel): string[] {
  const sources = nodeSources(m);
  return [...unschedulablePods(m, sources), ...gpuIsolationProblems(m, sources), ...renderedCapacityProblems(m, sources)];
}
