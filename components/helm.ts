/**
 * Helm releases and namespaces, the way every component installs an upstream chart: the chart
 * and version come from infra/catalog/versions.ts, nothing else names a version.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ChartPin } from "../infra/catalog/versions";
import { recommendedLabels } from "./labels";

export interface ReleaseSpec {
  readonly name: string;
  readonly namespace: pulumi.Input<string>;
  readonly pin: ChartPin;
  readonly values: Record<string, unknown>;
  /** CRDs come from a separate release (so they upgrade); skip the chart's own crds/. */
  readonly skipCrds?: boolean;
  /** Seconds to wait for the release to become ready. */
  readonly timeout?: number;
}

/** The helm.v3.Release arguments for a pinned chart. Pure, so tests read the values directly. */
export function releaseArgs(spec: ReleaseSpec): k8s.helm.v3.ReleaseArgs {
  const oci = spec.pin.repo.startsWith("oci://");
  return {
    name: spec.name,
    namespace: spec.namespace,
    chart: oci ? `${spec.pin.repo}/${spec.pin.chart}` : spec.pin.chart,
    version: spec.pin.version,
    ...(oci ? {} : { repositoryOpts: { repo: spec.pin.repo } }),
    values: spec.values,
    skipCrds: spec.skipCrds ?? false,
    atomic: true,
    cleanupOnFail: true,
    timeout: spec.timeout ?? 600,
    maxHistory: 10,
  };
}

export function release(resourceName: string, spec: ReleaseSpec, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(resourceName, releaseArgs(spec), opts);
}

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** A namespace with the recommended labels and a Pod Security Admission level. */
export function namespaceArgs(name: string, component: string, podSecurity: PodSecurityLevel, extraLabels: Record<string, string> = {}): k8s.core.v1.NamespaceArgs {
  return {
    metadata: {
      name,
      labels: {
        ...recommendedLabels(name, component),
        "pod-security.kubernetes.io/enforce": podSecurity,
        "pod-security.kubernetes.io/warn": podSecurity === "privileged" ? "baseline" : "restricted",
        ...extraLabels,
      },
    },
  };
}
