/**
 * Builders shared by the serving workloads: the ServiceMonitor that scrapes one endpoint of a
 * Service, and the KEDA ScaledObject around a Deployment. Each workload supplies its names,
 * labels, endpoint and triggers; the object shapes live here once.
 */
import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

export function serviceMonitor(meta: ObjectMeta, selector: Record<string, string>, endpoint: { port: string; path: string }): IServiceMonitor {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { ...meta },
    spec: { selector: { matchLabels: selector }, endpoints: [{ ...endpoint, interval: "15s" }] },
  };
}

type ScaledObjectSpec = IScaledObject["spec"];

export interface ScaledObjectArgs {
  readonly min: number;
  readonly max: number;
  readonly pollingInterval: number;
  readonly cooldownPeriod: number;
  readonly triggers: ScaledObjectSpec["triggers"];
  readonly advanced?: ScaledObjectSpec["advanced"];
}

/** A ScaledObject for the Deployment of the same name. */
export function scaledObject(meta: ObjectMeta, a: ScaledObjectArgs): IScaledObject {
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { ...meta },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: meta.name },
      minReplicaCount: a.min,
      maxReplicaCount: a.max,
      pollingInterval: a.pollingInterval,
      cooldownPeriod: a.cooldownPeriod,
      ...(a.advanced ? { advanced: a.advanced } : {}),
      triggers: a.triggers,
    },
  };
}
