/**
 * The monitors the pinned charts create from their release values, with the Services and pods
 * those monitors select where tests/cluster/charts.ts does not model them, and what EKS itself
 * runs (the API server, the kubelet, CoreDNS). One table; every row names the chart template it
 * comes from, read at the pinned version.
 *
 * Shapes:
 * - `MonitorView`: a ServiceMonitor or PodMonitor as Prometheus reads it (namespace, labels,
 *   selector, namespaces it looks in, endpoints).
 * - Services here carry their labels (ServiceMonitors select Services by label); a Service with
 *   the same namespace/name in the model gets these labels merged in.
 * - `HostEndpoints`: a Service whose endpoints are not pods: the node (kubelet, through the
 *   operator's kubelet Service) or the API server (default/kubernetes).
 */
import type { ChartPod, ChartService } from "./charts";
import type { Release } from "./model";

export interface MonitorEndpoint {
  /** ServiceMonitor: the Service port name; PodMonitor: the container port name. */
  readonly port?: string;
  readonly targetPort?: number | string;
  readonly path?: string;
  readonly scheme?: "http" | "https";
}

export interface MonitorView {
  readonly origin: string;
  readonly kind: "ServiceMonitor" | "PodMonitor";
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** matchLabels of the Services (or pods) the monitor selects. */
  readonly selector: Readonly<Record<string, string>>;
  /** Where it looks: matchNames, "any", or undefined for its own namespace. */
  readonly namespaces?: readonly string[] | "any";
  readonly endpoints: readonly MonitorEndpoint[];
  /** The release that renders it, for chart monitors. */
  readonly release?: string;
}

/** A Service whose endpoints are the nodes or the control plane, not pods. */
export interface HostEndpoints {
  readonly namespace: string;
  readonly name: string;
  readonly target: "host" | "apiserver";
  /** What listens there, for messages and for the lead's flows. */
  readonly component: string;
}

export interface ChartMonitors {
  readonly monitors: readonly MonitorView[];
  readonly services: readonly ChartService[];
  readonly pods: readonly ChartPod[];
  readonly hostServices: readonly (ChartService & HostEndpoints)[];
  /**
   * Monitors the chart renders whose targets do not exist on EKS (the control plane is managed;
   * kube-proxy binds its metrics to loopback): each becomes a problem.
   */
  readonly unreachable: readonly { readonly monitor: string; readonly why: string }[];
}

const EMPTY: ChartMonitors = { monitors: [], services: [], pods: [], hostServices: [], unreachable: [] };

const sm = (r: Release, name: string, namespace: string, labels: Record<string, string>, selector: Record<string, string>, endpoints: MonitorEndpoint[], namespaces?: readonly string[] | "any"): MonitorView => ({
  origin: `chart ${r.chart}: ServiceMonitor ${namespace}/${name}`,
  kind: "ServiceMonitor",
  name,
  namespace,
  labels,
  selector,
  ...(namespaces ? { namespaces } : {}),
  endpoints,
  release: r.name,
});

const on = (v: unknown, dflt: boolean): boolean => (v === undefined || v === null ? dflt : v === true);
const port = (name: string, containerPort: number) => ({ name, containerPort, protocol: "TCP" });

