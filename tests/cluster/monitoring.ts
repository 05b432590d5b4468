/**
 * Cluster-model check 2: monitoring is reachable.
 *
 * Pure functions over the cluster model (tests/cluster/model.ts). Every ServiceMonitor, PodMonitor
 * and PrometheusRule, the program's and the ones the charts render from their values
 * (tests/cluster/chart-monitors.ts), must be:
 * - selected by the Prometheus kube-prometheus-stack creates from its values (its
 *   serviceMonitor/podMonitor/rule selectors and namespace selectors, as
 *   templates/prometheus/prometheus.yaml renders them: a selector set in values wins; otherwise
 *   `*SelectorNilUsesHelmValues` (default true, values.yaml) means `release: <release>`, false means
 *   every object; an empty namespace selector means every namespace);
 * - matched to a Service (or pods) that exists, by a port name that exists on it, with pods
 *   behind it that have the target port;
 * - scrapeable: Prometheus is outside the mesh, so a port under Istio STRICT mTLS
 *   (PeerAuthentication: workload over namespace over mesh-wide in istio-system, port-level
 *   modes included) on a pod with a sidecar (namespace labelled istio-injection=enabled) is
 *   refused; Istio's merged port 15020 (outside capture) is fine, but only carries the app's
 *   metrics if the pod names them in prometheus.io/port (components/workload-objects.ts);
 * - not one of the chart's default monitors for what EKS does not let anyone scrape
 *   (kube-controller-manager, kube-scheduler, etcd; kube-proxy on loopback).
 * Also: every KEDA prometheus trigger reads a Service in front of Prometheus, and one that filters
 * on {namespace, service} reads a Service that a scrape target produces; and every release's chart
 * is either in the chart-monitor table or known to render no monitor.
 *
 * `scrapeTargets(model)` is the list of every scrape Prometheus will do, for the NetworkPolicy
 * check (the lead's flows):
 *
 *   interface ScrapeTarget {
 *     monitor: string;      // "ServiceMonitor embeddings/tei-embed" or "chart keda: ServiceMonitor keda/keda-operator"
 *     service?: string;     // "namespace/name" of the Service, for ServiceMonitors
 *     to:                   // where the connection goes
 *       | { kind: "pod"; namespace: string; labels: Record<string, string>; pod: string }  // a pod IP; labels = the pod template's labels
 *       | { kind: "host"; component: string }                                           // a node IP: kubelet, or a hostNetwork pod (node-exporter)
 *       | { kind: "apiserver" };                                                         // the EKS control-plane ENIs behind default/kubernetes
 *     port: number;         // the destination port number (the container/host port, not the Service port)
 *     path: string;
 *     scheme: "http" | "https";
 *     mtls: "STRICT" | "PERMISSIVE" | "DISABLE" | "none";  // effective Istio mode at that pod port; "none": no sidecar, or a port outside capture (15020)
 *   }
 *
 * The source of every scrape is the Prometheus pod: `prometheusSource(model)`.
 */
import type { ChartService } from "./charts";
import { chartMonitors, chartPodAnnotations, NO_MONITOR_CHARTS, type HostEndpoints, type MonitorEndpoint, type MonitorView } from "./chart-monitors";
import { allContainers, matchLabels, objectsOfKind, type ClusterModel, type PodTemplate, type Release, type ServiceView } from "./model";

export const PROMETHEUS_CHART = "kube-prometheus-stack";
/** Ports the injected sidecar leaves outside inbound capture (istio-iptables -d 15090,15021,15020). */
export const ISTIO_UNCAPTURED_PORTS: readonly number[] = [15020, 15021, 15090];
export const ISTIO_MERGED_PORT = 15020;
/** meshConfig.rootNamespace default: a PeerAuthentication there without a selector is mesh-wide. */
export const ISTIO_ROOT_NS = "istio-system";

export type PodDestination = { readonly kind: "pod"; readonly namespace: string; readonly labels: Readonly<Record<string, string>>; readonly pod: string };
export type Destination = PodDestination | { readonly kind: "host"; readonly component: string } | { readonly kind: "apiserver" };
export type MtlsMode = "STRICT" | "PERMISSIVE" | "DISABLE" | "none";

