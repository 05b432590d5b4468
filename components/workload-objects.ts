import type * as k8s from "@pulumi/kubernetes";
/**
 * Builders shared by the serving workloads: the ServiceMonitor that scrapes one endpoint of a
 * Service, and the KEDA ScaledObject around a Deployment. Each workload supplies its names,
 * labels, endpoint and triggers; the object shapes live here once.
 *
 * Metrics under Istio STRICT mTLS: Prometheus runs outside the mesh, so a plaintext scrape of an
 * app port on a meshed pod is refused by its sidecar. Every meshed workload is scraped the same
 * way instead, through Istio's metrics merging (istio.io, "Prometheus integration", Option 1:
 * Metrics merging; meshConfig.enablePrometheusMerge, the istiod chart's default at 1.30.3
 * (istio-discovery values.yaml) and set explicitly in network-security.ts):
 * - the pod template carries `prometheus.io/scrape|port|path` naming the app's own endpoint
 *   (`metricsAnnotations`); the injector saves them into the sidecar (ISTIO_PROMETHEUS_ANNOTATIONS)
 *   and the agent serves the app's metrics merged with Envoy's and its own on :15020
 *   `/stats/prometheus`, in plaintext (istio pilot/cmd/pilot-agent/status/server.go `handleStats`:
 *   one app port and path per pod). Without the annotations only Envoy's metrics are there;
 *   cluster-model check 2 (tests/cluster/monitoring.ts) reports that;
 * - :15020 is excluded from inbound capture (the injected redirection runs `istio-iptables ...
 *   -d 15090,15021,15020`; with Istio CNI the same exclusion comes from the
 *   `traffic.sidecar.istio.io/excludeInboundPorts` annotation the injector writes), so the
 *   sidecar's mTLS does not apply to it and an out-of-mesh Prometheus can scrape it;
 * - the Service exposes 15020 as `metrics-merged` (`metricsServicePorts`), and the ServiceMonitor
 *   scrapes that port (`scrapeEndpoint`).
 * The merged text is the app's exposition unchanged (no relabelling by the agent), and the target
 * labels come from the ServiceMonitor (namespace, service, pod, endpoint), so queries on
 * `{namespace, service}` read the same series either way.
 */
import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

/** Istio's sidecar serves the app's and Envoy's metrics merged here, in plaintext. */
export const ISTIO_MERGED_METRICS_PORT = 15020;
export const ISTIO_MERGED_METRICS_PATH = "/stats/prometheus";
export const MERGED_METRICS_PORT_NAME = "metrics-merged";

/** Where the app serves its own metrics: a Service port name, the container port, the path. */
export interface MetricsEndpoint {
  /** The Service port name that carries the app's metrics (used without Istio). */
  readonly port: string;
  /** The container port number behind it (named in the prometheus.io/port annotation). */
  readonly containerPort: number;
  readonly path: string;
}

/** The pod annotations Istio's metrics merging reads to find the app's endpoint. */
export function metricsAnnotations(m: Pick<MetricsEndpoint, "containerPort" | "path">): Record<string, string> {
  return { "prometheus.io/scrape": "true", "prometheus.io/port": String(m.containerPort), "prometheus.io/path": m.path };
}

/** The extra Service port a meshed workload needs for its merged metrics (none without Istio). */
export function metricsServicePorts(istio: boolean): { name: string; port: number; targetPort: number; protocol: string }[] {
  return istio ? [{ name: MERGED_METRICS_PORT_NAME, port: ISTIO_MERGED_METRICS_PORT, targetPort: ISTIO_MERGED_METRICS_PORT, protocol: "TCP" }] : [];
}

/** The endpoint Prometheus scrapes: the app's port, or the sidecar's merged port under Istio. */
export function scrapeEndpoint(m: Pick<MetricsEndpoint, "port" | "path">, istio: boolean): { port: string; path: string } {
  return istio ? { port: MERGED_METRICS_PORT_NAME, path: ISTIO_MERGED_METRICS_PATH } : { port: m.port, path: m.path };
}

export interface ServiceMonitorOptions {
  /** The pods are in the mesh (Istio STRICT): scrape the merged plaintext port instead. */
  readonly istio?: boolean;
  /** Pod labels copied onto the scraped series. */
  readonly podTargetLabels?: readonly string[];
  readonly interval?: string;
}

export function serviceMonitor(meta: ObjectMeta, selector: Record<string, string>, endpoint: { port: string; path: string }, opts: ServiceMonitorOptions = {}): IServiceMonitor {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { ...meta },
    spec: {
      selector: { matchLabels: selector },
      ...(opts.podTargetLabels?.length ? { podTargetLabels: [...opts.podTargetLabels] } : {}),
      endpoints: [{ ...scrapeEndpoint(endpoint, opts.istio ?? false), interval: opts.interval ?? "15s" }],
    },
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

/**
 * A CPU HorizontalPodAutoscaler for the Deployment of the same name: only for the CPU-bound
 * services we ship (safety, RAG), never for GPU pods (KEDA scales those on their own signals).
 */
export function cpuHpa(meta: ObjectMeta, a: { readonly min: number; readonly max: number; readonly targetCpuUtilization: number }): k8s.autoscaling.v2.HorizontalPodAutoscalerArgs {
  return {
    metadata: { ...meta },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: meta.name },
      minReplicas: a.min,
      maxReplicas: a.max,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: a.targetCpuUtilization } } }],
    },
  };
}
