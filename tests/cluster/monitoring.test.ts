/**
 * Cluster-model check 2 (tests/cluster/monitoring.ts): every monitor and rule is selected,
 * resolves to a Service, a port and pods, and can be scraped; on every committed stack, and with a
 * seeded mutation per check that makes it report exactly.
 */
import { describe, expect, it } from "vitest";
import { kubePrometheusStackValues } from "../../components/observability";
import { stack, STACKS } from "../support/stacks";
import { buildModel, type ClusterModel } from "./model";
import { monitoringProblems, scrapeTargets, type ScrapeTarget } from "./monitoring";

/** A copy of the model whose objects, releases, pods and Services can be changed freely. */
type Mutable = Omit<ClusterModel, "objects" | "releases" | "pods" | "services"> & { objects: any[]; releases: any[]; pods: any[]; services: any[] };
function copy(m: ClusterModel): Mutable {
  return {
    ...m,
    objects: m.objects.map((o) => ({ ...o, obj: structuredClone(o.obj) })),
    releases: m.releases.map((r) => ({ ...r, values: structuredClone(r.values) })),
    pods: m.pods.map((p) => structuredClone(p)),
    services: m.services.map((s) => structuredClone(s)),
  };
}

const obj = (m: ClusterModel | Mutable, kind: string, ns: string, name: string): any => {
  const o = (m.objects as any[]).find((x) => x.obj.kind === kind && x.obj.metadata.namespace === ns && x.obj.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${ns}/${name}`);
  return o.obj;
};
const kps = (m: ClusterModel | Mutable): any => (m.releases as any[]).find((r) => r.chart === "kube-prometheus-stack")!.values;
const dest = (t: ScrapeTarget) => (t.to.kind === "pod" ? t.to.pod : t.to.kind === "host" ? `host ${t.to.component}` : "apiserver");

const models = new Map<string, ClusterModel>();
async function model(name: string): Promise<ClusterModel> {
  if (!models.has(name)) models.set(name, buildModel(await stack(name)));
  return models.get(name)!;
}

describe.each(STACKS)("monitoring of %s", (name) => {
  it("reports no problem", async () => {
    expect(monitoringProblems(await model(name))).toEqual([]);
  });

  it("lists the node, control-plane and chart scrapes Prometheus needs", async () => {
    const t = scrapeTargets(await model(name));
    const find = (monitor: string, path?: string) => t.filter((x) => x.monitor.endsWith(monitor) && (!path || x.path === path));
    expect(find("ServiceMonitor monitoring/kube-prometheus-stack-kubelet", "/metrics/cadvisor").map((x) => [x.to, x.port, x.scheme])).toEqual([[{ kind: "host", component: "kubelet" }, 10250, "https"]]);
    expect(find("ServiceMonitor monitoring/kube-prometheus-stack-prometheus-node-exporter").map((x) => [x.to.kind, x.port])).toEqual([["host", 9100]]);
    expect(find("ServiceMonitor monitoring/kube-prometheus-stack-coredns").map((x) => [x.to.kind === "pod" && x.to.namespace, x.to.kind === "pod" && x.to.labels["k8s-app"], x.port])).toEqual([["kube-system", "kube-dns", 9153]]);
    expect(find("ServiceMonitor monitoring/kube-prometheus-stack-apiserver").map((x) => [x.to, x.port, x.scheme])).toEqual([[{ kind: "apiserver" }, 443, "https"]]);
    expect(find("ServiceMonitor kube-system/karpenter").map((x) => [x.to.kind === "pod" && x.to.namespace, x.port])).toEqual([["kube-system", 8080]]);
    // No monitor for what EKS does not expose.
    expect(t.filter((x) => /kube-(controller-manager|scheduler|etcd|proxy)/.test(x.monitor))).toEqual([]);
  });

  it("scrapes TEI, safety and every Milvus component through Istio's merged port exactly when the mesh is on", async () => {
    const m = await model(name);
    const istio = m.run.config.networkSecurity.istio.enabled;
    const t = scrapeTargets(m);
    const want = istio ? { port: 15020, path: "/stats/prometheus", mtls: "none" } : undefined;
    const tei = t.filter((x) => x.monitor === "ServiceMonitor embeddings/tei-embed");
    expect(tei.map((x) => ({ port: x.port, path: x.path, mtls: x.mtls }))).toEqual([want ?? { port: 9000, path: "/metrics", mtls: "none" }]);
    const safety = t.filter((x) => x.monitor === "ServiceMonitor safety/safety");
    expect(safety.map((x) => ({ port: x.port, path: x.path, mtls: x.mtls }))).toEqual([want ?? { port: 8080, path: "/metrics", mtls: "none" }]);
    const milvus = t.filter((x) => x.monitor === "ServiceMonitor vectordb/milvus-metrics");
    const comps = m.run.config.vectorDb.mode === "cluster" ? ["datanode", "mixcoord", "proxy", "querynode", "streamingnode"] : ["standalone"];
    expect(milvus.map((x) => (x.to.kind === "pod" ? x.to.labels.component : "")).sort()).toEqual(comps);
    expect(new Set(milvus.map((x) => `${x.port} ${x.path}`))).toEqual(new Set([istio ? "15020 /stats/prometheus" : "9091 /metrics"]));
  });
});

describe("check 2: seeded mutations", () => {
  it("a monitor or rule Prometheus does not select", async () => {
    const m = copy(await model("staging"));
    kps(m).prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues = true;
    kps(m).prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues = true;
    const p = monitoringProblems(m);
    expect(p).toContain('ServiceMonitor embeddings/tei-embed is not selected by Prometheus monitoring/kube-prometheus-stack (serviceMonitorSelector {"release":"kube-prometheus-stack"}, serviceMonitorNamespaceSelector {} (all))');
    expect(p).toContain('PrometheusRule monitoring/llm-platform-alerts is not selected by Prometheus monitoring/kube-prometheus-stack (ruleSelector {"release":"kube-prometheus-stack"}, ruleNamespaceSelector {} (all))');
    // The chart's own monitors carry the release label and stay selected.
    expect(p.filter((x) => x.includes("chart kube-prometheus-stack"))).toEqual([]);
  });

  it("a namespace Prometheus does not look in", async () => {
    const m = copy(await model("dev"));
    kps(m).prometheus.prometheusSpec.serviceMonitorNamespaceSelector = { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } };
    expect(monitoringProblems(m)).toContain(
      'ServiceMonitor inference/vllm-gpt-oss-20b is not selected by Prometheus monitoring/kube-prometheus-stack (serviceMonitorSelector {} (all), serviceMonitorNamespaceSelector {"kubernetes.io/metadata.name":"monitoring"})',
    );
  });

  it("a monitor that matches no Service, a port name the Service lacks, a Service with no pod", async () => {
    const m = copy(await model("dev"));
    obj(m, "ServiceMonitor", "embeddings", "tei-embed").spec.selector.matchLabels = { "app.kubernetes.io/name": "tei-embedz" };
    obj(m, "ServiceMonitor", "safety", "safety").spec.endpoints[0].port = "prom";
    m.services.find((s: any) => s.namespace === "embeddings" && s.name === "tei-rerank").selector = { "app.kubernetes.io/name": "nobody" };
    const p = monitoringProblems(m);
    expect(p).toContain('ServiceMonitor embeddings/tei-embed: matches no Service (labels {"app.kubernetes.io/name":"tei-embedz"} in embeddings)');
    expect(p).toContain("ServiceMonitor safety/safety: Service safety/safety has no port named prom");
    expect(p).toContain("ServiceMonitor embeddings/tei-rerank: Service embeddings/tei-rerank selects no pod");
  });

  it("a Service port whose target the pods do not declare", async () => {
    const m = copy(await model("dev"));
    m.services.find((s: any) => s.namespace === "embeddings" && s.name === "tei-embed").ports.find((q: any) => q.name === "metrics").targetPort = "prom";
    expect(monitoringProblems(m)).toContain("ServiceMonitor embeddings/tei-embed: Service embeddings/tei-embed port metrics targets prom, which no pod it selects declares (Deployment embeddings/tei-embed)");
  });

  it("a plaintext scrape of a pod under STRICT mTLS (the defect: TEI, safety, Milvus before the fix)", async () => {
    const m = copy(await model("staging"));
    obj(m, "ServiceMonitor", "embeddings", "tei-embed").spec.endpoints[0] = { port: "metrics", path: "/metrics", interval: "15s" };
    const p = monitoringProblems(m);
    expect(p).toContain("ServiceMonitor embeddings/tei-embed: scrapes Deployment embeddings/tei-embed port 9000 (http), but that port is under Istio STRICT mTLS and Prometheus is outside the mesh: the sidecar refuses it");
    // The KEDA trigger still finds its Service scraped: the failure is the scrape, caught above.
    expect(p).toHaveLength(1);
  });

  it("the chart's Milvus ServiceMonitor, turned back on, scrapes plaintext :9091 under STRICT", async () => {
    const m = copy(await model("prod"));
    m.releases.find((r: any) => r.chart === "milvus").values.metrics.serviceMonitor.enabled = true;
    expect(monitoringProblems(m)).toContain("chart milvus: ServiceMonitor vectordb/milvus: scrapes chart milvus: querynode port 9091 (http), but that port is under Istio STRICT mTLS and Prometheus is outside the mesh: the sidecar refuses it");
  });

  it("LiteLLM's chart monitor relies on the gateway's port-level PERMISSIVE", async () => {
    const m = copy(await model("prod"));
    const pa = m.objects.find((o: any) => o.obj.kind === "PeerAuthentication" && o.obj.metadata.namespace === "gateway");
    delete pa.obj.spec.portLevelMtls;
    expect(monitoringProblems(m)).toContain("chart litellm-helm: ServiceMonitor gateway/litellm: scrapes chart litellm-helm: proxy Deployment port 4000 (http), but that port is under Istio STRICT mTLS and Prometheus is outside the mesh: the sidecar refuses it");
  });

  it("Istio's merged port on a pod without a sidecar, or without prometheus.io annotations", async () => {
    const m = copy(await model("prod"));
    m.objects.find((o: any) => o.obj.kind === "Namespace" && o.obj.metadata.name === "safety").obj.metadata.labels["istio-injection"] = "disabled";
    m.pods.find((p: any) => p.origin === "Deployment embeddings/tei-embed").annotations = {};
    const p = monitoringProblems(m);
    expect(p).toContain("ServiceMonitor safety/safety: scrapes Istio's merged port 15020 on Deployment safety/safety, which has no sidecar");
    expect(p).toContain("ServiceMonitor embeddings/tei-embed: Istio's merged endpoint on Deployment embeddings/tei-embed carries no app metrics: the pod's prometheus.io/port (unset) names no container port");
  });

  it("the chart's default monitors for what EKS does not expose", async () => {
    const m = copy(await model("prod"));
    Object.assign(kps(m), { kubeControllerManager: { enabled: true }, kubeScheduler: { enabled: true }, kubeEtcd: { enabled: true }, kubeProxy: { enabled: true } });
    expect(monitoringProblems(m)).toEqual([
      "chart kube-prometheus-stack: ServiceMonitor monitoring/kube-prometheus-stack-kube-controller-manager: EKS runs kube-controller-manager in the managed control plane: no endpoint to scrape, and KubeControllerManagerDown fires forever",
      "chart kube-prometheus-stack: ServiceMonitor monitoring/kube-prometheus-stack-kube-scheduler: EKS runs kube-scheduler in the managed control plane: no endpoint to scrape, and KubeSchedulerDown fires forever",
      "chart kube-prometheus-stack: ServiceMonitor monitoring/kube-prometheus-stack-kube-etcd: EKS runs etcd in the managed control plane: no endpoint to scrape",
      "chart kube-prometheus-stack: ServiceMonitor monitoring/kube-prometheus-stack-kube-proxy: the EKS kube-proxy add-on serves its metrics on 127.0.0.1:10249 only: the scrape is refused and KubeProxyDown fires forever",
    ]);
  });

  it("a KEDA query on a Service no scrape produces", async () => {
    const m = copy(await model("staging"));
    const so = obj(m, "ScaledObject", "embeddings", "tei-embed");
    so.spec.triggers[0].metadata.query = so.spec.triggers[0].metadata.query.replace('service="tei-embed"', 'service="tei"');
    expect(monitoringProblems(m)).toEqual(['ScaledObject embeddings/tei-embed: trigger queue-size queries {namespace="embeddings", service="tei"}, but no scrape target comes from Service embeddings/tei: the query reads nothing']);
  });

  it("a KEDA trigger that reads no Prometheus", async () => {
    const m = copy(await model("dev"));
    const so = obj(m, "ScaledObject", "inference", "vllm-gpt-oss-20b");
    so.spec.triggers[0].metadata.serverAddress = "http://prometheus.monitoring.svc:9090";
    expect(monitoringProblems(m)).toEqual([`ScaledObject inference/vllm-gpt-oss-20b: trigger ${so.spec.triggers[0].name} reads http://prometheus.monitoring.svc:9090, which is no port of a Service in front of Prometheus monitoring/kube-prometheus-stack`]);
  });

  it("a chart the monitor table does not know", async () => {
    const m = copy(await model("dev"));
    m.releases.push({ ...m.releases[0], name: "mystery", namespace: "monitoring", chart: "mystery-chart", values: {} });
    expect(monitoringProblems(m)).toEqual(["release monitoring/mystery: chart mystery-chart is in neither the chart-monitor table nor NO_MONITOR_CHARTS (tests/cluster/chart-monitors.ts)"]);
  });

  it("the staging TEI autoscaler reads the Service the merged scrape labels its series with", async () => {
    const m = await model("staging");
    const so = obj(m, "ScaledObject", "embeddings", "tei-embed");
    expect(so.spec.triggers[0].metadata.query).toBe('sum(te_queue_size{namespace="embeddings", service="tei-embed"})');
    expect(scrapeTargets(m).filter((t) => t.service === "embeddings/tei-embed").map((t) => `${dest(t)}:${t.port}${t.path}`)).toEqual(["Deployment embeddings/tei-embed:15020/stats/prometheus"]);
  });
});

describe("kube-prometheus-stack values on EKS", () => {
  it("turn off the monitors and rules of components EKS does not expose", async () => {
    const r = await stack("prod");
    const v = kubePrometheusStackValues({ obs: r.config.observability, clusterName: "c", environment: "prod" }) as any;
    expect([v.kubeControllerManager, v.kubeScheduler, v.kubeEtcd, v.kubeProxy]).toEqual([{ enabled: false }, { enabled: false }, { enabled: false }, { enabled: false }]);
    expect(v.defaultRules.create).toBe(true);
  });
});
