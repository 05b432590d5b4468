/**
 * Placement facts of chart pods that tests/cluster/charts.ts has no renderer for, and that the
 * scheduling check (tests/cluster/scheduling.ts) needs: where the chart puts its pods, from the
 * release values the program sets and the chart's own defaults at the pinned version.
 *
 * Each row names the chart template or values it comes from. Only nodeSelector, tolerations,
 * required node affinity and requests are modelled.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { reference } from "../support/reference";
import type { PodTemplate, Release } from "./model";

/** The pinned chart's values.yaml from ../shared/reference/charts/<chart>/, when the reference data is present. */
function referenceValues(chart: string): Record<string, any> | undefined {
  const ref = reference(path.join("charts", chart));
  const file = path.join(ref.dir, "values.yaml");
  return ref.present && fs.existsSync(file) ? (parseYaml(fs.readFileSync(file, "utf8")) as Record<string, any>) : undefined;
}

const pod = (r: Release, origin: string, spec: Record<string, any>): PodTemplate => ({
  origin: `chart ${r.chart}: ${origin}`,
  namespace: r.namespace,
  labels: { "app.kubernetes.io/name": r.chart, "app.kubernetes.io/instance": r.name },
  annotations: {},
  spec,
  release: r.name,
});

const container = (resources: unknown) => [{ name: "main", ...(resources ? { resources } : {}) }];

type Placement = (r: Release) => PodTemplate[];

const PLACEMENTS: Record<string, Placement> = {
  // aws/karpenter-provider-aws charts/karpenter 1.14.1: templates/deployment.yaml takes
  // nodeSelector, affinity and tolerations from values. Default affinity: karpenter.sh/nodepool
  // DoesNotExist (never on a node Karpenter manages); default tolerations: CriticalAddonsOnly.
  karpenter: (r) => [
    pod(r, "controller Deployment", {
      nodeSelector: r.values.nodeSelector ?? { "kubernetes.io/os": "linux" },
      affinity: r.values.affinity ?? {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "karpenter.sh/nodepool", operator: "DoesNotExist" }] }] } },
      },
      tolerations: r.values.tolerations ?? [{ key: "CriticalAddonsOnly", operator: "Exists" }],
      containers: container(r.values.controller?.resources),
    }),
  ],

  // NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin 0.20.0: templates/daemonset-device-plugin.yml;
  // values.yaml default affinity (NFD labels or nvidia.com/gpu.present=true) and tolerations
  // (CriticalAddonsOnly, nvidia.com/gpu Exists NoSchedule).
  "nvidia-device-plugin": (r) => [
    pod(r, "device plugin DaemonSet", {
      ...(r.values.nodeSelector ? { nodeSelector: r.values.nodeSelector } : {}),
      affinity: r.values.affinity ?? {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "feature.node.kubernetes.io/pci-10de.present", operator: "In", values: ["true"] }] },
              { matchExpressions: [{ key: "feature.node.kubernetes.io/cpu-model.vendor_id", operator: "In", values: ["NVIDIA"] }] },
              { matchExpressions: [{ key: "nvidia.com/gpu.present", operator: "In", values: ["true"] }] },
            ],
          },
        },
      },
      tolerations: r.values.tolerations ?? [
        { key: "CriticalAddonsOnly", operator: "Exists" },
        { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
      ],
      containers: container(r.values.resources),
    }),
  ],

  // NVIDIA/dcgm-exporter deployment/templates/daemonset.yaml (4.8.2): nodeSelector, tolerations, affinity from values.
  "dcgm-exporter": (r) => [
    pod(r, "exporter DaemonSet", {
      nodeSelector: r.values.nodeSelector ?? {},
      tolerations: r.values.tolerations ?? [],
      ...(r.values.affinity ? { affinity: r.values.affinity } : {}),
      containers: container(r.values.resources),
    }),
  ],

  // aws/eks-charts stable/aws-efa-k8s-device-plugin: templates/daemonset.yaml requires
  // node.kubernetes.io/instance-type In values.supportedInstanceLabels (read from the pinned values).
  "aws-efa-k8s-device-plugin": (r) => {
    const labels = r.values.supportedInstanceLabels ?? referenceValues("aws-efa-k8s-device-plugin")?.supportedInstanceLabels;
    const terms = labels ? (labels.keys as string[]).map((key) => ({ matchExpressions: [{ key, operator: "In", values: labels.values }] })) : undefined;
    return [
      pod(r, "EFA device plugin DaemonSet", {
        nodeSelector: r.values.nodeSelector ?? {},
        tolerations: r.values.tolerations ?? [],
        ...(terms ? { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } } : {}),
        containers: container(r.values.resources),
      }),
    ];
  },

  // aws/eks-charts stable/aws-load-balancer-controller: templates/deployment.yaml, nodeSelector/tolerations/affinity from values.
  "aws-load-balancer-controller": (r) => [
    pod(r, "controller Deployment", {
      nodeSelector: r.values.nodeSelector ?? {},
      tolerations: r.values.tolerations ?? [],
      ...(r.values.affinity ? { affinity: r.values.affinity } : {}),
      containers: container(r.values.resources),
    }),
  ],
};

/** Placement-only pods of the releases whose charts have a row here. */
export function chartPlacementPods(releases: readonly Release[]): PodTemplate[] {
  return releases.flatMap((r) => PLACEMENTS[r.chart]?.(r) ?? []);
}

/** Charts with placement facts here. */
export const PLACED_CHARTS = Object.keys(PLACEMENTS);
