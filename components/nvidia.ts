/**
 * NvidiaRuntime: what GPU nodes need beyond the AL2023 NVIDIA AMI (which ships the driver and
 * container toolkit but not the device plugin):
 * - the NVIDIA device plugin, which advertises nvidia.com/gpu (without it Karpenter never sees a
 *   GPU node as initialized);
 * - the DCGM exporter with its ServiceMonitor (GPU utilization, memory, XID errors);
 * - the EFA device plugin, when a pool uses EFA.
 * They run in the `nvidia` namespace at Pod Security level privileged: they read host devices.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../infra/catalog/versions";
import { release } from "./helm";
import { NAMESPACES } from "./namespaces";
import { GPU_PRESENT_LABEL, GPU_TAINT } from "./node-groups";
import { flow, tcp, type Flow } from "./flows";
import { PROMETHEUS } from "./network-security";

export const NVIDIA_NAMESPACE = NAMESPACES.nvidia.name;

/**
 * The device plugin chart's default node affinity (NVIDIA/k8s-device-plugin
 * deployments/helm/nvidia-device-plugin/values.yaml, 0.20.0): a node must carry one of these
 * labels. NFD and GFD are not installed, so our GPU nodes carry nvidia.com/gpu.present=true.
 */
export const DEVICE_PLUGIN_DEFAULT_AFFINITY_TERMS: readonly { key: string; values: readonly string[] }[] = [
  { key: "feature.node.kubernetes.io/pci-10de.present", values: ["true"] },
  { key: "feature.node.kubernetes.io/cpu-model.vendor_id", values: ["NVIDIA"] },
  { key: GPU_PRESENT_LABEL, values: ["true"] },
];

const gpuToleration = { key: GPU_TAINT.key, operator: "Exists", effect: "NoSchedule" };

export function devicePluginValues(): Record<string, unknown> {
  return {
    // Keep the chart's default affinity (see DEVICE_PLUGIN_DEFAULT_AFFINITY_TERMS) and tolerations.
    gfd: { enabled: false },
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
  };
}

export function dcgmExporterValues(): Record<string, unknown> {
  return {
    serviceMonitor: { enabled: true, interval: "15s", additionalLabels: { "app.kubernetes.io/part-of": "llm-platform" } },
    // GPU metrics carry the pod using them (per-model GPU dashboards) with no value to set: chart
    // 4.8.2 always sets DCGM_EXPORTER_KUBERNETES=true and mounts the kubelet pod-resources socket
    // (NVIDIA/dcgm-exporter deployment/templates/daemonset.yaml); `mapPodsMetrics` was removed (#153).
    nodeSelector: { [GPU_PRESENT_LABEL]: "true" },
    tolerations: [gpuToleration],
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
  };
}

export function efaDevicePluginValues(): Record<string, unknown> {
  return { tolerations: [gpuToleration], resources: { requests: { cpu: "10m", memory: "20Mi" }, limits: { memory: "64Mi" } } };
}

export interface NvidiaRuntimeArgs {
  readonly k8sProvider: k8s.Provider;
  readonly namespace: k8s.core.v1.Namespace;
  readonly efa: boolean;
  /** The ServiceMonitor CRD must exist before DCGM's chart renders one. */
  readonly monitoringCrds: pulumi.Resource;
}

export class NvidiaRuntime extends pulumi.ComponentResource {
  public readonly devicePlugin: k8s.helm.v3.Release;
  public readonly dcgmExporter: k8s.helm.v3.Release;

  constructor(name: string, args: NvidiaRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:gpu:NvidiaRuntime", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.k8sProvider };
    const ns = args.namespace;
    const inNs = { ...k8sOpts, dependsOn: [ns] };
    this.devicePlugin = release(`${name}-device-plugin`, { name: "nvidia-device-plugin", namespace: NVIDIA_NAMESPACE, pin: CHARTS.nvidiaDevicePlugin, values: devicePluginValues() }, inNs);
    this.dcgmExporter = release(
      `${name}-dcgm-exporter`,
      { name: "dcgm-exporter", namespace: NVIDIA_NAMESPACE, pin: CHARTS.dcgmExporter, values: dcgmExporterValues() },
      { ...k8sOpts, dependsOn: [ns, args.monitoringCrds] },
    );
    if (args.efa) {
      release(`${name}-efa-device-plugin`, { name: "aws-efa-k8s-device-plugin", namespace: NVIDIA_NAMESPACE, pin: CHARTS.efaDevicePlugin, values: efaDevicePluginValues() }, inNs);
    }
    this.registerOutputs({});
  }
}

/** The GPU runtime's flows: only the DCGM exporter is reached, by Prometheus on 9400 (dcgm-exporter 4.8.2 values). */
export function nvidiaFlows(): Flow[] {
  return [flow("prometheus-scrapes-dcgm-exporter", PROMETHEUS, { namespace: NVIDIA_NAMESPACE, pods: { "app.kubernetes.io/name": "dcgm-exporter" } }, tcp(9400), "GPU metrics")];
}
