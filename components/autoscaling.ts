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
