/**
 * Kubernetes objects as Pulumi registers them (type `kubernetes:<group>/<version>:<Kind>`, props
 * = the manifest): workloads and their pod templates, containers, images, Helm release values.
 */
import { arr, get, isRecord, record, str, stringMap, type Props } from "./props";

export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const COMPONENT_LABEL = "app.kubernetes.io/component";
export const PLATFORM = "llm-platform";

export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
export const NAMESPACE = "kubernetes:core/v1:Namespace";
export const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
export const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
export const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
export const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";
export const SECRET = "kubernetes:core/v1:Secret";
export const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
export const EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";

export function isNodePool(type: string): boolean {
  return /^kubernetes:karpenter\.sh\/v1(beta1)?:NodePool$/.test(type);
}

/** Workload types and where their pod template's spec and metadata live. */
const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  "kubernetes:apps/v1:Deployment": ["spec", "template"],
  "kubernetes:apps/v1:StatefulSet": ["spec", "template"],
  "kubernetes:apps/v1:DaemonSet": ["spec", "template"],
  "kubernetes:apps/v1:ReplicaSet": ["spec", "template"],
  "kubernetes:batch/v1:Job": ["spec", "template"],
  "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template"],
  "kubernetes:core/v1:Pod": [],
};

export const WORKLOAD_TYPES: readonly string[] = Object.keys(POD_TEMPLATE_PATHS);

export interface Workload {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  /** The workload object's labels. */
  readonly labels: Record<string, string>;
  /** The pod template's labels. */
  readonly podLabels: Record<string, string>;
  readonly podSpec: Record<string, unknown>;
}

/** The workload view of a Kubernetes object, or undefined for other types. */
export function workloadOf(type: string, props: Props, fallbackName: string): Workload | undefined {
  const path = POD_TEMPLATE_PATHS[type];
  if (!path) return undefined;
  const template = path.length === 0 ? props : get(props, ...path);
  return {
    kind: str(props.kind) ?? type.split(":").pop() ?? type,
    name: str(get(props, "metadata", "name")) ?? fallbackName,
    namespace: str(get(props, "metadata", "namespace")) ?? "default",
    labels: stringMap(get(props, "metadata", "labels")),
    podLabels: stringMap(get(template, "metadata", "labels")),
    podSpec: record(get(template, "spec")),
  };
}

export interface Container {
  /** "container", "initContainer" or "ephemeralContainer". */
  readonly role: string;
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

export function containersOf(podSpec: Record<string, unknown>): Container[] {
  const out: Container[] = [];
  for (const [key, role] of [
    ["containers", "container"],
    ["initContainers", "initContainer"],
    ["ephemeralContainers", "ephemeralContainer"],
  ] as const) {
    arr(podSpec[key]).forEach((c, i) => {
      if (isRecord(c)) out.push({ role, name: str(c.name) ?? `#${i}`, spec: c });
    });
  }
  return out;
}

/** "Deployment inference/vllm-gpt-oss-20b" */
export function describeWorkload(w: Workload): string {
  return `${w.kind} ${w.namespace}/${w.name}`;
}

export interface ImageRef {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Parses `registry[:port]/path[:tag][@sha256:digest]`. */
export function parseImage(image: string): ImageRef {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) return { repository: rest.slice(0, colon), tag: rest.slice(colon + 1), ...(digest ? { digest } : {}) };
  return { repository: rest, ...(digest ? { digest } : {}) };
}

/** Why an image reference floats, or undefined when it is pinned (a tag other than latest, or a digest). */
export function floatingImage(image: string): string | undefined {
  const ref = parseImage(image);
  if (ref.digest) return /^sha256:[a-f0-9]{64}$/.test(ref.digest) ? undefined : `has a malformed digest "${ref.digest}"`;
  if (ref.tag === undefined || ref.tag === "") return "has no tag (Kubernetes pulls the latest tag)";
  if (ref.tag === "latest") return `uses the floating tag "latest"`;
  return undefined;
}

/** Walks a JSON value, calling `visit` with each node and its key path. */
export function walk(v: unknown, visit: (node: unknown, path: readonly string[], parent: Record<string, unknown> | undefined) => void, path: string[] = [], parent?: Record<string, unknown>): void {
  visit(v, path, parent);
  if (Array.isArray(v)) (v as unknown[]).forEach((x, i) => walk(x, visit, [...path, String(i)], undefined));
  else if (isRecord(v)) for (const [k, x] of Object.entries(v)) walk(x, visit, [...path, k], v);
}

export function pathString(path: readonly string[]): string {
  return path.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "");
}
