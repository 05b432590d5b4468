/**
 * Reliability guardrails: serving workloads have startup and readiness probes, a
 * PodDisruptionBudget and topology spread, and enough replicas (or a KEDA minimum) in prod;
 * stateful resources are protected or retained where the environment asks for it.
 *
 * A serving workload is a Deployment or StatefulSet labelled app.kubernetes.io/part-of=llm-platform
 * whose app.kubernetes.io/component is one of SERVING_COMPONENTS, or that runs in a platform
 * Namespace labelled app.kubernetes.io/component=serving.
 */
import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { STATEFUL_TYPES as STATEFUL_TYPE_SET } from "llm-platform-infra/protection";
import { COMPONENT_LABEL, containersOf, describeWorkload, HPA, NAMESPACE, PART_OF_LABEL, PDB, PLATFORM, SCALED_OBJECT, workloadOf, type Workload } from "./lib/k8s";
import { configOf, propsOf } from "./lib/policy";
import { arr, get, isRecord, kindOf, num, record, str, stringMap } from "./lib/props";

/** app.kubernetes.io/component values that mark a serving workload. */
export const SERVING_COMPONENTS: readonly string[] = ["serving", "inference", "model-server", "embeddings", "reranker", "safety", "vector-db", "gateway"];

const SERVING_KINDS = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"];

export interface ServingWorkload {
  readonly resource: PolicyResource;
  readonly workload: Workload;
}

/** The serving workloads of a stack (see the module comment). */
export function servingWorkloads(resources: readonly PolicyResource[]): ServingWorkload[] {
  const servingNamespaces = new Set<string>();
  for (const r of resources.filter((x) => x.type === NAMESPACE)) {
    const labels = stringMap(get(propsOf(r), "metadata", "labels"));
    const name = str(get(propsOf(r), "metadata", "name"));
    if (name && labels[PART_OF_LABEL] === PLATFORM && labels[COMPONENT_LABEL] === "serving") servingNamespaces.add(name);
  }
  const out: ServingWorkload[] = [];
  for (const r of resources.filter((x) => SERVING_KINDS.includes(x.type))) {
    const w = workloadOf(r.type, propsOf(r), r.name);
    if (!w) continue;
    const labels = { ...w.podLabels, ...w.labels };
    const partOf = labels[PART_OF_LABEL] === PLATFORM;
    const component = labels[COMPONENT_LABEL];
    if ((partOf && component !== undefined && SERVING_COMPONENTS.includes(component)) || servingNamespaces.has(w.namespace)) out.push({ resource: r, workload: w });
  }
  return out;
}

function forServing(check: (s: ServingWorkload, all: readonly PolicyResource[], report: ReportViolation) => void) {
  return (args: { resources: PolicyResource[] }, report: ReportViolation) => {
    for (const s of servingWorkloads(args.resources)) check(s, args.resources, report);
  };
}

// ---------------------------------------------------------------------------------------------

export const servingProbes: StackValidationPolicy = {
  name: "serving-probes",
  description: "Every container of a serving workload has a startup probe (sized to its load time) and a readiness probe.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["reliability"],
  validateStack: forServing(({ resource, workload }, _all, report) => {
    for (const c of containersOf(workload.podSpec).filter((x) => x.role === "container")) {
      const missing = (["startupProbe", "readinessProbe"] as const).filter((p) => !isRecord(c.spec[p]));
      if (missing.length) report(`${describeWorkload(workload)}: container ${c.name} has no ${missing.join(" or ")}.`, resource.urn);
    }
  }),
};

/** Whether a label selector (matchLabels, matchExpressions In/Exists) selects pods with these labels. */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  const s = record(selector);
  const matchLabels = stringMap(s.matchLabels);
  const exprs = arr(s.matchExpressions).filter(isRecord);
  if (Object.keys(matchLabels).length === 0 && exprs.length === 0) return false;
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return exprs.every((e) => {
    const key = str(e.key) ?? "";
    const values = arr(e.values).filter((v): v is string => typeof v === "string");
    switch (e.operator) {
      case "In":
        return labels[key] !== undefined && values.includes(labels[key]);
      case "NotIn":
        return labels[key] === undefined || !values.includes(labels[key]);
      case "Exists":
        return labels[key] !== undefined;
      case "DoesNotExist":
        return labels[key] === undefined;
      default:
        return false;
    }
  });
}

export const servingPodDisruptionBudget: StackValidationPolicy = {
  name: "serving-pod-disruption-budget",
  description: "Every serving workload is covered by a PodDisruptionBudget in its namespace, so that node drains and consolidation keep it serving.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["reliability"],
  validateStack: forServing(({ resource, workload }, all, report) => {
    const covered = all.some(
      (r) => r.type === PDB && (str(get(propsOf(r), "metadata", "namespace")) ?? "default") === workload.namespace && selects(get(propsOf(r), "spec", "selector"), workload.podLabels),
    );
    if (!covered) report(`${describeWorkload(workload)} has no PodDisruptionBudget selecting its pods; add one (maxUnavailable: 1, or minAvailable below the minimum replicas).`, resource.urn);
  }),
};

