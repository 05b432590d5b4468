/**
 * Cluster-model check 1: references resolve.
 * - Every Service selects pods of a workload in its namespace, and every targetPort (number or
 *   name) is a container port of those pods.
 * - Every in-cluster address (`x.ns.svc[.cluster.local]:port`, with or without a scheme) in a
 *   rendered object (container args, env, ConfigMap data) or a Helm release's values names a
 *   Service that exposes that port.
 * - Every Secret, ConfigMap, ServiceAccount, PersistentVolumeClaim, StorageClass and
 *   PriorityClass a pod uses exists: rendered by the program, written by an ExternalSecret
 *   (its target), created by a chart (tests/cluster/charts.ts `creates`), or built into
 *   Kubernetes/EKS (BUILT_IN below).
 * - Every ScaledObject's target exists, and no workload has both an HPA and a ScaledObject.
 */
import { admittedSpec } from "./admission";
import type { ClusterModel, PodTemplate } from "./model";
import { allContainers, matchLabels } from "./model";

/** Objects Kubernetes or EKS create on their own (kubernetes.io docs; EKS user guide). */
export const BUILT_IN: readonly string[] = [
  "PriorityClass -/system-node-critical",
  "PriorityClass -/system-cluster-critical",
];

const key = (kind: string, namespace: string | undefined, name: string) => `${kind} ${namespace ?? "-"}/${name}`;

/** Every object name that exists once the program, ESO and the charts have run. */
export function existing(m: ClusterModel): Set<string> {
  const out = new Set<string>([...BUILT_IN, ...m.chartCreated]);
  for (const { obj } of m.objects) {
    out.add(key(obj.kind, obj.metadata.namespace, obj.metadata.name));
    if (obj.kind === "ExternalSecret") out.add(key("Secret", obj.metadata.namespace, obj.spec?.target?.name ?? obj.metadata.name));
    if (obj.kind === "Namespace") out.add(key("ServiceAccount", obj.metadata.name, "default"));
  }
  for (const r of m.releases) out.add(key("ServiceAccount", r.namespace, "default"));
  return out;
}

/** The named objects a pod refers to, as "Kind ns/name". */
export function podReferences(p: PodTemplate): string[] {
  const ns = p.namespace;
  const out: string[] = [];
  const s = p.spec;
  if (s.serviceAccountName) out.push(key("ServiceAccount", ns, s.serviceAccountName));
  if (s.priorityClassName) out.push(key("PriorityClass", undefined, s.priorityClassName));
  for (const c of allContainers(s)) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef?.name && !e.valueFrom.secretKeyRef.optional) out.push(key("Secret", ns, e.valueFrom.secretKeyRef.name));
      if (e.valueFrom?.configMapKeyRef?.name && !e.valueFrom.configMapKeyRef.optional) out.push(key("ConfigMap", ns, e.valueFrom.configMapKeyRef.name));
    }
    for (const e of c.envFrom ?? []) {
      if (e.secretRef?.name && !e.secretRef.optional) out.push(key("Secret", ns, e.secretRef.name));
      if (e.configMapRef?.name && !e.configMapRef.optional) out.push(key("ConfigMap", ns, e.configMapRef.name));
    }
  }
  for (const v of s.volumes ?? []) {
    if (v.secret?.secretName && !v.secret.optional) out.push(key("Secret", ns, v.secret.secretName));
    if (v.configMap?.name && !v.configMap.optional) out.push(key("ConfigMap", ns, v.configMap.name));
    if (v.persistentVolumeClaim?.claimName) out.push(key("PersistentVolumeClaim", ns, v.persistentVolumeClaim.claimName));
    const sc = v.ephemeral?.volumeClaimTemplate?.spec?.storageClassName;
    if (sc) out.push(key("StorageClass", undefined, sc));
  }
  return out;
}

export function objectReferenceProblems(m: ClusterModel): string[] {
  const have = existing(m);
  const out: string[] = [];
  for (const p of m.pods) for (const ref of podReferences(p)) if (!have.has(ref)) out.push(`${p.origin}: uses ${ref}, which nothing creates`);
  for (const { obj } of m.objects)
    if (obj.kind === "PersistentVolumeClaim" && obj.spec?.storageClassName && !have.has(key("StorageClass", undefined, obj.spec.storageClassName)))
      out.push(`PersistentVolumeClaim ${obj.metadata.namespace}/${obj.metadata.name}: uses StorageClass ${obj.spec.storageClassName}, which nothing creates`);
  return out;
}

/** The pods' container ports, the injected sidecar's included (as admission renders the pod). */
function containerPorts(m: ClusterModel, pods: readonly PodTemplate[]): { name?: string; port: number }[] {
  return pods.flatMap((p) => allContainers(admittedSpec(m, p)).flatMap((c: any) => (c.ports ?? []).map((x: any) => ({ name: x.name, port: x.containerPort }))));
}

