/**
 * What the pinned charts render, as far as the cluster model needs it: their pods (namespace,
 * labels, service account, ports, security contexts as the release values set them), their
 * Services, and the objects they create that other objects refer to (Secrets, ServiceAccounts,
 * ConfigMaps). One table; every row names the chart template it comes from.
 *
 * This is a model of the charts, read from their templates at the pinned versions; it is the
 * assumption the cluster checks rest on. Where a chart reads a security context from its values,
 * the row reads the same value here, so a missing value shows as a missing field.
 */
import type { PlatformConfig } from "../../infra/config";
import type { Release } from "./model";

export interface ChartPod {
  readonly origin: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly spec: Record<string, any>;
}
export interface ChartService {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name?: string; readonly port: number; readonly targetPort?: number | string; readonly protocol?: string }[];
}
export interface ChartRender {
  readonly pods: readonly ChartPod[];
  readonly services: readonly ChartService[];
  /** "Kind namespace/name" of objects the chart creates that others may reference. */
  readonly creates: readonly string[];
  readonly source: string;
}

const container = (name: string, ports: { name: string; containerPort: number }[], securityContext?: unknown, extra: Record<string, unknown> = {}) => ({
  name,
  ports: ports.map((p) => ({ ...p, protocol: "TCP" })),
  ...(securityContext ? { securityContext } : {}),
  ...extra,
});

type Renderer = (r: Release, cfg: PlatformConfig) => ChartRender;

