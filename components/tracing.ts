/**
 * Tracing: an OpenTelemetry Collector (OTLP in on 4317/4318, head sampling, batching) that
 * exports to Jaeger v2 (all-in-one, memory or badger storage). Workloads send OTLP to the
 * collector; `otlpEndpoint` is what they are given (vLLM's --otlp-traces-endpoint, TEI's
 * --otlp-endpoint).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, IMAGES } from "../infra/catalog/versions";
import type { PlatformConfig } from "../infra/config";
import { release } from "./helm";
import { recommendedLabels } from "./labels";
import { NAMESPACES } from "./namespaces";
import { flow, tcp, type Flow, type PodPeer } from "./flows";
import { PROMETHEUS, WORKLOAD } from "./network-security";

export const TRACING_NS = NAMESPACES.tracing.name;
export const COLLECTOR_NAME = "otel-collector";
export const JAEGER_NAME = "jaeger";
/** OTLP/gRPC endpoint of the collector, for workloads. */
export const OTLP_GRPC_ENDPOINT = `http://${COLLECTOR_NAME}.${TRACING_NS}.svc:4317`;
export const JAEGER_QUERY_URL = `http://${JAEGER_NAME}.${TRACING_NS}.svc:16686`;
const BADGER_PVC = "jaeger-badger";

export function collectorValues(t: PlatformConfig["observability"]["tracing"], replicas: number): Record<string, unknown> {
  return {
    fullnameOverride: COLLECTOR_NAME,
    mode: "deployment",
    replicaCount: replicas,
    // contrib: it has the probabilistic_sampler processor.
    image: { repository: IMAGES.otelCollectorContrib.repository, tag: IMAGES.otelCollectorContrib.tag },
    config: {
      receivers: {
        otlp: { protocols: { grpc: { endpoint: "${env:MY_POD_IP}:4317" }, http: { endpoint: "${env:MY_POD_IP}:4318" } } },
        jaeger: null,
        zipkin: null,
        prometheus: null,
      },
      processors: {
        probabilistic_sampler: { sampling_percentage: Math.round(t.samplingRatio * 10000) / 100 },
        batch: { send_batch_size: 1024, timeout: "5s" },
      },
      exporters: { "otlp/jaeger": { endpoint: `${JAEGER_NAME}.${TRACING_NS}.svc:4317`, tls: { insecure: true } } },
      service: {
        pipelines: {
          traces: { receivers: ["otlp"], processors: ["memory_limiter", "probabilistic_sampler", "batch"], exporters: ["otlp/jaeger"] },
          metrics: null,
          logs: null,
        },
      },
    },
    ports: {
      "jaeger-compact": { enabled: false },
      "jaeger-thrift": { enabled: false },
      "jaeger-grpc": { enabled: false },
      zipkin: { enabled: false },
      metrics: { enabled: true },
    },
    serviceMonitor: { enabled: true },
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
  };
}

/** Jaeger v2 all-in-one; badger keeps traces on a gp3 volume across restarts. */
export function jaegerValues(storage: "memory" | "badger"): Record<string, unknown> {
  const jaeger: Record<string, unknown> = { replicas: 1, resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "2Gi" } } };
  if (storage === "memory") return { fullnameOverride: JAEGER_NAME, jaeger };
  return {
    fullnameOverride: JAEGER_NAME,
    jaeger: {
      ...jaeger,
      extraVolumes: [{ name: "badger", persistentVolumeClaim: { claimName: BADGER_PVC } }],
      extraVolumeMounts: [{ name: "badger", mountPath: "/badger" }],
    },
    // jaegertracing/jaeger cmd/jaeger/config-badger.yaml, with listeners on 0.0.0.0.
    userconfig: {
      service: {
        extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
        pipelines: { traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] } },
      },
      extensions: {
        healthcheckv2: { use_v2: true, http: { endpoint: "0.0.0.0:13133" } },
        jaeger_query: { storage: { traces: "badger_store" } },
        jaeger_storage: {
          backends: { badger_store: { badger: { directories: { keys: "/badger/keys", values: "/badger/values" }, ephemeral: false, ttl: { spans: "72h" } } } },
        },
      },
      receivers: { otlp: { protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } } } },
      processors: { batch: {} },
      exporters: { jaeger_storage_exporter: { trace_storage: "badger_store" } },
    },
  };
}

export interface TracingArgs {
  readonly config: PlatformConfig["observability"]["tracing"];
  readonly k8sProvider: k8s.Provider;
  readonly namespace: k8s.core.v1.Namespace;
  readonly monitoringCrds: pulumi.Resource;
}

export class Tracing extends pulumi.ComponentResource {
  public readonly otlpEndpoint: string = OTLP_GRPC_ENDPOINT;
  public readonly jaegerUrl: string = JAEGER_QUERY_URL;

  constructor(name: string, args: TracingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:observability:Tracing", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.k8sProvider };
    const deps: pulumi.Resource[] = [args.namespace];
    if (args.config.jaegerStorage === "badger") {
      deps.push(
        new k8s.core.v1.PersistentVolumeClaim(
          `${name}-badger`,
          {
            metadata: { name: BADGER_PVC, namespace: TRACING_NS, labels: recommendedLabels(BADGER_PVC, "observability") },
            spec: { accessModes: ["ReadWriteOnce"], storageClassName: "gp3", resources: { requests: { storage: "20Gi" } } },
          },
          { ...k8sOpts, dependsOn: [args.namespace] },
        ),
      );
    }
    const jaeger = release(`${name}-jaeger`, { name: JAEGER_NAME, namespace: TRACING_NS, pin: CHARTS.jaeger, values: jaegerValues(args.config.jaegerStorage) }, { ...k8sOpts, dependsOn: deps });
    release(
      `${name}-collector`,
      { name: COLLECTOR_NAME, namespace: TRACING_NS, pin: CHARTS.otelCollector, values: collectorValues(args.config, args.config.collectorReplicas) },
      { ...k8sOpts, dependsOn: [args.namespace, args.monitoringCrds, jaeger] },
    );
    this.registerOutputs({ otlpEndpoint: this.otlpEndpoint, jaegerUrl: this.jaegerUrl });
  }
}

export const COLLECTOR: PodPeer = { namespace: TRACING_NS, pods: WORKLOAD.collector };
const JAEGER: PodPeer = { namespace: TRACING_NS, pods: WORKLOAD.jaeger };

/** A workload that sends OTLP traces to the collector (gRPC 4317; HTTP 4318 for SDKs that use it). */
export function otlpFlow(name: string, from: PodPeer): Flow {
  return flow(`${name}-to-otel-collector`, from, COLLECTOR, tcp(4317, 4318), "OTLP traces to the collector");
}

/**
 * Tracing's own flows: the collector exports to Jaeger over OTLP gRPC, Grafana's Jaeger
 * datasource queries Jaeger (16686), Prometheus scrapes the collector's own metrics (8888,
 * ports.metrics.enabled above).
 */
export function tracingFlows(): Flow[] {
  return [
    flow("otel-collector-to-jaeger", COLLECTOR, JAEGER, tcp(4317), "the collector exports traces to Jaeger"),
    flow("grafana-to-jaeger", { namespace: NAMESPACES.monitoring.name, pods: WORKLOAD.grafana }, JAEGER, tcp(16686), "Grafana's Jaeger datasource"),
    flow("prometheus-scrapes-otel-collector", PROMETHEUS, COLLECTOR, tcp(8888), "Prometheus scrapes the collector (serviceMonitor.enabled)"),
  ];
}
