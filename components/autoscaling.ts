/**
 * Autoscaling: KEDA from its pinned chart, in its own namespace. The serving layer's
 * ScaledObjects (on vLLM and TEI metrics from Prometheus) need it; CPU/memory HPAs are never
 * used for GPU pods.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../infra/catalog/versions";
import { release } from "./helm";
import { NAMESPACES } from "./namespaces";
import { flow, tcp, type Flow, type Peers } from "./flows";
import { PROMETHEUS, WORKLOAD } from "./network-security";

export function kedaValues(operatorReplicas: number): Record<string, unknown> {
  const pdb = operatorReplicas > 1 ? { operator: { minAvailable: 1 }, webhooks: { minAvailable: 1 } } : {};
  return {
    operator: { replicaCount: operatorReplicas },
    // The metrics API server serves one active replica; KEDA scales through it.
    metricsServer: { replicaCount: 1 },
    webhooks: { enabled: true, replicaCount: operatorReplicas },
    podDisruptionBudget: pdb,
    prometheus: {
      metricServer: { enabled: true, serviceMonitor: { enabled: true } },
      operator: { enabled: true, serviceMonitor: { enabled: true } },
    },
    resources: {
      operator: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
      metricServer: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
      webhooks: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    },
  };
}

export interface AutoscalingArgs {
  readonly operatorReplicas: number;
  readonly k8sProvider: k8s.Provider;
  readonly namespace: k8s.core.v1.Namespace;
  readonly monitoringCrds: pulumi.Resource;
}

export class Autoscaling extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: AutoscalingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:autoscaling:Keda", name, {}, opts);
    this.release = release(
      `${name}-keda`,
      { name: "keda", namespace: NAMESPACES.autoscaling.name, pin: CHARTS.keda, values: kedaValues(args.operatorReplicas) },
      { parent: this, provider: args.k8sProvider, dependsOn: [args.namespace, args.monitoringCrds] },
    );
    this.registerOutputs({});
  }
}

/**
 * KEDA's flows (kedacore/charts keda 2.20.2: operator metrics 8080 and gRPC 9666 for the metrics
 * server, metrics API server 6443 behind the v1beta1.external.metrics.k8s.io APIService,
 * admission webhooks 9443).
 */
export function autoscalingFlows(p: Peers): Flow[] {
  const n = NAMESPACES.autoscaling.name;
  const operator = { namespace: n, pods: { "app.kubernetes.io/name": "keda-operator" } };
  const metricsServer = { namespace: n, pods: { "app.kubernetes.io/name": "keda-operator-metrics-apiserver" } };
  return [
    flow("keda-to-apiserver", { namespace: n }, p.apiServer, tcp(443), "the operator, metrics server and webhooks watch the Kubernetes API"),
    flow("apiserver-to-keda-metrics", p.controlPlane, metricsServer, tcp(6443), "the HPA controller reads external metrics through the API server's aggregation layer"),
    flow("apiserver-to-keda-webhooks", p.controlPlane, { namespace: n, pods: { "app.kubernetes.io/name": "keda-admission-webhooks" } }, tcp(9443), "the API server calls KEDA's validating webhook"),
    flow("keda-metrics-to-operator", metricsServer, operator, tcp(9666), "the metrics server asks the operator for scaler values over gRPC"),
    flow("keda-to-prometheus", { namespace: n, pods: WORKLOAD.kedaOperator }, PROMETHEUS, tcp(9090), "the Prometheus scalers query Prometheus"),
    flow("prometheus-scrapes-keda-operator", PROMETHEUS, operator, tcp(8080), "Prometheus scrapes the operator (prometheus.operator.serviceMonitor)"),
    flow("prometheus-scrapes-keda-metrics", PROMETHEUS, metricsServer, tcp(8080), "Prometheus scrapes the metrics server (prometheus.metricServer.serviceMonitor)"),
  ];
}