export interface ScrapeTarget {
  readonly monitor: string;
  readonly service?: string;
  readonly to: Destination;
  readonly port: number;
  readonly path: string;
  readonly scheme: "http" | "https";
  readonly mtls: MtlsMode;
}

// ---------------------------------------------------------------------------------------------
// Prometheus and what it selects

interface Selector {
  /** undefined: every object. */
  readonly matchLabels?: Readonly<Record<string, string>>;
  /** undefined: every namespace. */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  readonly describe: string;
}

export interface PrometheusView {
  readonly release: Release;
  readonly namespace: string;
  readonly serviceMonitors: Selector;
  readonly podMonitors: Selector;
  readonly rules: Selector;
  /** Its pod: the source of every scrape. */
  readonly podLabels: Readonly<Record<string, string>>;
}

/** kube-prometheus-stack 88.5.3 templates/prometheus/prometheus.yaml, per kind. */
function selectorFrom(spec: Record<string, any>, kind: "serviceMonitor" | "podMonitor" | "rule", releaseName: string): Selector {
  const sel = spec[`${kind}Selector`];
  const nilUsesHelm = spec[`${kind}SelectorNilUsesHelmValues`] ?? true; // values.yaml default
  const nsSel = spec[`${kind}NamespaceSelector`];
  const labels: Record<string, string> | undefined =
    sel && Object.keys(sel).length ? (sel.matchLabels ?? {}) : nilUsesHelm ? { release: releaseName } : undefined;
  const nsLabels: Record<string, string> | undefined = nsSel && Object.keys(nsSel).length ? (nsSel.matchLabels ?? {}) : undefined;
  const describe = `${kind}Selector ${labels ? JSON.stringify(labels) : "{} (all)"}, ${kind}NamespaceSelector ${nsLabels ? JSON.stringify(nsLabels) : "{} (all)"}`;
  return { ...(labels ? { matchLabels: labels } : {}), ...(nsLabels ? { namespaceLabels: nsLabels } : {}), describe };
}

export function prometheusOf(m: ClusterModel): PrometheusView | undefined {
  const rel = m.releases.find((r) => r.chart === PROMETHEUS_CHART);
  if (!rel || rel.values.prometheus?.enabled === false) return undefined;
  const spec = rel.values.prometheus?.prometheusSpec ?? {};
  return {
    release: rel,
    namespace: rel.namespace,
    serviceMonitors: selectorFrom(spec, "serviceMonitor", rel.name),
    podMonitors: selectorFrom(spec, "podMonitor", rel.name),
    rules: selectorFrom(spec, "rule", rel.name),
    podLabels: { "app.kubernetes.io/name": "prometheus", prometheus: `${rel.name}-prometheus` },
  };
}

/** The source of every scrape: Prometheus's pods. */
export function prometheusSource(m: ClusterModel): { namespace: string; labels: Readonly<Record<string, string>> } | undefined {
  const p = prometheusOf(m);
  return p && { namespace: p.namespace, labels: p.podLabels };
}