export function serviceProblems(m: ClusterModel): string[] {
  const out: string[] = [];
  for (const s of m.services) {
    if (Object.keys(s.selector).length === 0) continue; // headless-by-endpoints Services are not used here
    const pods = m.pods.filter((p) => p.namespace === s.namespace && matchLabels(s.selector, p.labels));
    if (pods.length === 0) {
      out.push(`${s.origin}: its selector ${JSON.stringify(s.selector)} selects no pod in ${s.namespace}`);
      continue;
    }
    const ports = containerPorts(m, pods);
    for (const sp of s.ports) {
      const target = sp.targetPort ?? sp.port;
      const ok = typeof target === "string" ? ports.some((p) => p.name === target) : ports.some((p) => p.port === target);
      if (!ok) out.push(`${s.origin}: port ${sp.name ?? sp.port} targets ${String(target)}, which no selected pod declares`);
    }
  }
  return out;
}

const URL = /(?:(https?|grpc):\/\/)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(?:\.cluster\.local)?(?::(\d+))?/g;

function strings(v: unknown, at: string, out: { at: string; s: string }[]): void {
  if (typeof v === "string") out.push({ at, s: v });
  else if (Array.isArray(v)) v.forEach((x, i) => strings(x, `${at}[${i}]`, out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) strings(x, at ? `${at}.${k}` : k, out);
}

/** In-cluster addresses: "name.ns.svc:port" (the port defaults from the scheme: http 80, https 443). */
export function addresses(text: string): { name: string; namespace: string; port: number | undefined; raw: string }[] {
  const out: { name: string; namespace: string; port: number | undefined; raw: string }[] = [];
  for (const m of text.matchAll(URL)) {
    const scheme = m[1];
    const port = m[6] ? Number(m[6]) : scheme === "http" ? 80 : scheme === "https" ? 443 : undefined;
    out.push({ name: m[2]!, namespace: m[4]!, port, raw: m[0] });
  }
  return out;
}

export function urlProblems(m: ClusterModel): string[] {
  const found: { where: string; s: string }[] = [];
  for (const { obj } of m.objects) {
    const ss: { at: string; s: string }[] = [];
    strings(obj.kind === "ConfigMap" ? obj.data : obj.spec, "", ss);
    for (const x of ss) found.push({ where: `${obj.kind} ${obj.metadata.namespace ?? "-"}/${obj.metadata.name} ${x.at}`, s: x.s });
  }
  for (const r of m.releases) {
    const ss: { at: string; s: string }[] = [];
    strings(r.values, "", ss);
    for (const x of ss) found.push({ where: `release ${r.namespace}/${r.name} values.${x.at}`, s: x.s });
  }
  const out: string[] = [];
  for (const f of found)
    for (const a of addresses(f.s)) {
      const svc = m.services.find((s) => s.name === a.name && s.namespace === a.namespace);
      if (!svc) out.push(`${f.where}: ${a.raw} names no Service ${a.namespace}/${a.name}`);
      else if (a.port === undefined) out.push(`${f.where}: ${a.raw} names no port`);
      else if (!svc.ports.some((p) => p.port === a.port)) out.push(`${f.where}: ${a.raw}: Service ${a.namespace}/${a.name} exposes ${svc.ports.map((p) => p.port).join(", ")}, not ${a.port}`);
    }
  return out;
}

export function scalingProblems(m: ClusterModel): string[] {
  const out: string[] = [];
  const workloads = new Set(m.objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.obj.kind)).map((o) => key(o.obj.kind, o.obj.metadata.namespace, o.obj.metadata.name)));
  const scaled = new Map<string, string[]>();
  const mark = (target: string, by: string) => scaled.set(target, [...(scaled.get(target) ?? []), by]);
  for (const { obj } of m.objects) {
    if (obj.kind === "ScaledObject") {
      const t = obj.spec.scaleTargetRef;
      const target = key(t.kind ?? "Deployment", obj.metadata.namespace, t.name);
      if (!workloads.has(target)) out.push(`ScaledObject ${obj.metadata.namespace}/${obj.metadata.name}: its target ${target} does not exist`);
      mark(target, `ScaledObject ${obj.metadata.name}`);
    }
    if (obj.kind === "HorizontalPodAutoscaler") mark(key(obj.spec.scaleTargetRef.kind, obj.metadata.namespace, obj.spec.scaleTargetRef.name), `HPA ${obj.metadata.name}`);
  }
  // Charts that render an HPA for their Deployment (litellm-helm templates/hpa.yaml when autoscaling.enabled).
  for (const r of m.releases) if (r.chart === "litellm-helm" && r.values.autoscaling?.enabled) mark(key("Deployment", r.namespace, r.name), `HPA ${r.name} (chart)`);
  for (const [target, by] of scaled) if (by.length > 1) out.push(`${target}: scaled by ${by.join(" and ")}; KEDA and an HPA would fight over replicas`);
  return out;
}

export function referenceProblems(m: ClusterModel): string[] {
  return [...serviceProblems(m), ...urlProblems(m), ...objectReferenceProblems(m), ...scalingProblems(m)];
}