/**
 * kube-prometheus-stack 88.5.3 (prometheus-community/helm-charts @ ea930ba, charts/kube-prometheus-stack):
 * - templates/prometheus/servicemonitor.yaml, alertmanager/servicemonitor.yaml (selfMonitor: true;
 *   selector app=<name>-prometheus|alertmanager, release, self-monitor=true; port http-web);
 * - templates/prometheus-operator/servicemonitor.yaml (tls.enabled true: port https, scheme https);
 * - templates/exporters/kube-api-server/servicemonitor.yaml (default/kubernetes, port https);
 * - templates/exporters/kubelet/servicemonitor.yaml (kube-system, app.kubernetes.io/name=kubelet,
 *   k8s-app=kubelet; port https-metrics, scheme https: /metrics, /metrics/cadvisor,
 *   /metrics/probes); the Service is the operator's (prometheusOperator.kubeletService: the
 *   operator keeps kube-system/<fullname>-kubelet's Endpoints at the nodes' InternalIPs, ports
 *   https-metrics 10250, http-metrics 10255, cadvisor 4194);
 * - templates/exporters/core-dns/{service,servicemonitor}.yaml (kube-system, selector
 *   k8s-app=kube-dns, port http-metrics 9153);
 * - templates/exporters/{kube-controller-manager,kube-scheduler,kube-etcd,kube-proxy}/* (each
 *   gated on `<x>.enabled`, default true);
 * - subcharts grafana (serviceMonitor.enabled: port http-web -> 3000, /metrics),
 *   kube-state-metrics (prometheus.monitor.enabled: port http 8080), prometheus-node-exporter
 *   (prometheus.monitor.enabled: port http-metrics 9100, hostNetwork).
 * Every monitor carries the chart's `release: <release>` label (kube-prometheus-stack.labels).
 */
