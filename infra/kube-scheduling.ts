/**
 * How the Kubernetes scheduler matches a pod to a node, as pure functions over plain objects:
 * node selector requirements (In, NotIn, Exists, DoesNotExist, Gt, Lt), taints and tolerations,
 * and a pod's effective requests. The cost model (which pods need Karpenter's CPU nodes) and the
 * cluster model's scheduling check (tests/cluster/scheduling.ts) use these same functions.
 * Semantics: kubernetes/kubernetes `k8s.io/component-helpers/scheduling/corev1/nodeaffinity`
 * (requirements), `v1helper.TolerationsTolerateTaint` (tolerations) and the scheduler's
 * `computePodResourceRequest` (containers summed, init containers at their largest).
 */

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
}

export interface Requirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

export interface PodResources {
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly gpus: number;
}

const GIB = 1024 ** 3;

/** Parses a Kubernetes quantity ("384Gi", "16", "500m") to a number of base units (bytes, cores). */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === "number") return q;
  if (typeof q !== "string") return undefined;
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
}

function field(o: unknown, ...path: string[]): unknown {
  let cur = o;
  for (const k of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);

/** A node selector requirement against a node's labels (Gt/Lt compare integers). */
export function matchesRequirement(labels: Readonly<Record<string, string>>, r: Requirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return has && values.includes(v!);
    case "NotIn":
      return !has || !values.includes(v!);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
      return has && /^-?\d+$/.test(v!) && Number(v) > Number(values[0]);
    case "Lt":
      return has && /^-?\d+$/.test(v!) && Number(v) < Number(values[0]);
    default:
      return false;
  }
}

/** Toleration matching: effect (empty matches all), then Exists (empty key matches all) or Equal. */
export function tolerates(tolerations: unknown, t: Taint): boolean {
  return list(tolerations).some((x) => {
    const key = field(x, "key") as string | undefined;
    const effect = field(x, "effect") as string | undefined;
    if (effect && effect !== t.effect) return false;
    return field(x, "operator") === "Exists" ? !key || key === t.key : key === t.key && ((field(x, "value") as string | undefined) ?? "") === (t.value ?? "");
  });
}

/** Why a node with these labels and taints turns the pod spec away, or undefined when it admits it. */
export function admissionMismatch(spec: unknown, labels: Readonly<Record<string, string>>, taints: readonly Taint[]): string | undefined {
  const selector = (field(spec, "nodeSelector") as Record<string, string> | undefined) ?? {};
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return `nodeSelector ${k}=${v}`;
  const terms = field(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms");
  if (Array.isArray(terms) && !terms.some((term) => list(field(term, "matchExpressions")).every((e) => matchesRequirement(labels, e as Requirement))))
    return "required node affinity";
  for (const t of taints) if (t.effect !== "PreferNoSchedule" && !tolerates(field(spec, "tolerations"), t)) return `taint ${t.key}=${t.value ?? ""}:${t.effect} not tolerated`;
  return undefined;
}

/** The pod's effective requests: containers summed, init containers at their largest; limits stand in for missing requests. */
export function podRequests(spec: unknown): PodResources {
  const one = (c: unknown): PodResources => {
    const q = (k: string) => parseQuantity(field(c, "resources", "requests", k) ?? field(c, "resources", "limits", k)) ?? 0;
    return { cpu: q("cpu"), memoryGiB: q("memory") / GIB, gpus: q("nvidia.com/gpu") };
  };
  const sum = list(field(spec, "containers"))
    .map(one)
    .reduce((a, b) => ({ cpu: a.cpu + b.cpu, memoryGiB: a.memoryGiB + b.memoryGiB, gpus: a.gpus + b.gpus }), { cpu: 0, memoryGiB: 0, gpus: 0 });
  return list(field(spec, "initContainers"))
    .map(one)
    .reduce((a, b) => ({ cpu: Math.max(a.cpu, b.cpu), memoryGiB: Math.max(a.memoryGiB, b.memoryGiB), gpus: Math.max(a.gpus, b.gpus) }), sum);
}