/** Namespace labels: the recorded Namespace objects, plus the name label every namespace carries. */
export function namespaceLabels(m: ClusterModel, ns: string): Record<string, string> {
  const o = objectsOfKind(m, "Namespace").find((n) => n.obj.metadata.name === ns);
  return { ...(o?.obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": ns };
}

function selects(m: ClusterModel, s: Selector, labels: Readonly<Record<string, string>>, ns: string): boolean {
  return (!s.matchLabels || matchLabels(s.matchLabels, labels)) && (!s.namespaceLabels || matchLabels(s.namespaceLabels, namespaceLabels(m, ns)));
}

// ---------------------------------------------------------------------------------------------
// Monitors, Services and pods, program and chart

/** The program's ServiceMonitors and PodMonitors, as Prometheus reads them. */
export function programMonitors(m: ClusterModel): MonitorView[] {
  return m.objects
    .filter((o) => o.obj.kind === "ServiceMonitor" || o.obj.kind === "PodMonitor")
    .map(({ obj }) => {
      const ns = obj.metadata.namespace ?? "default";
      const nsSel = obj.spec?.namespaceSelector;
      const eps: MonitorEndpoint[] = (obj.kind === "ServiceMonitor" ? obj.spec?.endpoints : obj.spec?.podMetricsEndpoints) ?? [];
      return {
        origin: `${obj.kind} ${ns}/${obj.metadata.name}`,
        kind: obj.kind as MonitorView["kind"],
        name: obj.metadata.name,
        namespace: ns,
        labels: obj.metadata.labels ?? {},
        selector: obj.spec?.selector?.matchLabels ?? {},
        ...(nsSel?.any ? { namespaces: "any" as const } : nsSel?.matchNames?.length ? { namespaces: nsSel.matchNames } : {}),
        endpoints: eps.map((e) => ({ ...(e.port ? { port: e.port } : {}), ...(e.targetPort !== undefined ? { targetPort: e.targetPort } : {}), path: e.path ?? "/metrics", scheme: e.scheme ?? "http" })),
      };
    });
}

export interface MonitoringView {
  readonly monitors: readonly MonitorView[];
  readonly services: readonly (ServiceView & { readonly host?: HostEndpoints })[];
  readonly pods: readonly PodTemplate[];
  readonly unreachable: readonly { readonly monitor: string; readonly why: string }[];
  readonly unmodelled: readonly string[];
}

const svcKey = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

function toServiceView(s: ChartService, origin: string): ServiceView {
  return { origin, name: s.name, namespace: s.namespace, labels: s.labels ?? {}, selector: s.selector, ports: s.ports };
}

/** Everything check 2 reads: the model's monitors, Services and pods, with the charts' added. */
export function monitoringView(m: ClusterModel): MonitoringView {
  const monitors: MonitorView[] = programMonitors(m);
  const services = new Map<string, ServiceView & { host?: HostEndpoints }>(m.services.map((s) => [svcKey(s), s]));
  const pods: PodTemplate[] = m.pods.map((p) => {
    const rel = p.release ? m.releases.find((r) => r.name === p.release) : undefined;
    const extra = chartPodAnnotations(rel);
    return Object.keys(extra).length ? { ...p, annotations: { ...extra, ...p.annotations } } : p;
  });
  const unreachable: { monitor: string; why: string }[] = [];
  const unmodelled: string[] = [];

  const addPod = (p: { origin: string; namespace: string; labels: Readonly<Record<string, string>>; spec: Record<string, any> }, origin: string, release?: string) => {
    // Merge into a pod the model already has (same namespace, its labels include these): the
    // chart-monitor table only adds containers the model's render leaves out.
    const i = pods.findIndex((q) => q.namespace === p.namespace && matchLabels(p.labels, q.labels));
    if (i >= 0) {
      const q = pods[i]!;
      pods[i] = { ...q, spec: { ...q.spec, containers: [...(q.spec.containers ?? []), ...(p.spec.containers ?? [])] } };
    } else pods.push({ origin, namespace: p.namespace, labels: p.labels, annotations: {}, spec: p.spec, ...(release ? { release } : {}) });
  };
  // EKS add-on pods (CoreDNS) are in the model already (tests/cluster/charts.ts EKS_ADDON_PODS).

  for (const rel of m.releases) {
    const cm = chartMonitors(rel);
    if (!cm) {
      if (!NO_MONITOR_CHARTS.includes(rel.chart)) unmodelled.push(`release ${rel.namespace}/${rel.name}: chart ${rel.chart} is in neither the chart-monitor table nor NO_MONITOR_CHARTS (tests/cluster/chart-monitors.ts)`);
      else if (rel.values.serviceMonitor?.enabled || rel.values.podMonitor?.enabled)
        unmodelled.push(`release ${rel.namespace}/${rel.name}: values turn on a monitor of chart ${rel.chart}, which tests/cluster/chart-monitors.ts does not model`);
      continue;
    }
    monitors.push(...cm.monitors);
    unreachable.push(...cm.unreachable);
    for (const s of [...cm.services, ...cm.hostServices]) {
      const k = svcKey(s);
      const have = services.get(k);
      const view = toServiceView(s, have?.origin ?? `chart ${rel.chart}: Service ${k}`);
      const host = "target" in s ? { host: s as unknown as HostEndpoints } : {};
      const ports = have ? [...have.ports, ...view.ports.filter((q) => !have.ports.some((h) => h.name === q.name))] : view.ports;
      services.set(k, have ? { ...have, labels: { ...view.labels, ...have.labels }, ports, ...host } : { ...view, ...host });
    }
    for (const p of cm.pods) addPod(p, `chart ${rel.chart}: ${p.origin}`, rel.name);
  }
  return { monitors, services: [...services.values()], pods, unreachable, unmodelled };
}

// ---------------------------------------------------------------------------------------------
// Istio: which pods carry a sidecar, and the mTLS mode at a port

export function sidecarInjected(m: ClusterModel, p: PodTemplate): boolean {
  if (p.spec.hostNetwork) return false;
  const nsl = namespaceLabels(m, p.namespace);
  const inject = nsl["istio-injection"] === "enabled" || (nsl["istio.io/rev"] !== undefined && nsl["istio-injection"] !== "disabled");
  const opt = p.labels["sidecar.istio.io/inject"] ?? p.annotations["sidecar.istio.io/inject"];
  return inject && opt !== "false";
}

function modeOf(pa: Record<string, any> | undefined, port: number): MtlsMode | undefined {
  if (!pa) return undefined;
  const portMode = pa.spec?.portLevelMtls?.[String(port)]?.mode;
  if (portMode && portMode !== "UNSET") return portMode;
  const mode = pa.spec?.mtls?.mode;
  return mode && mode !== "UNSET" ? mode : undefined;
}

/** The effective PeerAuthentication mode at a pod port (Istio: workload > namespace > mesh; default PERMISSIVE). */
export function mtlsMode(m: ClusterModel, p: PodTemplate, port: number): MtlsMode {
  if (!sidecarInjected(m, p) || ISTIO_UNCAPTURED_PORTS.includes(port)) return "none";
  const pas = objectsOfKind(m, "PeerAuthentication").map((o) => o.obj);
  const workload = pas.find((pa) => pa.metadata.namespace === p.namespace && pa.spec?.selector?.matchLabels && matchLabels(pa.spec.selector.matchLabels, p.labels));
  const namespace = pas.find((pa) => pa.metadata.namespace === p.namespace && !pa.spec?.selector);
  const mesh = pas.find((pa) => pa.metadata.namespace === ISTIO_ROOT_NS && !pa.spec?.selector);
  // A workload policy's port-level mode applies to its own pods only; its mtls.mode, if unset, inherits.
  return modeOf(workload, port) ?? modeOf(namespace, port) ?? modeOf(mesh, port) ?? "PERMISSIVE";
}

// ---------------------------------------------------------------------------------------------
// Resolving monitors to targets

interface Resolution {
  readonly targets: ScrapeTarget[];
  readonly problems: string[];
}

function containerPort(p: PodTemplate, ref: number | string): number | undefined {
  const ports = allContainers(p.spec).flatMap((c: any) => c.ports ?? []);
  if (typeof ref === "number") return ref;
  if (/^\d+$/.test(ref)) return Number(ref);
  return ports.find((q: any) => q.name === ref)?.containerPort;
}

function monitorNamespaces(mon: MonitorView, all: readonly string[]): readonly string[] {
  return mon.namespaces === "any" ? all : (mon.namespaces ?? [mon.namespace]);
}

function podTarget(m: ClusterModel, mon: MonitorView, ep: MonitorEndpoint, p: PodTemplate, port: number, service?: string): ScrapeTarget {
  const to: Destination = p.spec.hostNetwork ? { kind: "host", component: p.origin } : { kind: "pod", namespace: p.namespace, labels: p.labels, pod: p.origin };
  return { monitor: mon.origin, ...(service ? { service } : {}), to, port, path: ep.path ?? "/metrics", scheme: ep.scheme ?? "http", mtls: mtlsMode(m, p, port) };
}

function resolve(m: ClusterModel, v: MonitoringView): Resolution {
  const targets: ScrapeTarget[] = [];
  const problems: string[] = [];
  const allNs = [...new Set([...v.services.map((s) => s.namespace), ...v.pods.map((p) => p.namespace)])];
  for (const mon of v.monitors) {
    const nss = monitorNamespaces(mon, allNs);
    if (mon.kind === "PodMonitor") {
      const pods = v.pods.filter((p) => nss.includes(p.namespace) && matchLabels(mon.selector, p.labels));
      if (!pods.length) problems.push(`${mon.origin}: selects no pod (${JSON.stringify(mon.selector)} in ${nss.join(", ")})`);
      for (const ep of mon.endpoints)
        for (const p of pods) {
          const port = containerPort(p, ep.port ?? ep.targetPort ?? "");
          if (port === undefined) problems.push(`${mon.origin}: ${p.origin} has no container port named ${ep.port ?? ep.targetPort}`);
          else targets.push(podTarget(m, mon, ep, p, port));
        }
      continue;
    }
    const svcs = v.services.filter((s) => nss.includes(s.namespace) && Object.keys(mon.selector).length > 0 && matchLabels(mon.selector, s.labels));
    if (!svcs.length) {
      problems.push(`${mon.origin}: matches no Service (labels ${JSON.stringify(mon.selector)} in ${nss.join(", ")})`);
      continue;
    }
    for (const ep of mon.endpoints)
      for (const s of svcs) {
        const sp = s.ports.find((q) => (ep.port !== undefined ? q.name === ep.port : String(q.targetPort ?? q.port) === String(ep.targetPort)));
        if (!sp) {
          problems.push(`${mon.origin}: Service ${svcKey(s)} has no port named ${ep.port ?? ep.targetPort}`);
          continue;
        }
        const target = sp.targetPort ?? sp.port;
        if (s.host) {
          if (typeof target !== "number") problems.push(`${mon.origin}: Service ${svcKey(s)} port ${sp.name} has a named target on host endpoints`);
          else targets.push({ monitor: mon.origin, service: svcKey(s), to: s.host.target === "apiserver" ? { kind: "apiserver" } : { kind: "host", component: s.host.component }, port: target, path: ep.path ?? "/metrics", scheme: ep.scheme ?? "http", mtls: "none" });
          continue;
        }
        const pods = v.pods.filter((p) => p.namespace === s.namespace && Object.keys(s.selector).length > 0 && matchLabels(s.selector, p.labels));
        if (!pods.length) problems.push(`${mon.origin}: Service ${svcKey(s)} selects no pod`);
        // A named targetPort is resolved per pod; pods without it are no endpoint for that port
        // (a chart's Job sharing the Deployment's labels), so only "no pod declares it" is wrong.
        const resolved = pods.map((p) => [p, containerPort(p, target)] as const).filter(([, port]) => port !== undefined);
        if (pods.length && !resolved.length) problems.push(`${mon.origin}: Service ${svcKey(s)} port ${sp.name} targets ${target}, which no pod it selects declares (${pods.map((p) => p.origin).join(", ")})`);
        for (const [p, port] of resolved) targets.push(podTarget(m, mon, ep, p, port!, svcKey(s)));
      }
  }
  return { targets, problems };
}

/** Every scrape Prometheus will do (see the header for the shape). */
export function scrapeTargets(m: ClusterModel): ScrapeTarget[] {
  return resolve(m, monitoringView(m)).targets;
}

// ---------------------------------------------------------------------------------------------
// The check

function podsOfService(v: MonitoringView, s: ServiceView): PodTemplate[] {
  return Object.keys(s.selector).length ? v.pods.filter((p) => p.namespace === s.namespace && matchLabels(s.selector, p.labels)) : [];
}

function podOf(v: MonitoringView, t: ScrapeTarget): PodTemplate | undefined {
  return t.to.kind === "pod" ? v.pods.find((p) => p.origin === (t.to as PodDestination).pod) : undefined;
}

/** Problems with the scrapes themselves: mTLS, and Istio's merged port. */
function scrapeProblems(m: ClusterModel, v: MonitoringView, targets: readonly ScrapeTarget[], prom: PrometheusView): string[] {
  const out: string[] = [];
  const promPod: PodTemplate = { origin: "Prometheus", namespace: prom.namespace, labels: prom.podLabels, annotations: {}, spec: {} };
  const promMeshed = sidecarInjected(m, promPod);
  for (const t of targets) {
    if (t.to.kind !== "pod") continue;
    const where = `${t.to.pod} port ${t.port}`;
    if (t.mtls === "STRICT" && !promMeshed)
      out.push(`${t.monitor}: scrapes ${where} (${t.scheme}), but that port is under Istio STRICT mTLS and Prometheus is outside the mesh: the sidecar refuses it`);
    if (t.port === ISTIO_MERGED_PORT) {
      const p = podOf(v, t)!;
      if (!sidecarInjected(m, p)) out.push(`${t.monitor}: scrapes Istio's merged port ${ISTIO_MERGED_PORT} on ${t.to.pod}, which has no sidecar`);
      else {
        const a = p.annotations;
        const appPort = a["prometheus.io/port"];
        const declared = allContainers(p.spec).some((c: any) => (c.ports ?? []).some((q: any) => String(q.containerPort) === appPort));
        if (a["prometheus.io/scrape"] === "false" || !appPort || !declared)
          out.push(`${t.monitor}: Istio's merged endpoint on ${t.to.pod} carries no app metrics: the pod's prometheus.io/port (${appPort ?? "unset"}) names no container port`);
      }
    }
  }
  return out;
}

/**
 * KEDA prometheus triggers: the serverAddress names the Prometheus Service kube-prometheus-stack
 * renders (http://<service>.<namespace>.svc[.cluster.local]:<port>, a port it exposes), and a query
 * that filters on {namespace, service} reads a Service some scrape produces.
 */
function kedaProblems(m: ClusterModel, v: MonitoringView, targets: readonly ScrapeTarget[], prom: PrometheusView): string[] {
  const out: string[] = [];
  const scraped = new Set(targets.filter((t) => t.service).map((t) => t.service!));
  const promSvcs = v.services.filter((s) => s.namespace === prom.namespace && podsOfService(v, s).some((p) => matchLabels(prom.podLabels, p.labels)));
  for (const o of objectsOfKind(m, "ScaledObject")) {
    for (const trig of o.obj.spec?.triggers ?? []) {
      if (trig.type !== "prometheus") continue;
      const addr = String(trig.metadata?.serverAddress ?? "");
      const a = /^https?:\/\/([^./:]+)\.([^./:]+)\.svc(?:\.cluster\.local)?(?::(\d+))?\/?$/.exec(addr);
      const ok = a && promSvcs.some((s) => s.name === a[1] && s.namespace === a[2] && s.ports.some((q) => q.port === Number(a[3] ?? 80)));
      if (!ok) out.push(`ScaledObject ${o.obj.metadata.namespace}/${o.obj.metadata.name}: trigger ${trig.name ?? ""} reads ${addr}, which is no port of a Service in front of Prometheus ${prom.namespace}/${prom.release.name}`);
      const q = String(trig.metadata?.query ?? "");
      const svc = /\bservice="([^"]+)"/.exec(q)?.[1];
      if (!svc) continue;
      const ns = /\bnamespace="([^"]+)"/.exec(q)?.[1] ?? o.obj.metadata.namespace;
      if (!scraped.has(`${ns}/${svc}`))
        out.push(`ScaledObject ${o.obj.metadata.namespace}/${o.obj.metadata.name}: trigger ${trig.name ?? ""} queries {namespace="${ns}", service="${svc}"}, but no scrape target comes from Service ${ns}/${svc}: the query reads nothing`);
    }
  }
  return out;
}

