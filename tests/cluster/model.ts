/**
 * The offline cluster model: what the program registers, seen the way a cluster would see it
 * together. Pure functions over a recorded run (tests/support/stacks.ts):
 *
 * - `objects`: every rendered Kubernetes object, with the URNs it waits for (dependsOn, and the
 *   dependsOn of every ancestor component, as the engine applies them);
 * - `releases`: every Helm release with its values;
 * - `pods`: every pod template, the program's own (Deployments, StatefulSets, DaemonSets, Jobs,
 *   CronJobs) and the ones the pinned charts render from their values (tests/cluster/charts.ts);
 * - `services`: Services the program renders and the ones the charts render.
 *
 * The checks (tests/cluster/*.test.ts) are pure functions over this model that return a list of
 * problems; every check has a seeded mutation in its test that makes it report.
 */
import type { RunResult } from "../support/stacks";
import { reference } from "../support/reference";
import { chartRenders, EKS_ADDON_PODS, type ChartRender } from "./charts";
import { chartName, coalesce, referenceChart } from "./helm-values";

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [k: string]: any;
}

export interface Rendered {
  readonly urn: string;
  readonly type: string;
  readonly obj: K8sObject;
  /** URNs this object waits for: its own dependsOn and that of every ancestor. */
  readonly waitsFor: ReadonlySet<string>;
}

export interface Release {
  readonly urn: string;
  readonly name: string;
  readonly namespace: string;
  readonly chart: string;
  readonly version: string;
  readonly values: Record<string, any>;
  /** The values merged over the chart's defaults (../shared/reference/charts), as Helm renders them; the values alone when the reference is absent. */
  readonly effective: Record<string, any>;
  readonly waitsFor: ReadonlySet<string>;
}

const CHARTS_REF = reference("charts");
const defaultsCache = new Map<string, unknown>();
function chartDefaults(chart: string): unknown {
  if (!CHARTS_REF.present) return {};
  if (!defaultsCache.has(chart)) defaultsCache.set(chart, referenceChart(CHARTS_REF.dir, chartName(chart))?.defaults ?? {});
  return defaultsCache.get(chart);
}

export interface PodTemplate {
  /** Who renders it: "Deployment inference/vllm-gpt-oss-20b" or "chart kube-prometheus-stack: prometheus". */
  readonly origin: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: Record<string, any>;
  /** The release that renders it, for chart pods. */
  readonly release?: string;
  /** The URN of the object or release that creates it (none for pods EKS itself runs). */
  readonly urn?: string;
}

export interface ServiceView {
  readonly origin: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name?: string; readonly port: number; readonly targetPort?: number | string; readonly protocol?: string }[];
}

export interface ClusterModel {
  readonly stack: string;
  readonly run: RunResult;
  readonly objects: readonly Rendered[];
  readonly releases: readonly Release[];
  readonly pods: readonly PodTemplate[];
  readonly services: readonly ServiceView[];
  /** Names of objects a chart creates, by kind: "Secret gateway/litellm-masterkey". */
  readonly chartCreated: ReadonlySet<string>;
  readonly byUrn: ReadonlyMap<string, RunResult["resources"][number]>;
}

export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

/** URNs a resource waits for: its dependsOn plus its ancestors' (components pass theirs down). */
function waitsFor(urn: string, byUrn: ReadonlyMap<string, RunResult["resources"][number]>): Set<string> {
  const out = new Set<string>();
  let cur = byUrn.get(urn);
  for (let i = 0; cur && i < 50; i++) {
    for (const d of cur.options.dependsOn) out.add(d);
    cur = cur.parent ? byUrn.get(cur.parent) : undefined;
  }
  return out;
}

/** Every URN reachable through waitsFor (the resources and, for components, their children). */
export function transitiveWaits(m: Pick<ClusterModel, "byUrn">, urn: string): Set<string> {
  const seen = new Set<string>();
  const childrenOf = new Map<string, string[]>();
  for (const r of m.byUrn.values()) if (r.parent) childrenOf.set(r.parent, [...(childrenOf.get(r.parent) ?? []), r.urn]);
  const stack = [...waitsFor(urn, m.byUrn)];
  while (stack.length) {
    const u = stack.pop()!;
    if (seen.has(u)) continue;
    seen.add(u);
    // Waiting for a component waits for all its children.
    for (const c of childrenOf.get(u) ?? []) stack.push(c);
    for (const d of waitsFor(u, m.byUrn)) stack.push(d);
  }
  return seen;
}

const POD_PATHS: Record<string, string[]> = {
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

function at(o: any, path: readonly string[]): any {
  return path.reduce((c, k) => c?.[k], o);
}

export function buildModel(run: RunResult): ClusterModel {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const objects: Rendered[] = [];
  const releases: Release[] = [];
  for (const r of run.resources) {
    if (!r.custom || !r.type.startsWith("kubernetes:") || r.type.startsWith("pulumi:providers:")) continue;
    const w = waitsFor(r.urn, byUrn);
    if (r.type === HELM_RELEASE) {
      const i = r.inputs as any;
      const chart = String(i.chart).split("/").pop()!;
      const values = (i.values ?? {}) as Record<string, any>;
      releases.push({ urn: r.urn, name: i.name, namespace: i.namespace, chart, version: i.version, values, effective: coalesce(chartDefaults(chart), values) as Record<string, any>, waitsFor: w });
    } else objects.push({ urn: r.urn, type: r.type, obj: r.inputs as unknown as K8sObject, waitsFor: w });
  }

  const pods: PodTemplate[] = [];
  const services: ServiceView[] = [];
  for (const { obj, urn } of objects) {
    const path = POD_PATHS[obj.kind];
    if (path) {
      const t = at(obj, path) ?? {};
      pods.push({
        urn,
        origin: `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`,
        namespace: obj.metadata.namespace ?? "default",
        labels: t.metadata?.labels ?? {},
        annotations: t.metadata?.annotations ?? {},
        spec: t.spec ?? {},
      });
    }
    if (obj.kind === "Service")
      services.push({
        origin: `Service ${obj.metadata.namespace}/${obj.metadata.name}`,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace ?? "default",
        labels: obj.metadata.labels ?? {},
        selector: obj.spec?.selector ?? {},
        ports: obj.spec?.ports ?? [],
      });
  }

  const chartCreated = new Set<string>();
  for (const rel of releases) {
    const render: ChartRender | undefined = chartRenders(rel, run.config);
    if (!render) continue;
    for (const p of render.pods) pods.push({ ...p, origin: `chart ${rel.chart}: ${p.origin}`, release: rel.name, urn: rel.urn, annotations: p.annotations ?? {} });
    for (const s of render.services) services.push({ ...s, origin: `chart ${rel.chart}: Service ${s.namespace}/${s.name}`, labels: s.labels ?? {} });
    for (const c of render.creates) chartCreated.add(c);
  }
  for (const p of EKS_ADDON_PODS) pods.push({ ...p, annotations: p.annotations ?? {} });
  return { stack: run.stack, run, objects, releases, pods, services, chartCreated, byUrn };
}

export function matchLabels(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** Pods a selector (matchLabels) selects in a namespace. */
export function podsSelected(m: ClusterModel, namespace: string, selector: Readonly<Record<string, string>>): PodTemplate[] {
  return m.pods.filter((p) => p.namespace === namespace && matchLabels(selector, p.labels));
}

export function allContainers(spec: Record<string, any>): any[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

export function objectsOfKind(m: ClusterModel, kind: string): Rendered[] {
  return m.objects.filter((o) => o.obj.kind === kind);
}
