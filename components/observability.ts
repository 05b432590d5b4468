/**
 * Observability: kube-prometheus-stack (Prometheus, Alertmanager, Grafana, node-exporter,
 * kube-state-metrics), the platform's alert rules and its dashboards.
 *
 * - CRDs come from MonitoringCrds, so the chart's are off.
 * - Prometheus selects every ServiceMonitor, PodMonitor and PrometheusRule in the cluster (the
 *   *SelectorNilUsesHelmValues flags are false), so charts and our own objects are scraped.
 * - No monitors (nor their alerts) for what EKS does not let Prometheus reach: the
 *   controller-manager, the scheduler, etcd, and kube-proxy's loopback-bound metrics.
 * - Retention, replicas and gp3 storage per env.
 * - Grafana's admin credentials come from Vault through an ExternalSecret; dashboards through
 *   the sidecar.
 * - Alertmanager's receiver is configured per env; its Slack webhook or PagerDuty key is read
 *   from a mounted Secret file (api_url_file / routing_key_file), never from the Helm values.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../infra/catalog/versions";
import type { PlatformConfig } from "../infra/config";
import { prometheusRule, runbookUrl, type AnyRuleGroup } from "./alerts";
import { DASHBOARDS } from "./dashboards";
import { COST_NODE_LABELS, costRuleGroups, sloRuleGroups } from "./slo-rules";
import { release } from "./helm";
import { recommendedLabels } from "./labels";
import { NAMESPACES } from "./namespaces";
import { generatedRef, parseVaultRef, Secrets, type ExternalSecretSpec } from "./secrets";
import { flow, tcp, type Flow, type Peers, type PodPeer } from "./flows";
import { PROMETHEUS } from "./network-security";

export const MONITORING_NS = NAMESPACES.monitoring.name;
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
export const RECEIVER_SECRET = "alertmanager-receivers";
/** Where the Prometheus operator mounts `alertmanagerSpec.secrets`. */
export const RECEIVER_SECRET_DIR = `/etc/alertmanager/secrets/${RECEIVER_SECRET}`;
/** Prometheus inside the cluster, for KEDA and Grafana. */
export const PROMETHEUS_URL = `http://kube-prometheus-stack-prometheus.${MONITORING_NS}.svc:9090`;

type Receiver = PlatformConfig["observability"]["alertmanager"]["receiver"];