const RENDERERS: Record<string, Renderer> = {
  // BerriAI/litellm helm/litellm-helm: templates/deployment.yaml + _deployment.tpl (pod spec:
  // securityContext <- .Values.podSecurityContext, container securityContext <- .Values.securityContext,
  // port "http" <- .Values.service.port), templates/migrations-job.yaml (no pod securityContext;
  // container securityContext <- .Values.securityContext), templates/service.yaml,
  // templates/configmap-litellm.yaml ("<fullname>-config"), _helpers.tpl (selector labels
  // app.kubernetes.io/name + app.kubernetes.io/instance).
  "litellm-helm": (r): ChartRender => {
    const v = r.values;
    const sel = { "app.kubernetes.io/name": "litellm", "app.kubernetes.io/instance": r.name };
    const labels = { ...sel, ...(v.podLabels ?? {}) };
    const port = v.service?.port ?? 4000;
    const sa = v.serviceAccount?.create ? (v.serviceAccount.name ?? r.name) : "default";
    const envFrom = (v.environmentSecrets ?? []).map((name: string) => ({ secretRef: { name } }));
    const secretEnv = [
      { name: "PROXY_MASTER_KEY", valueFrom: { secretKeyRef: { name: v.masterkeySecretName, key: v.masterkeySecretKey } } },
      ...(v.db?.useExisting ? ["usernameKey", "passwordKey"].map((k) => ({ name: k, valueFrom: { secretKeyRef: { name: v.db.secret.name, key: v.db.secret[k] } } })) : []),
    ];
    const volumes = [{ name: "litellm-config", configMap: { name: `${r.name}-config` } }];
    const pods: ChartPod[] = [
      {
        origin: "proxy Deployment",
        namespace: r.namespace,
        labels,
        spec: {
          serviceAccountName: sa,
          securityContext: v.podSecurityContext ?? {},
          containers: [container("litellm", [{ name: "http", containerPort: port }], v.securityContext ?? {}, { env: secretEnv, envFrom, resources: v.resources })],
          volumes,
          ...(v.nodeSelector ? { nodeSelector: v.nodeSelector } : {}),
          ...(v.tolerations ? { tolerations: v.tolerations } : {}),
          ...(v.affinity ? { affinity: v.affinity } : {}),
        },
      },
    ];
    if (v.migrationJob?.enabled)
      pods.push({
        origin: "migrations Job",
        namespace: r.namespace,
        labels: { ...sel, ...(v.podLabels ?? {}), "job-name": `${r.name}-migrations` },
        annotations: v.migrationJob?.annotations ?? {},
        spec: {
          // migrations-job.yaml: the hook runs before the chart's ServiceAccount exists, so
          // litellm.migrationServiceAccountName falls back to "default" unless set.
          serviceAccountName: v.migrationJob?.serviceAccountName || "default",
          containers: [container("prisma-migrations", [], v.securityContext ?? {}, { env: secretEnv.slice(1), resources: v.migrationJob?.resources })],
          ...(v.tolerations ? { tolerations: v.tolerations } : {}),
          ...(v.affinity ? { affinity: v.affinity } : {}),
        },
      });
    return {
      pods,
      services: [{ name: r.name, namespace: r.namespace, selector: sel, ports: [{ name: "http", port, targetPort: "http", protocol: "TCP" }] }],
      creates: [`ConfigMap ${r.namespace}/${r.name}-config`, ...(v.serviceAccount?.create ? [`ServiceAccount ${r.namespace}/${sa}`] : [])],
      source: "BerriAI/litellm helm/litellm-helm templates/_deployment.tpl, migrations-job.yaml, service.yaml, configmap-litellm.yaml",
    };
  },

  // prometheus-community/helm-charts kube-prometheus-stack 88.5.3: templates/prometheus/prometheus.yaml
  // (the operator labels Prometheus pods app.kubernetes.io/name=prometheus,
  // prometheus=<fullname>-prometheus), templates/prometheus/service.yaml (port http-web 9090),
  // templates/alertmanager/*, grafana subchart (app.kubernetes.io/name=grafana, port 3000),
  // prometheus-node-exporter subchart (DaemonSet, hostNetwork, 9100), kube-state-metrics
  // subchart (8080), templates/prometheus-operator/deployment.yaml (app=kube-prometheus-stack-operator, 10250 https).
  "kube-prometheus-stack": (r): ChartRender => {
    const ns = r.namespace;
    const nonRoot = { runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000, seccompProfile: { type: "RuntimeDefault" } };
    const promPod: ChartPod = {
      origin: "Prometheus (operator-managed StatefulSet)",
      namespace: ns,
      labels: { "app.kubernetes.io/name": "prometheus", prometheus: `${r.name}-prometheus` },
      spec: { serviceAccountName: `${r.name}-prometheus`, securityContext: nonRoot, containers: [container("prometheus", [{ name: "http-web", containerPort: 9090 }])] },
    };
    return {
      pods: [
        promPod,
        {
          origin: "Alertmanager (operator-managed StatefulSet)",
          namespace: ns,
          labels: { "app.kubernetes.io/name": "alertmanager", alertmanager: `${r.name}-alertmanager` },
          spec: { securityContext: nonRoot, containers: [container("alertmanager", [{ name: "http-web", containerPort: 9093 }])] },
        },
        {
          origin: "grafana Deployment",
          namespace: ns,
          labels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": r.name },
          spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 472, fsGroup: 472, seccompProfile: { type: "RuntimeDefault" } },
            containers: [container("grafana", [{ name: "grafana", containerPort: 3000 }])],
            env: [{ valueFrom: { secretKeyRef: { name: r.values.grafana?.admin?.existingSecret } } }],
          },
        },
        {
          origin: "prometheus-operator Deployment",
          namespace: ns,
          labels: { app: `${r.name}-operator`, "app.kubernetes.io/name": `${r.name}-prometheus-operator` },
          spec: { securityContext: nonRoot, containers: [container("kube-prometheus-stack", [{ name: "https", containerPort: 10250 }])] },
        },
        {
          origin: "prometheus-node-exporter DaemonSet",
          namespace: ns,
          labels: { "app.kubernetes.io/name": "prometheus-node-exporter", "app.kubernetes.io/instance": r.name },
          spec: { hostNetwork: true, hostPID: true, containers: [container("node-exporter", [{ name: "http-metrics", containerPort: 9100 }])], tolerations: [{ operator: "Exists", effect: "NoSchedule" }] },
        },
        {
          origin: "kube-state-metrics Deployment",
          namespace: ns,
          labels: { "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": r.name },
          spec: { securityContext: nonRoot, containers: [container("kube-state-metrics", [{ name: "http", containerPort: 8080 }])] },
        },
      ],
      services: [
        { name: `${r.name}-prometheus`, namespace: ns, selector: { "app.kubernetes.io/name": "prometheus", prometheus: `${r.name}-prometheus` }, ports: [{ name: "http-web", port: 9090, targetPort: 9090 }] },
        { name: `${r.name}-grafana`, namespace: ns, selector: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": r.name }, ports: [{ name: "http-web", port: 80, targetPort: 3000 }] },
        { name: `${r.name}-alertmanager`, namespace: ns, selector: { "app.kubernetes.io/name": "alertmanager" }, ports: [{ name: "http-web", port: 9093, targetPort: 9093 }] },
      ],
      creates: [`ServiceAccount ${ns}/${r.name}-prometheus`],
      source: "prometheus-community/helm-charts charts/kube-prometheus-stack 88.5.3 templates/prometheus/, templates/alertmanager/, charts/grafana, charts/prometheus-node-exporter, charts/kube-state-metrics",
    };
  },

  // kedacore/charts keda 2.20.2: templates/manager/deployment.yaml (app.kubernetes.io/name=keda-operator,
  // metrics 8080, gRPC 9666), templates/metrics-server/deployment.yaml (keda-operator-metrics-apiserver,
  // 6443, the APIService backend), templates/webhooks/deployment.yaml (keda-admission-webhooks, 9443).
  // Security contexts: .Values.podSecurityContext.<component> and .Values.securityContext.<component>
  // (values.yaml "KEDA is secure by default").
  keda: (r) => {
    const e = r.effective;
    const spec = (c: string, sa: string | undefined, ports: { name: string; containerPort: number }[]) => ({
      ...(sa ? { serviceAccountName: sa } : {}),
      securityContext: e.podSecurityContext?.[c] ?? {},
      containers: [container(c, ports, e.securityContext?.[c] ?? {})],
    });
    return {
    pods: [
      { origin: "keda-operator", namespace: r.namespace, labels: { app: "keda-operator", "app.kubernetes.io/name": "keda-operator" }, spec: spec("operator", "keda-operator", [{ name: "metricsservice", containerPort: 9666 }, { name: "metrics", containerPort: 8080 }]) },
      { origin: "keda-operator-metrics-apiserver", namespace: r.namespace, labels: { app: "keda-operator-metrics-apiserver", "app.kubernetes.io/name": "keda-operator-metrics-apiserver" }, spec: spec("metricServer", undefined, [{ name: "https", containerPort: 6443 }, { name: "metrics", containerPort: 8080 }]) },
      { origin: "keda-admission-webhooks", namespace: r.namespace, labels: { app: "keda-admission-webhooks", "app.kubernetes.io/name": "keda-admission-webhooks" }, spec: spec("webhooks", undefined, [{ name: "http", containerPort: 9443 }]) },
    ],
    services: [],
    // templates/manager/serviceaccount.yaml (serviceAccount.operator.create, default true, name keda-operator).
    creates: [`ServiceAccount ${r.namespace}/keda-operator`],
    source: "kedacore/charts keda 2.20.2 templates/manager, templates/metrics-server, templates/webhooks",
  };
  },

  // external-secrets/external-secrets deploy/charts/external-secrets 2.9.0: templates/deployment.yaml
  // (app.kubernetes.io/name=external-secrets, metrics 8080), webhook-deployment.yaml
  // (external-secrets-webhook, 10250), cert-controller-deployment.yaml.
  // Security contexts: templates/*deployment.yaml render .podSecurityContext / .securityContext
  // when their `enabled` is true, minus the `enabled` key (values.yaml defaults: restricted).
  "external-secrets": (r) => {
    const e = r.effective;
    const ctx = (v: any) => (v?.enabled === false || !v ? {} : Object.fromEntries(Object.entries(v).filter(([k]) => k !== "enabled")));
    const pod = (origin: string, name: string, v: any, ports: { name: string; containerPort: number }[], sa?: string): ChartPod => ({
      origin,
      namespace: r.namespace,
      labels: { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": r.name },
      spec: { ...(sa ? { serviceAccountName: sa } : {}), securityContext: ctx(v?.podSecurityContext), containers: [container(origin, ports, ctx(v?.securityContext))] },
    });
    return {
    pods: [
      pod("external-secrets", "external-secrets", e, [{ name: "metrics", containerPort: 8080 }], r.values.serviceAccount?.name ?? "external-secrets"),
      pod("external-secrets-webhook", "external-secrets-webhook", e.webhook, [{ name: "webhook", containerPort: 10250 }, { name: "metrics", containerPort: 8080 }]),
      pod("external-secrets-cert-controller", "external-secrets-cert-controller", e.certController, [{ name: "metrics", containerPort: 8080 }]),
    ],
    services: [],
    creates: [`ServiceAccount ${r.namespace}/${r.values.serviceAccount?.name ?? "external-secrets"}`],
    source: "external-secrets/external-secrets deploy/charts/external-secrets 2.9.0 templates/deployment.yaml, webhook-deployment.yaml, cert-controller-deployment.yaml",
  };
  },

  // zilliztech/milvus-helm charts/milvus 5.0.19: templates/*-deployment.yaml (labels
  // app.kubernetes.io/name=milvus, app.kubernetes.io/instance, component), templates/service.yaml
  // (port 19530 "milvus", 9091 "metrics"), etcd subchart.
  milvus: (r): ChartRender => {
    const sel = { "app.kubernetes.io/name": "milvus", "app.kubernetes.io/instance": r.name };
    const ports = [{ name: "milvus", containerPort: 19530 }, { name: "metrics", containerPort: 9091 }];
    const comps = r.values.cluster?.enabled === false ? ["standalone"] : ["proxy", "querynode", "datanode", "mixcoord", "streamingnode"];
    return {
      pods: [
        ...comps.map((c) => ({ origin: c, namespace: r.namespace, labels: { ...sel, component: c }, spec: { ...(r.values.serviceAccount?.create ? { serviceAccountName: r.values.serviceAccount.name } : {}), containers: [container(c, ports)] } })),
        // bitnami etcd subchart (charts/etcd): app.kubernetes.io/name=etcd, instance = the release; client 2379, peer 2380.
        ...(r.values.etcd?.enabled === false ? [] : [simple("etcd", r.namespace, { "app.kubernetes.io/name": "etcd", "app.kubernetes.io/instance": r.name }, [{ name: "client", containerPort: 2379 }, { name: "peer", containerPort: 2380 }])]),
      ],
      services: [{ name: r.name, namespace: r.namespace, selector: { ...sel, component: comps.includes("proxy") ? "proxy" : "standalone" }, ports: [{ name: "milvus", port: 19530, targetPort: "milvus" }, { name: "metrics", port: 9091, targetPort: "metrics" }] }],
      // templates/serviceaccount.yaml when serviceAccount.create.
      creates: r.values.serviceAccount?.create ? [`ServiceAccount ${r.namespace}/${r.values.serviceAccount.name}`] : [],
      source: "zilliztech/milvus-helm charts/milvus 5.0.19 templates/",
    };
  },
};