export function monitoringProblems(m: ClusterModel): string[] {
  const prom = prometheusOf(m);
  const v = monitoringView(m);
  if (!prom) return [`no Prometheus: no ${PROMETHEUS_CHART} release with prometheus enabled, so no monitor or rule is read`];
  const out: string[] = [...v.unmodelled];

  for (const mon of v.monitors) {
    const s = mon.kind === "ServiceMonitor" ? prom.serviceMonitors : prom.podMonitors;
    if (!selects(m, s, mon.labels, mon.namespace)) out.push(`${mon.origin} is not selected by Prometheus ${prom.namespace}/${prom.release.name} (${s.describe})`);
  }
  for (const r of objectsOfKind(m, "PrometheusRule")) {
    const ns = r.obj.metadata.namespace ?? "default";
    if (!selects(m, prom.rules, r.obj.metadata.labels ?? {}, ns)) out.push(`PrometheusRule ${ns}/${r.obj.metadata.name} is not selected by Prometheus ${prom.namespace}/${prom.release.name} (${prom.rules.describe})`);
  }
  for (const u of v.unreachable) out.push(`${u.monitor}: ${u.why}`);

  const { targets, problems } = resolve(m, v);
  out.push(...problems, ...scrapeProblems(m, v, targets, prom), ...kedaProblems(m, v, targets, prom));
  return out;
}