/** Alertmanager configuration: one receiver per env, the Watchdog silenced. No secret values. */
export function alertmanagerConfig(receiver: Receiver): Record<string, unknown> {
  const platform: Record<string, unknown> = { name: "platform" };
  if (receiver.type === "slack")
    platform.slack_configs = [{ channel: receiver.channel, api_url_file: `${RECEIVER_SECRET_DIR}/slack-webhook-url`, send_resolved: true, title: "{{ .CommonAnnotations.summary }}" }];
  if (receiver.type === "pagerduty") platform.pagerduty_configs = [{ routing_key_file: `${RECEIVER_SECRET_DIR}/pagerduty-routing-key`, send_resolved: true }];
  return {
    route: {
      receiver: receiver.type === "none" ? "null" : "platform",
      group_by: ["alertname", "namespace", "model_name"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [{ receiver: "null", matchers: ['alertname = "Watchdog"'] }],
    },
    receivers: [{ name: "null" }, ...(receiver.type === "none" ? [] : [platform])],
    inhibit_rules: [{ source_matchers: ['severity = "critical"'], target_matchers: ['severity = "warning"'], equal: ["alertname", "namespace"] }],
  };
}

/** The Secret the receiver reads, synced from Vault (none for receiver type none). */
export function receiverSecretSpec(receiver: Receiver): ExternalSecretSpec | undefined {
  if (receiver.type === "none") return undefined;
  const data =
    receiver.type === "slack"
      ? [{ secretKey: "slack-webhook-url", ref: parseVaultRef(receiver.webhookUrlVaultRef) }]
      : [{ secretKey: "pagerduty-routing-key", ref: parseVaultRef(receiver.routingKeyVaultRef) }];
  return { name: RECEIVER_SECRET, namespace: MONITORING_NS, data, component: "observability" };
}

export interface StackValuesInputs {
  readonly obs: PlatformConfig["observability"];
  readonly clusterName: string;
  readonly environment: string;
  /** Jaeger's query URL for a Grafana datasource, when tracing is on. */
  readonly jaegerUrl?: string;
}

export function kubePrometheusStackValues(i: StackValuesInputs): Record<string, unknown> {
  const o = i.obs;
  const gp3 = (size: number) => ({ volumeClaimTemplate: { spec: { storageClassName: "gp3", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${size}Gi` } } } } });
  return {
    crds: { enabled: false },
    defaultRules: { create: true },
    // EKS runs the control plane out of reach: kube-controller-manager, kube-scheduler and etcd
    // are not scrapeable (upstream-facts §12), so their monitors would find no endpoint and
    // KubeControllerManagerDown / KubeSchedulerDown would fire forever. `enabled: false` removes
    // the chart's Service, Endpoints and ServiceMonitor (templates/exporters/<x>/*.yaml: `if and
    // .Values.<x>.enabled ...`) and their default rules (templates/prometheus/rules-1.14/
    // kubernetes-system-controller-manager.yaml, kubernetes-system-scheduler.yaml,
    // kube-scheduler.rules.yaml, etcd.yaml are all gated on the same flag), chart 88.5.3.
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    // kube-proxy (the EKS add-on, default configuration) binds its metrics to 127.0.0.1:10249,
    // kube-proxy's own default (KubeProxyConfiguration v1alpha1 metricsBindAddress; EKS users
    // report the same: aws/containers-roadmap#657, terraform-aws-modules/terraform-aws-eks#742,
    // prometheus-community/helm-charts#977), so a scrape from Prometheus is refused and KubeProxyDown
    // fires forever. Off: its Service, ServiceMonitor and rules
    // (rules-1.14/kubernetes-system-kube-proxy.yaml) go with it.
    kubeProxy: { enabled: false },
    prometheus: {
      prometheusSpec: {
        replicas: o.prometheus.replicas,
        retention: o.prometheus.retention,
        scrapeInterval: o.prometheus.scrapeInterval,
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
        externalLabels: { cluster: i.clusterName, environment: i.environment },
        storageSpec: gp3(o.prometheus.storageGi),
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "8Gi" } },
      },
    },
    alertmanager: {
      config: alertmanagerConfig(o.alertmanager.receiver),
      alertmanagerSpec: {
        replicas: o.alertmanager.replicas,
        ...(o.alertmanager.receiver.type === "none" ? {} : { secrets: [RECEIVER_SECRET] }),
        storage: gp3(5),
        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
      },
    },
    // kube_node_labels carries only the labels allowed here (kube-state-metrics
    // --metric-labels-allowlist, empty by default): the $/token rules need each node's instance
    // type and capacity type (components/slo-rules.ts COST_NODE_LABELS). The subchart's
    // templates/deployment.yaml renders `--metric-labels-allowlist={{ .Values.metricLabelsAllowlist | join "," }}`
    // (prometheus-community/helm-charts charts/kube-state-metrics, chart 8.4.0 in 88.5.3; values.yaml
    // metricLabelsAllowlist: []).
    "kube-state-metrics": { metricLabelsAllowlist: [`nodes=[${COST_NODE_LABELS.join(",")}]`] },
    grafana: {
      replicas: o.grafana.replicas,
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
      sidecar: { dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "ALL" }, datasources: { enabled: true } },
      ...(i.jaegerUrl ? { additionalDataSources: [{ name: "Jaeger", type: "jaeger", uid: "jaeger", url: i.jaegerUrl, access: "proxy" }] } : {}),
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
    },
  };
}

export function dashboardConfigMaps(namespace: string): k8s.core.v1.ConfigMapArgs[] {
  return DASHBOARDS.map((build) => {
    const d = build();
    return {
      metadata: { name: `dashboard-${d.uid}`, namespace, labels: { ...recommendedLabels(`dashboard-${d.uid}`, "observability"), grafana_dashboard: "1" } },
      data: { [`${d.uid}.json`]: JSON.stringify(d) },
    };
  });
}

/** Every rule group of the platform's PrometheusRule: alerts, SLO burn rates, $/token. */
export function platformRuleGroups(config: Pick<PlatformConfig, "observability" | "models" | "slo" | "embeddings" | "safety" | "gpuPools" | "karpenter" | "budget">): {
  readonly alertInputs: Parameters<typeof prometheusRule>[0];
  readonly extra: AnyRuleGroup[];
} {
  const rb = (a: string) => runbookUrl(config.observability.runbookBaseUrl, a);
  return {
    alertInputs: { models: config.models, runbookBaseUrl: config.observability.runbookBaseUrl, slo: config.slo, safety: config.safety },
    extra: [...sloRuleGroups({ ...config, runbookBaseUrl: config.observability.runbookBaseUrl }, rb), ...costRuleGroups(config, rb)],
  };
}

export interface ObservabilityArgs {
  readonly config: Pick<PlatformConfig, "observability" | "models" | "environment" | "slo" | "embeddings" | "safety" | "gpuPools" | "karpenter" | "budget">;
  readonly clusterName: string;
  readonly vaultPathPrefix: string;
  readonly k8sProvider: k8s.Provider;
  readonly namespace: k8s.core.v1.Namespace;
  readonly secretStore: pulumi.Resource;
  readonly monitoringCrds: pulumi.Resource;
  readonly jaegerUrl?: string;
}

export class Observability extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly prometheusUrl: string = PROMETHEUS_URL;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:observability:Observability", name, {}, opts);
    const o = args.config.observability;
    const k8sOpts = { parent: this, provider: args.k8sProvider };

    const secrets: pulumi.Resource[] = [
      Secrets.externalSecret(
        `${name}-grafana-admin`,
        {
          name: GRAFANA_ADMIN_SECRET,
          namespace: MONITORING_NS,
          component: "observability",
          data: ["admin-user", "admin-password"].map((k) => ({ secretKey: k, ref: generatedRef(args.vaultPathPrefix, "grafana", k) })),
        },
        args.secretStore,
        { ...k8sOpts, dependsOn: [args.namespace] },
      ),
    ];
    const receiver = receiverSecretSpec(o.alertmanager.receiver);
    if (receiver) secrets.push(Secrets.externalSecret(`${name}-receivers`, receiver, args.secretStore, { ...k8sOpts, dependsOn: [args.namespace] }));

    this.release = release(
      `${name}-kube-prometheus-stack`,
      {
        name: "kube-prometheus-stack",
        namespace: MONITORING_NS,
        pin: CHARTS.kubePrometheusStack,
        skipCrds: true,
        timeout: 900,
        values: kubePrometheusStackValues({ obs: o, clusterName: args.clusterName, environment: args.config.environment, ...(args.jaegerUrl ? { jaegerUrl: args.jaegerUrl } : {}) }),
      },
      { ...k8sOpts, dependsOn: [args.namespace, args.monitoringCrds, ...secrets] },
    );

    const rules = platformRuleGroups(args.config);
    new k8s.apiextensions.CustomResource(
      `${name}-rules`,
      prometheusRule(rules.alertInputs, MONITORING_NS, rules.extra),
      { ...k8sOpts, dependsOn: [args.monitoringCrds, args.namespace] },
    );
    for (const cm of dashboardConfigMaps(MONITORING_NS)) {
      new k8s.core.v1.ConfigMap(`${name}-${(cm.metadata as { name: string }).name}`, cm, { ...k8sOpts, dependsOn: [args.namespace] });
    }

    this.registerOutputs({ prometheusUrl: this.prometheusUrl, grafanaService: `kube-prometheus-stack-grafana.${MONITORING_NS}.svc` });
  }
}