const simple = (origin: string, namespace: string, labels: Record<string, string>, ports: { name: string; containerPort: number }[], spec: Record<string, unknown> = {}): ChartPod => ({
  origin,
  namespace,
  labels,
  spec: { containers: [container(origin, ports)], ...spec },
});

Object.assign(RENDERERS, {
  // aws/karpenter-provider-aws charts/karpenter 1.14.1: templates/deployment.yaml (selector
  // app.kubernetes.io/name=karpenter + instance; ports http-metrics 8080 (controller.metrics.port),
  // http 8081 health).
  karpenter: (r: Release): ChartRender => ({
    pods: [
      simple("karpenter controller", r.namespace, { "app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": r.name }, [{ name: "http-metrics", containerPort: 8080 }, { name: "http", containerPort: 8081 }], {
        serviceAccountName: r.values.serviceAccount?.name ?? "karpenter",
      }),
    ],
    services: [],
    creates: [`ServiceAccount ${r.namespace}/karpenter`],
    source: "aws/karpenter-provider-aws charts/karpenter 1.14.1 templates/deployment.yaml",
  }),
  // aws/eks-charts stable/aws-load-balancer-controller 3.5.0: templates/deployment.yaml (selector
  // app.kubernetes.io/name=aws-load-balancer-controller; webhook 9443, metrics 8080; service account from values).
  "aws-load-balancer-controller": (r: Release): ChartRender => ({
    pods: [
      simple("aws-load-balancer-controller", r.namespace, { "app.kubernetes.io/name": "aws-load-balancer-controller", "app.kubernetes.io/instance": r.name }, [{ name: "webhook-server", containerPort: 9443 }, { name: "metrics-server", containerPort: 8080 }], {
        serviceAccountName: r.values.serviceAccount?.name ?? "aws-load-balancer-controller",
      }),
    ],
    services: [],
    // templates/serviceaccount.yaml when serviceAccount.create.
    creates: r.values.serviceAccount?.create ? [`ServiceAccount ${r.namespace}/${r.values.serviceAccount.name ?? "aws-load-balancer-controller"}`] : [],
    source: "aws/eks-charts stable/aws-load-balancer-controller 3.5.0 templates/deployment.yaml, serviceaccount.yaml",
  }),
  // NVIDIA/dcgm-exporter deployment/templates/daemonset.yaml (app.kubernetes.io/name=dcgm-exporter, port "metrics" 9400).
  "dcgm-exporter": (r: Release): ChartRender => ({
    pods: [simple("dcgm-exporter DaemonSet", r.namespace, { "app.kubernetes.io/name": "dcgm-exporter", "app.kubernetes.io/instance": r.name }, [{ name: "metrics", containerPort: 9400 }])],
    services: [],
    creates: [],
    source: "NVIDIA/dcgm-exporter deployment/templates/daemonset.yaml 4.8.2",
  }),
  // istio/istio manifests/charts/istio-control/istio-discovery 1.30.3: templates/deployment.yaml
  // (labels app=istiod, istio=pilot; ports 8080, 15010, 15012 xDS/CA, 15014 metrics, 15017 webhook).
  istiod: (r: Release): ChartRender => ({
    pods: [simple("istiod", r.namespace, { app: "istiod", istio: "pilot" }, [{ name: "grpc-xds", containerPort: 15012 }, { name: "http-monitoring", containerPort: 15014 }, { name: "https-webhooks", containerPort: 15017 }])],
    services: [],
    creates: [],
    source: "istio/istio manifests/charts/istio-control/istio-discovery templates/deployment.yaml 1.30.3",
  }),
  // open-telemetry/opentelemetry-helm-charts charts/opentelemetry-collector 0.170.0:
  // _helpers.tpl selectorLabels (app.kubernetes.io/name=opentelemetry-collector, instance,
  // component=standalone-collector), ports from .Values.ports (otlp 4317, otlp-http 4318, metrics 8888).
  "opentelemetry-collector": (r: Release): ChartRender => ({
    pods: [
      simple("collector", r.namespace, { "app.kubernetes.io/name": "opentelemetry-collector", "app.kubernetes.io/instance": r.name, component: "standalone-collector" }, [
        { name: "otlp", containerPort: 4317 },
        { name: "otlp-http", containerPort: 4318 },
        { name: "metrics", containerPort: 8888 },
      ]),
    ],
    // templates/service.yaml: named fullnameOverride, the enabled .Values.ports.
    services: [
      {
        name: r.values.fullnameOverride ?? r.name,
        namespace: r.namespace,
        selector: { "app.kubernetes.io/name": "opentelemetry-collector", "app.kubernetes.io/instance": r.name, component: "standalone-collector" },
        ports: [
          { name: "otlp", port: 4317, targetPort: 4317 },
          { name: "otlp-http", port: 4318, targetPort: 4318 },
          { name: "metrics", port: 8888, targetPort: 8888 },
        ],
      },
    ],
    creates: [],
    source: "open-telemetry/opentelemetry-helm-charts charts/opentelemetry-collector 0.170.0 templates/_pod.tpl, _helpers.tpl, service.yaml",
  }),
  // jaegertracing/helm-charts charts/jaeger 4.x (Jaeger v2 all-in-one): labels app.kubernetes.io/name=jaeger; OTLP 4317/4318, query 16686.
  jaeger: (r: Release): ChartRender => ({
    pods: [simple("jaeger", r.namespace, { "app.kubernetes.io/name": "jaeger", "app.kubernetes.io/instance": r.name, "app.kubernetes.io/component": "all-in-one" }, [{ name: "otlp-grpc", containerPort: 4317 }, { name: "otlp-http", containerPort: 4318 }, { name: "http-query", containerPort: 16686 }])],
    // templates/jaeger/jaeger-service.yaml: named jaeger.fullname, selector + component all-in-one;
    // of its many ports, the ones the platform uses.
    services: [
      {
        name: r.values.fullnameOverride ?? r.name,
        namespace: r.namespace,
        selector: { "app.kubernetes.io/name": "jaeger", "app.kubernetes.io/instance": r.name, "app.kubernetes.io/component": "all-in-one" },
        ports: [
          { name: "otlp-grpc", port: 4317, targetPort: 4317 },
          { name: "otlp-http", port: 4318, targetPort: 4318 },
          { name: "http-query", port: 16686, targetPort: 16686 },
        ],
      },
    ],
    creates: [],
    source: "jaegertracing/helm-charts charts/jaeger 4.11.1 templates/allinone",
  }),
});

/**
 * Pods EKS itself runs (managed add-ons), which no release of ours renders but flows name:
 * CoreDNS (coredns add-on: labels k8s-app=kube-dns, ports 53 and metrics 9153).
 */
export const EKS_ADDON_PODS: readonly ChartPod[] = [
  simple("coredns (EKS add-on)", "kube-system", { "k8s-app": "kube-dns" }, [{ name: "dns", containerPort: 53 }, { name: "dns-tcp", containerPort: 53 }, { name: "metrics", containerPort: 9153 }]),
];

export function chartRenders(r: Release, cfg: PlatformConfig): ChartRender | undefined {
  return RENDERERS[r.chart]?.(r, cfg);
}

/** Charts the model has a renderer for. */
export const MODELLED_CHARTS = Object.keys(RENDERERS);
