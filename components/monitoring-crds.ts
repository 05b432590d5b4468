/**
 * MonitoringCrds: the Prometheus-operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule...),
 * installed from their own chart right after the cluster.
 *
 * Every later layer ships ServiceMonitors and rules, so the CRDs must exist before any of them,
 * and before the kube-prometheus-stack release that serves them. A separate release also lets
 * the CRDs upgrade with the pinned version (Helm never upgrades a chart's crds/ directory).
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../infra/catalog/versions";
import { release } from "./helm";

export class MonitoringCrds extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: { readonly k8sProvider: k8s.Provider }, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:observability:MonitoringCrds", name, {}, opts);
    this.release = release(
      `${name}-prometheus-operator`,
      { name: "prometheus-operator-crds", namespace: "kube-system", pin: CHARTS.prometheusOperatorCrds, values: {} },
      { parent: this, provider: args.k8sProvider },
    );
    this.registerOutputs({});
  }
}