/**
 * Monitoring's flows (kube-prometheus-stack 88.5.3: Prometheus 9090 and its config reloader
 * 8080, Alertmanager 9093 and cluster gossip 9094, Grafana 3000, kube-state-metrics 8080, the
 * operator's TLS port 10250, which also serves its admission webhook; node-exporter 9100 on the
 * host network; kubelet 10250 on every node; CoreDNS 9153; Karpenter's metrics 8080). kube-proxy
 * is not scraped (kubeProxy.enabled is false above).
 */
export function observabilityFlows(cfg: Pick<PlatformConfig, "observability">, p: Peers): Flow[] {
  const n = MONITORING_NS;
  const pod = (name: string): PodPeer => ({ namespace: n, pods: { "app.kubernetes.io/name": name } });
  const alertmanager = pod("alertmanager");
  const grafana = pod("grafana");
  const operator: PodPeer = { namespace: n, pods: { app: "kube-prometheus-stack-operator" } };
  const o = cfg.observability;
  return [
    flow("monitoring-to-apiserver", { namespace: n }, p.apiServer, tcp(443), "Prometheus service discovery, the operator, kube-state-metrics and Grafana's sidecars watch the Kubernetes API"),
    flow("apiserver-to-prometheus-operator", p.controlPlane, operator, tcp(10250), "the API server calls the operator's PrometheusRule validation webhook"),
    flow("grafana-to-prometheus", grafana, PROMETHEUS, tcp(9090), "Grafana's Prometheus datasource"),
    flow("grafana-to-alertmanager", grafana, alertmanager, tcp(9093), "Grafana's Alertmanager datasource"),
    flow("prometheus-to-alertmanager", PROMETHEUS, alertmanager, tcp(9093, 8080), "Prometheus sends alerts to, and scrapes, Alertmanager and its config reloader"),
    ...(o.alertmanager.replicas > 1 ? [flow("alertmanager-gossip", alertmanager, alertmanager, [...tcp(9094), { port: 9094, protocol: "UDP" as const }], "Alertmanager replicas gossip to deduplicate notifications")] : []),
    ...(o.alertmanager.receiver.type === "none" ? [] : [flow("alertmanager-to-receivers", alertmanager, p.internet, tcp(443), "Alertmanager notifies Slack or PagerDuty")]),
    flow("prometheus-scrapes-prometheus", PROMETHEUS, PROMETHEUS, tcp(9090, 8080), "Prometheus scrapes itself and its config reloader"),
    flow("prometheus-scrapes-grafana", PROMETHEUS, grafana, tcp(3000), "Prometheus scrapes Grafana"),
    flow("prometheus-scrapes-kube-state-metrics", PROMETHEUS, pod("kube-state-metrics"), tcp(8080), "Prometheus scrapes kube-state-metrics"),
    flow("prometheus-scrapes-operator", PROMETHEUS, operator, tcp(10250), "Prometheus scrapes the operator"),
    flow("prometheus-scrapes-nodes", PROMETHEUS, p.nodes, tcp(10250, 9100), "kubelet and cAdvisor, and node-exporter (host network), on every node"),
    flow("prometheus-scrapes-coredns", PROMETHEUS, { namespace: "kube-system", pods: { "k8s-app": "kube-dns" } }, tcp(9153), "Prometheus scrapes CoreDNS"),
    flow("prometheus-scrapes-karpenter", PROMETHEUS, { namespace: "kube-system", pods: { "app.kubernetes.io/name": "karpenter" } }, tcp(8080), "Prometheus scrapes Karpenter"),
  ];
}