function kubePrometheusStack(r: Release): ChartMonitors {
  const v = r.values;
  const ns = r.namespace;
  const name = "kube-prometheus-stack"; // kube-prometheus-stack.name (no nameOverride)
  const full = r.name; // kube-prometheus-stack.fullname: the release name contains the chart name
  const rel = { release: r.name, "app.kubernetes.io/instance": r.name, "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/part-of": name };
  const k8sMonitors = on(v.kubernetesServiceMonitors?.enabled, true);
  const monitors: MonitorView[] = [];
  const services: ChartService[] = [];
  const pods: ChartPod[] = [];
  const hostServices: (ChartService & HostEndpoints)[] = [];
  const unreachable: { monitor: string; why: string }[] = [];

  if (on(v.prometheus?.enabled, true) && on(v.prometheus?.serviceMonitor?.selfMonitor, true)) {
    monitors.push(sm(r, `${full}-prometheus`, ns, { app: `${name}-prometheus`, ...rel }, { app: `${name}-prometheus`, release: r.name, "self-monitor": "true" }, [{ port: "http-web", path: "/metrics" }, { port: "reloader-web", path: "/metrics" }], [ns]));
    services.push({
      name: `${full}-prometheus`,
      namespace: ns,
      labels: { app: `${name}-prometheus`, "self-monitor": "true", ...rel },
      selector: { "app.kubernetes.io/name": "prometheus", prometheus: `${full}-prometheus` },
      ports: [{ name: "http-web", port: 9090, targetPort: 9090 }, { name: "reloader-web", port: 8080, targetPort: "reloader-web" }],
    });
  }
  if (on(v.alertmanager?.enabled, true) && on(v.alertmanager?.serviceMonitor?.selfMonitor, true)) {
    monitors.push(sm(r, `${full}-alertmanager`, ns, { app: `${name}-alertmanager`, ...rel }, { app: `${name}-alertmanager`, release: r.name, "self-monitor": "true" }, [{ port: "http-web", path: "/metrics" }, { port: "reloader-web", path: "/metrics" }], [ns]));
    services.push({
      name: `${full}-alertmanager`,
      namespace: ns,
      labels: { app: `${name}-alertmanager`, "self-monitor": "true", ...rel },
      selector: { "app.kubernetes.io/name": "alertmanager", alertmanager: `${full}-alertmanager` },
      ports: [{ name: "http-web", port: 9093, targetPort: 9093 }, { name: "reloader-web", port: 8080, targetPort: "reloader-web" }],
    });
  }
  // The config-reloader sidecars of the operator-managed StatefulSets (port reloader-web 8080).
  pods.push(
    { origin: "Prometheus config-reloader", namespace: ns, labels: { "app.kubernetes.io/name": "prometheus", prometheus: `${full}-prometheus` }, spec: { containers: [{ name: "config-reloader", ports: [port("reloader-web", 8080)] }] } },
    { origin: "Alertmanager config-reloader", namespace: ns, labels: { "app.kubernetes.io/name": "alertmanager", alertmanager: `${full}-alertmanager` }, spec: { containers: [{ name: "config-reloader", ports: [port("reloader-web", 8080)] }] } },
  );
  if (on(v.prometheusOperator?.enabled, true) && on(v.prometheusOperator?.serviceMonitor?.selfMonitor, true)) {
    const tls = on(v.prometheusOperator?.tls?.enabled, true);
    monitors.push(sm(r, `${full}-operator`, ns, { app: `${name}-operator`, ...rel }, { app: `${name}-operator`, release: r.name }, [tls ? { port: "https", scheme: "https", path: "/metrics" } : { port: "http", path: "/metrics" }], [ns]));
    services.push({ name: `${full}-operator`, namespace: ns, labels: { app: `${name}-operator`, ...rel }, selector: { app: `${name}-operator`, release: r.name }, ports: [tls ? { name: "https", port: 443, targetPort: "https" } : { name: "http", port: 8080, targetPort: "http" }] });
    pods.push({ origin: "prometheus-operator (release label)", namespace: ns, labels: { app: `${name}-operator`, release: r.name }, spec: { containers: [{ name: "kube-prometheus-stack", ports: [port("https", 10250)] }] } });
  }
  if (on(v.grafana?.enabled, true) && on(v.grafana?.serviceMonitor?.enabled, true)) {
    monitors.push(sm(r, `${full}-grafana`, ns, { "app.kubernetes.io/name": "grafana", ...rel }, { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": r.name }, [{ port: "http-web", path: "/metrics", scheme: "http" }], [ns]));
    services.push({ name: `${full}-grafana`, namespace: ns, labels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": r.name }, selector: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": r.name }, ports: [{ name: "http-web", port: 80, targetPort: 3000 }] });
  }
  if (on(v.kubeStateMetrics?.enabled, true) && on(v["kube-state-metrics"]?.prometheus?.monitor?.enabled, true)) {
    const sel = { "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": r.name };
    monitors.push(sm(r, `${full}-kube-state-metrics`, ns, { ...sel, release: r.name }, sel, [{ port: "http", path: "/metrics" }]));
    services.push({ name: `${full}-kube-state-metrics`, namespace: ns, labels: { ...sel, release: r.name }, selector: sel, ports: [{ name: "http", port: 8080, targetPort: "http" }] });
  }
  if (on(v.nodeExporter?.enabled, true) && on(v["prometheus-node-exporter"]?.prometheus?.monitor?.enabled, true)) {
    const sel = { "app.kubernetes.io/name": "prometheus-node-exporter", "app.kubernetes.io/instance": r.name };
    monitors.push(sm(r, `${full}-prometheus-node-exporter`, ns, { ...sel, release: r.name }, sel, [{ port: "http-metrics", path: "/metrics" }]));
    services.push({ name: `${full}-prometheus-node-exporter`, namespace: ns, labels: { ...sel, release: r.name, jobLabel: "node-exporter" }, selector: sel, ports: [{ name: "http-metrics", port: 9100, targetPort: 9100 }] });
  }
  if (k8sMonitors && on(v.kubeApiServer?.enabled, true) && on(v.kubeApiServer?.serviceMonitor?.enabled, true)) {
    monitors.push(sm(r, `${full}-apiserver`, ns, { app: `${name}-apiserver`, ...rel }, { component: "apiserver", provider: "kubernetes" }, [{ port: "https", scheme: "https", path: "/metrics" }], ["default"]));
    hostServices.push({ name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" }, selector: {}, ports: [{ name: "https", port: 443, targetPort: 443 }], target: "apiserver", component: "kube-apiserver (EKS control-plane ENIs)" });
  }
  if (k8sMonitors && on(v.kubelet?.enabled, true) && on(v.kubelet?.serviceMonitor?.enabled, true) && on(v.prometheusOperator?.kubeletService?.enabled, true)) {
    const kns = v.kubelet?.namespace ?? "kube-system";
    const https = on(v.kubelet?.serviceMonitor?.https, true);
    const p = https ? "https-metrics" : "http-metrics";
    const eps: MonitorEndpoint[] = [];
    if (on(v.kubelet?.serviceMonitor?.kubelet, true)) eps.push({ port: p, scheme: https ? "https" : "http", path: "/metrics" });
    if (on(v.kubelet?.serviceMonitor?.cAdvisor, true)) eps.push({ port: p, scheme: https ? "https" : "http", path: "/metrics/cadvisor" });
    if (on(v.kubelet?.serviceMonitor?.probes, true)) eps.push({ port: p, scheme: https ? "https" : "http", path: "/metrics/probes" });
    if (on(v.kubelet?.serviceMonitor?.resource, false)) eps.push({ port: p, scheme: https ? "https" : "http", path: "/metrics/resource" });
    monitors.push(sm(r, `${full}-kubelet`, ns, { app: `${name}-kubelet`, ...rel }, { "app.kubernetes.io/name": "kubelet", "k8s-app": "kubelet" }, eps, [kns]));
    hostServices.push({
      name: v.prometheusOperator?.kubeletService?.name || `${full}-kubelet`,
      namespace: v.prometheusOperator?.kubeletService?.namespace ?? kns,
      labels: { "app.kubernetes.io/name": "kubelet", "k8s-app": "kubelet" },
      selector: {},
      ports: [{ name: "https-metrics", port: 10250, targetPort: 10250 }, { name: "http-metrics", port: 10255, targetPort: 10255 }, { name: "cadvisor", port: 4194, targetPort: 4194 }],
      target: "host",
      component: "kubelet",
    });
  }
  if (k8sMonitors && on(v.coreDns?.enabled, true) && on(v.coreDns?.serviceMonitor?.enabled, true)) {
    const p = v.coreDns?.serviceMonitor?.port ?? "http-metrics";
    monitors.push(sm(r, `${full}-coredns`, ns, { app: `${name}-coredns`, ...rel }, { app: `${name}-coredns`, release: r.name }, [{ port: p, path: "/metrics" }], ["kube-system"]));
    services.push({ name: `${full}-coredns`, namespace: "kube-system", labels: { app: `${name}-coredns`, jobLabel: "coredns", ...rel }, selector: v.coreDns?.service?.selector ?? { "k8s-app": "kube-dns" }, ports: [{ name: p, port: v.coreDns?.service?.port ?? 9153, targetPort: v.coreDns?.service?.targetPort ?? 9153 }] });
  }
  // Control-plane and node components EKS does not let Prometheus reach (upstream-facts §12).
  const notOnEks: [string, string, string][] = [
    ["kubeControllerManager", "kube-controller-manager", "EKS runs kube-controller-manager in the managed control plane: no endpoint to scrape, and KubeControllerManagerDown fires forever"],
    ["kubeScheduler", "kube-scheduler", "EKS runs kube-scheduler in the managed control plane: no endpoint to scrape, and KubeSchedulerDown fires forever"],
    ["kubeEtcd", "kube-etcd", "EKS runs etcd in the managed control plane: no endpoint to scrape"],
    ["kubeProxy", "kube-proxy", "the EKS kube-proxy add-on serves its metrics on 127.0.0.1:10249 only: the scrape is refused and KubeProxyDown fires forever"],
  ];
  for (const [key, component, why] of notOnEks) {
    if (k8sMonitors && on(v[key]?.enabled, true) && on(v[key]?.serviceMonitor?.enabled, true)) {
      // Rendered (its Service in kube-system selects no pod on EKS), reported as unreachable
      // rather than resolved.
      unreachable.push({ monitor: `chart ${r.chart}: ServiceMonitor ${ns}/${full}-${component}`, why });
    }
  }
  return { monitors, services, pods, hostServices, unreachable };
}


/**
 * external-secrets 2.9.0 (external-secrets/external-secrets @ cc5bfbc, deploy/charts/external-secrets):
 * templates/servicemonitor.yaml renders three ServiceMonitors when serviceMonitor.enabled (and
 * the CRD is served: renderMode skipIfMissing): the controller's (selector
 * external-secrets.selectorLabels), the webhook's (external-secrets-webhook-metrics.labels: +
 * app.kubernetes.io/metrics=webhook) and the cert-controller's (+ app.kubernetes.io/metrics=
 * cert-controller); each scrapes port `metrics` over http. templates/service.yaml,
 * webhook-service.yaml, cert-controller-service.yaml render the Services (port metrics 8080 ->
 * container port metrics), labelled as the selectors expect when the ServiceMonitor is on
 * (_helpers.tpl external-secrets-webhook.labels / -cert-controller.labels).
 */
function externalSecrets(r: Release): ChartMonitors {
  const v = r.values;
  if (!v.serviceMonitor?.enabled) return EMPTY;
  const ns = r.namespace;
  const chart = { "helm.sh/chart": "external-secrets", "app.kubernetes.io/managed-by": "Helm" };
  const ctl = { "app.kubernetes.io/name": "external-secrets", "app.kubernetes.io/instance": r.name };
  const wh = { "app.kubernetes.io/name": "external-secrets-webhook", "app.kubernetes.io/instance": r.name };
  const cc = { "app.kubernetes.io/name": "external-secrets-cert-controller", "app.kubernetes.io/instance": r.name };
  const monitors = [sm(r, `${r.name}-metrics`, ns, { ...chart, ...ctl }, ctl, [{ port: "metrics", scheme: "http" }], [ns])];
  const services: ChartService[] = [{ name: `${r.name}-metrics`, namespace: ns, labels: { ...chart, ...ctl }, selector: ctl, ports: [{ name: "metrics", port: 8080, targetPort: "metrics" }] }];
  if (on(v.webhook?.create, true)) {
    monitors.push(sm(r, `${r.name}-webhook-metrics`, ns, { ...chart, ...wh, "app.kubernetes.io/metrics": "webhook" }, { ...wh, "app.kubernetes.io/metrics": "webhook" }, [{ port: "metrics", scheme: "http" }], [ns]));
    services.push({ name: `${r.name}-webhook`, namespace: ns, labels: { ...chart, ...wh, "app.kubernetes.io/metrics": "webhook", "external-secrets.io/component": "webhook" }, selector: wh, ports: [{ name: "webhook", port: 443, targetPort: "webhook" }, { name: "metrics", port: 8080, targetPort: "metrics" }] });
  }
  if (on(v.certController?.create, true)) {
    monitors.push(sm(r, `${r.name}-cert-controller-metrics`, ns, { ...chart, ...cc, "app.kubernetes.io/metrics": "cert-controller" }, { ...cc, "app.kubernetes.io/metrics": "cert-controller" }, [{ port: "metrics", scheme: "http" }], [ns]));
    services.push({ name: `${r.name}-cert-controller-metrics`, namespace: ns, labels: { ...chart, ...cc, "app.kubernetes.io/metrics": "cert-controller" }, selector: cc, ports: [{ name: "metrics", port: 8080, targetPort: "metrics" }] });
  }
  return { ...EMPTY, monitors, services };
}

/**
 * keda 2.20.2 (kedacore/charts @ cbb9bb8, keda/templates): manager/servicemonitor.yaml (if
 * prometheus.operator.enabled and .serviceMonitor.enabled: selector
 * app.kubernetes.io/name=keda-operator, port `metrics`, scheme http), manager/service.yaml
 * (Service keda-operator: ports metricsservice 9666 and metrics 8080, selector app=keda-operator);
 * metrics-server/servicemonitor.yaml and service.yaml (keda-operator-metrics-apiserver, port
 * `metrics` 8080); webhooks/servicemonitor.yaml (prometheus.webhooks.*; off here).
 */
function keda(r: Release): ChartMonitors {
  const v = r.values;
  const ns = r.namespace;
  const monitors: MonitorView[] = [];
  const services: ChartService[] = [];
  if (v.prometheus?.operator?.enabled && v.prometheus?.operator?.serviceMonitor?.enabled) {
    const p = v.prometheus.operator.port ?? 8080;
    monitors.push(sm(r, "keda-operator", ns, { "app.kubernetes.io/name": "keda-operator" }, { "app.kubernetes.io/name": "keda-operator" }, [{ port: v.prometheus.operator.serviceMonitor.port ?? "metrics", scheme: "http", path: "/metrics" }], [ns]));
    services.push({ name: "keda-operator", namespace: ns, labels: { "app.kubernetes.io/name": "keda-operator" }, selector: { app: "keda-operator" }, ports: [{ name: "metricsservice", port: 9666, targetPort: 9666 }, { name: "metrics", port: p, targetPort: p }] });
  }
  if (on(v.metricsServer?.enabled, true) && v.prometheus?.metricServer?.enabled && v.prometheus?.metricServer?.serviceMonitor?.enabled) {
    const p = v.prometheus.metricServer.port ?? 8080;
    const pn = v.prometheus.metricServer.portName ?? "metrics";
    monitors.push(sm(r, "keda-operator-metrics-apiserver", ns, { "app.kubernetes.io/name": "keda-operator" }, { "app.kubernetes.io/name": "keda-operator-metrics-apiserver" }, [{ port: pn, scheme: "http", path: "/metrics" }], [ns]));
    services.push({ name: "keda-operator-metrics-apiserver", namespace: ns, labels: { "app.kubernetes.io/name": "keda-operator-metrics-apiserver", app: "keda-operator-metrics-apiserver" }, selector: { app: "keda-operator-metrics-apiserver" }, ports: [{ name: "https", port: 443, targetPort: 6443 }, { name: pn, port: p, targetPort: p }] });
  }
  return { ...EMPTY, monitors, services };
}

/**
 * dcgm-exporter 4.5.3-4.8.2 (NVIDIA/dcgm-exporter @ 691c927, deployment/templates):
 * service-monitor.yaml (selector dcgm-exporter.selectorLabels: name, instance, component; port
 * `metrics`, /metrics), service.yaml (port metrics 9400 -> 9400), daemonset.yaml (hostNetwork from
 * values, default false; container port metrics 9400).
 */
function dcgmExporter(r: Release): ChartMonitors {
  const v = r.values;
  if (!on(v.serviceMonitor?.enabled, true)) return EMPTY;
  const ns = r.namespace;
  const sel = { "app.kubernetes.io/name": "dcgm-exporter", "app.kubernetes.io/instance": r.name, "app.kubernetes.io/component": "dcgm-exporter" };
  const p = v.service?.port ?? 9400;
  return {
    ...EMPTY,
    monitors: [sm(r, r.name, ns, { ...sel, ...(v.serviceMonitor?.additionalLabels ?? {}) }, sel, [{ port: "metrics", path: "/metrics" }], [ns])],
    services: [{ name: r.name, namespace: ns, labels: sel, selector: sel, ports: [{ name: "metrics", port: p, targetPort: p }] }],
    pods: [{ origin: "dcgm-exporter DaemonSet", namespace: ns, labels: sel, spec: { hostNetwork: v.hostNetwork ?? false, containers: [{ name: "exporter", ports: [port("metrics", p)] }] } }],
  };
}

/**
 * karpenter v1.14.1 (aws/karpenter-provider-aws @ bde0065, charts/karpenter/templates):
 * servicemonitor.yaml (selector karpenter.selectorLabels; port http-metrics, /metrics),
 * service.yaml (port http-metrics = controller.metrics.port 8080 -> container port http-metrics),
 * deployment.yaml (hostNetwork from values, default false).
 */
function karpenter(r: Release): ChartMonitors {
  const v = r.values;
  if (!v.serviceMonitor?.enabled) return EMPTY;
  const ns = r.namespace;
  const sel = { "app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": r.name };
  const p = v.controller?.metrics?.port ?? 8080;
  return {
    ...EMPTY,
    monitors: [sm(r, r.name, ns, sel, sel, [{ port: "http-metrics", path: "/metrics" }], [ns])],
    services: [{ name: r.name, namespace: ns, labels: sel, selector: sel, ports: [{ name: "http-metrics", port: p, targetPort: "http-metrics" }] }],
    pods: [{ origin: "karpenter controller Deployment", namespace: ns, labels: sel, spec: { hostNetwork: v.hostNetwork ?? false, containers: [{ name: "controller", ports: [port("http-metrics", p), port("http", v.controller?.healthProbe?.port ?? 8081)] }] } }],
  };
}

/**
 * opentelemetry-collector 0.170.0 (open-telemetry/opentelemetry-helm-charts @ f5178cb,
 * charts/opentelemetry-collector/templates): servicemonitor.yaml (if serviceMonitor.enabled and
 * metricsEndpoints: selector selectorLabels + component=standalone-collector in deployment mode;
 * endpoints = serviceMonitor.metricsEndpoints, default [{port: metrics}]), service.yaml (ports
 * from `ports` with enabled: true; metrics 8888).
 */
function otelCollector(r: Release): ChartMonitors {
  const v = r.values;
  if (!v.serviceMonitor?.enabled) return EMPTY;
  const ns = r.namespace;
  const sel = { "app.kubernetes.io/name": "opentelemetry-collector", "app.kubernetes.io/instance": r.name, component: v.mode === "daemonset" ? "agent-collector" : "standalone-collector" };
  const name = v.fullnameOverride ?? `${r.name}-opentelemetry-collector`;
  const metricsOn = v.ports?.metrics?.enabled === true;
  const eps: MonitorEndpoint[] = (v.serviceMonitor?.metricsEndpoints ?? [{ port: "metrics" }]).map((e: MonitorEndpoint) => ({ ...e }));
  return {
    ...EMPTY,
    monitors: [sm(r, name, ns, sel, sel, eps)],
    services: [{ name, namespace: ns, labels: sel, selector: sel, ports: [{ name: "otlp", port: 4317, targetPort: 4317 }, { name: "otlp-http", port: 4318, targetPort: 4318 }, ...(metricsOn ? [{ name: "metrics", port: 8888, targetPort: 8888 }] : [])] }],
    pods: [{ origin: "otel collector Deployment", namespace: ns, labels: sel, spec: { containers: [{ name: "opentelemetry-collector", ports: [port("otlp", 4317), port("otlp-http", 4318), ...(metricsOn ? [port("metrics", 8888)] : [])] }] } }],
  };
}

/**
 * litellm-helm (BerriAI/litellm helm/litellm-helm/templates/servicemonitor.yaml @ 45b3847; see the
 * chart's SOURCE.txt caveat on the pin): selector litellm.selectorLabels, namespace = release
 * namespace unless namespaceSelector.matchNames; endpoint port `http`, path /metrics/, scheme http,
 * with the master key as bearer token. The Service is charts.ts's.
 */
function litellm(r: Release): ChartMonitors {
  const v = r.values;
  if (!v.serviceMonitor?.enabled) return EMPTY;
  const sel = { "app.kubernetes.io/name": "litellm", "app.kubernetes.io/instance": r.name };
  const names: string[] = v.serviceMonitor?.namespaceSelector?.matchNames ?? [];
  return {
    ...EMPTY,
    monitors: [sm(r, r.name, r.namespace, { ...sel, ...(v.serviceMonitor?.labels ?? {}) }, sel, [{ port: "http", path: "/metrics/", scheme: "http" }], names.length ? names : [r.namespace])],
    services: [{ name: r.name, namespace: r.namespace, labels: sel, selector: sel, ports: [{ name: "http", port: v.service?.port ?? 4000, targetPort: "http" }] }],
  };
}

const TABLE: Record<string, (r: Release) => ChartMonitors> = {
  "kube-prometheus-stack": kubePrometheusStack,
  "external-secrets": externalSecrets,
  keda,
  "dcgm-exporter": dcgmExporter,
  karpenter,
  "opentelemetry-collector": otelCollector,
  "litellm-helm": litellm,
  milvus,
};

/**
 * Charts whose values cannot make them render a ServiceMonitor or PodMonitor as the program sets
 * them (checked against their values at the pin): nvidia-device-plugin, aws-efa-k8s-device-plugin, istio
 * base/istiod (no monitor templates), jaeger 4.11.1 (no monitor set), karpenter-crd,
 * aws-load-balancer-controller (serviceMonitor.enabled not set: default false). A release of a
 * chart in neither list is reported by the check, so a new chart cannot slip past.
 */
export const NO_MONITOR_CHARTS: readonly string[] = ["nvidia-device-plugin", "aws-efa-k8s-device-plugin", "base", "istiod", "jaeger", "karpenter-crd", "aws-load-balancer-controller", "prometheus-operator-crds", "cni"];

export function chartMonitors(r: Release): ChartMonitors | undefined {
  return TABLE[r.chart]?.(r);
}

/**
 * milvus-helm 5.0.19 (zilliztech/milvus-helm @ 9832476, charts/milvus/templates): servicemonitor.yaml
 * renders a ServiceMonitor when metrics.enabled and metrics.serviceMonitor.enabled (cluster mode:
 * every Service labelled milvus.matchLabels, port `metrics`, plaintext /metrics); service.yaml
 * and {querynode,datanode,mixcoord,streamingnode}-svc.yaml are those Services (port metrics 9091 ->
 * container port metrics). The program turns it off (components/vector-db.ts); the row is here so
 * turning it back on is checked like any other monitor.
 */
function milvus(r: Release): ChartMonitors {
  const v = r.values;
  if (!(v.metrics?.enabled ?? true) || !v.metrics?.serviceMonitor?.enabled) return EMPTY;
  const sel = { "app.kubernetes.io/name": "milvus", "app.kubernetes.io/instance": r.name };
  const cluster = v.cluster?.enabled !== false;
  const comps = cluster ? ["querynode", "datanode", "mixcoord", "streamingnode"] : [];
  return {
    ...EMPTY,
    monitors: [sm(r, r.name, r.namespace, sel, cluster ? sel : { ...sel, component: "standalone" }, [{ port: "metrics", path: "/metrics" }], [r.namespace])],
    services: [
      { name: r.name, namespace: r.namespace, labels: { ...sel, component: cluster ? "proxy" : "standalone" }, selector: { ...sel, component: cluster ? "proxy" : "standalone" }, ports: [{ name: "milvus", port: 19530, targetPort: "milvus" }, { name: "metrics", port: 9091, targetPort: "metrics" }] },
      ...comps.map((c) => ({ name: `${r.name}-${c}`, namespace: r.namespace, labels: { ...sel, component: c }, selector: { ...sel, component: c }, ports: [{ name: "metrics", port: 9091, targetPort: "metrics" }] })),
    ],
  };
}

/** Pod annotations a chart sets from its values, for pods charts.ts renders without them. */
export function chartPodAnnotations(r: Release | undefined): Record<string, string> {
  // milvus-helm 5.0.19 templates/_helpers.tpl milvus.ud.annotations: .Values.annotations on every component's pod template.
  if (r?.chart === "milvus") return { ...(r.values.annotations ?? {}) };
  return {};
}