export const servingTopologySpread: StackValidationPolicy = {
  name: "serving-topology-spread",
  description: "Every serving workload spreads its pods across zones or nodes with topologySpreadConstraints.",
  enforcementLevel: "mandatory",
  severity: "medium",
  tags: ["reliability"],
  validateStack: forServing(({ resource, workload }, _all, report) => {
    const constraints = arr(workload.podSpec.topologySpreadConstraints).filter(isRecord);
    if (constraints.length === 0) report(`${describeWorkload(workload)} sets no topologySpreadConstraints; spread it over topology.kubernetes.io/zone (and kubernetes.io/hostname).`, resource.urn);
    else if (!constraints.some((c) => typeof c.topologyKey === "string" && c.topologyKey !== "")) report(`${describeWorkload(workload)}: its topologySpreadConstraints name no topologyKey.`, resource.urn);
  }),
};

// ---------------------------------------------------------------------------------------------
// serving-min-replicas

export interface MinReplicasConfig {
  readonly minReplicas: number;
}

/** The scaler that owns a workload's replica count, if any: a KEDA ScaledObject or an HPA. */
function scalerOf(w: Workload, all: readonly PolicyResource[]): { kind: string; min: number } | undefined {
  for (const r of all) {
    const p = propsOf(r);
    if ((str(get(p, "metadata", "namespace")) ?? "default") !== w.namespace) continue;
    if (r.type === SCALED_OBJECT) {
      const ref = record(get(p, "spec", "scaleTargetRef"));
      if (str(ref.name) === w.name && (str(ref.kind) ?? "Deployment") === w.kind) return { kind: "KEDA ScaledObject minReplicaCount", min: num(get(p, "spec", "minReplicaCount")) ?? 0 };
    }
    if (r.type === HPA) {
      const ref = record(get(p, "spec", "scaleTargetRef"));
      if (str(ref.name) === w.name && str(ref.kind) === w.kind) return { kind: "HorizontalPodAutoscaler minReplicas", min: num(get(p, "spec", "minReplicas")) ?? 1 };
    }
  }
  return undefined;
}

export const servingMinReplicas: StackValidationPolicy = {
  name: "serving-min-replicas",
  description: "Every serving workload keeps at least minReplicas replicas (2 in prod): its KEDA ScaledObject minReplicaCount, its HPA minReplicas, or else spec.replicas.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["reliability"],
  configSchema: {
    properties: { minReplicas: { type: "integer", minimum: 0, default: 2, description: "The least replicas a serving workload may scale down to." } },
  },
  validateStack: (args, report) => {
    const { minReplicas } = configOf<MinReplicasConfig>(args);
    if (minReplicas === 0) return;
    for (const { resource, workload } of servingWorkloads(args.resources)) {
      const scaler = scalerOf(workload, args.resources);
      const min = scaler?.min ?? num(get(propsOf(resource), "spec", "replicas")) ?? 1;
      if (min < minReplicas)
        report(`${describeWorkload(workload)}: ${scaler ? scaler.kind : "spec.replicas"} is ${min}, below this environment's minimum of ${minReplicas}; raise <service>.replicas.min.`, resource.urn);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// stateful-resources-protected

/** The one list of stateful types, shared with the protection transformation. */
export const STATEFUL_TYPES: readonly string[] = [...STATEFUL_TYPE_SET];

export interface ProtectionConfig {
  readonly requireProtection: boolean;
}

export const statefulResourcesProtected: ResourceValidationPolicy = {
  name: "stateful-resources-protected",
  description: "Where requireProtection is set (staging, prod), stateful resources (buckets, keys, repositories, databases, volumes, Vault secrets) have protect or retainOnDelete.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["reliability"],
  configSchema: {
    properties: { requireProtection: { type: "boolean", default: true, description: "Require protect or retainOnDelete on stateful resources." } },
  },
  validateResource: (args, report) => {
    if (!STATEFUL_TYPES.includes(args.type)) return;
    const { requireProtection } = configOf<ProtectionConfig>(args);
    if (!requireProtection) return;
    if (args.opts.protect) return;
    // The Pulumi CLI does not pass retainOnDelete to policy packs; the offline plan does.
    const retain = (args.opts as { retainOnDelete?: boolean }).retainOnDelete;
    if (retain === true) return;
    if (retain === undefined) args.notApplicable("retainOnDelete is not visible to policy packs under the Pulumi CLI; the offline plan checks it");
    report(`${kindOf(args.type)} ${args.name} has neither protect nor retainOnDelete; set protection.retainOnDelete or protection.protect (infra/protection.ts applies them).`);
  },
};

export const reliabilityPolicies = [servingProbes, servingPodDisruptionBudget, servingTopologySpread, servingMinReplicas, statefulResourcesProtected] as const;
