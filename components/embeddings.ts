/**
 * Embeddings: Hugging Face text-embeddings-inference (TEI), one Deployment per role.
 * The model comes from the platform's weights bucket (components/weights.ts), never from the Hub:
 * an init container copies it into an emptyDir through a read-only Pod Identity role, and TEI
 * starts from that directory (a local --model-id skips every Hub call: TEI v1.9.3
 * router/src/lib.rs `run`, "Using a local model"). TEI pods need no token and no internet.
 * - embed: BAAI/bge-large-en-v1.5 with CLS pooling (what the model's 1_Pooling config defines;
 *   the seed's `--pooling mean` is wrong for BGE);
 * - rerank: Alibaba-NLP/gte-reranker-modernbert-base by default (8192 tokens), served by TEI's /rerank (replaces the seed's in-process
 *   cross-encoder).
 * The image tag follows the GPU architecture of the pool (A10G 86-, L4/L40S 89-, A100 plain,
 * H100 hopper-) or the CPU image. Probes, a PDB, a ServiceMonitor and KEDA on te_queue_size.
 * On CPU, the requests come from `cpuResources` and the nodes from `cpuNodes` (Karpenter's CPU
 * NodePool, or the system node group in small setups such as dev).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import type { InstanceType } from "../infra/catalog/instances";
import { METRICS as M } from "../infra/catalog/metrics";
import { MODELS, type EncoderModel } from "../infra/catalog/models";
import { IMAGES, imageRef, type ImagePin } from "../infra/catalog/versions";
import type { EncoderConfig, GpuPoolConfig } from "../infra/config";
import { recommendedLabels } from "./labels";
import { modelNodeAffinity, resourcesFor, smallestInstance } from "./model-server";
import { PORTS } from "./network-security";
import { GPU_TAINT, POOL_LABEL, SYSTEM_POOL } from "./node-groups";
import { s3FetchContainer } from "./weights";
import { metricsServicePorts, scaledObject, serviceMonitor } from "./workload-objects";
import { containerSecurityContext, podSecurityContext, type Hardening } from "./pod-security";

export type EncoderRole = "embed" | "rerank";
export const TEI_METRICS_PORT = 9000;
/** TEI's service account: its Pod Identity association reads the weights bucket (components/weights.ts). */
export const TEI_SA = "tei";
/** The emptyDir the model is copied into; the TEI image's HUGGINGFACE_HUB_CACHE is /data too. */
export const TEI_DATA = "/data";

/** The TEI image for a GPU architecture (TEI README "Docker Images"), or the CPU image. */
export function teiImage(t: InstanceType | undefined): ImagePin {
  if (!t?.gpu) return IMAGES.teiCpu;
  switch (t.gpu.computeCapability) {
    case "8.0":
      return IMAGES.teiAmpere80;
    case "8.6":
      return IMAGES.teiAmpere86;
    case "8.9":
      return IMAGES.teiAda89;
    case "9.0":
      return IMAGES.teiHopper;
  }
}

export interface EncoderSpec {
  readonly role: EncoderRole;
  readonly cfg: EncoderConfig;
  readonly model: EncoderModel;
  /** The GPU pool, or undefined for CPU placement. */
  readonly pool?: { readonly name: string; readonly config: GpuPoolConfig };
  readonly namespace: string;
  readonly prometheusUrl: string;
  readonly otlpEndpoint?: string;
  /** s3://bucket/<repo>/<revision>/: the model's files as the weights sync Job stored them. */
  readonly weightsUri: pulumi.Input<string>;
  readonly region: string;
  /** The namespace is in the Istio mesh (STRICT mTLS): metrics are scraped from the sidecar's merged port. */
  readonly istio: boolean;
}

export function teiName(role: EncoderRole): string {
  return `tei-${role}`;
}

const component = (role: EncoderRole) => (role === "embed" ? "embeddings" : "reranker");
export const teiLabels = (role: EncoderRole) => recommendedLabels(teiName(role), component(role));
const selector = (role: EncoderRole) => ({ "app.kubernetes.io/name": teiName(role), "app.kubernetes.io/component": component(role) });

/** The local directory TEI serves the model from. */
export function teiModelDir(model: EncoderModel): string {
  return `${TEI_DATA}/${model.key}`;
}

/**
 * TEI's arguments (router/src/main.rs at v1.9.3):
 * - `--model-id` a local directory, filled from S3 before TEI starts;
 * - `--served-model-name` the catalog key (else TEI reports the path as the model name);
 * - `--auto-truncate true` (the default, stated): a request that leaves `truncate` unset is cut
 *   to the model's max input length instead of refused (router/src/http/server.rs:
 *   `req.truncate.unwrap_or(info.auto_truncate)`; /v1/embeddings always uses `info.auto_truncate`).
 *   A request that sends `"truncate": false` is still refused above it (core/src/tokenization.rs
 *   `encode_input`): LiteLLM's huggingface/ rerank does, see components/gateway.ts.
 */
export function teiArgs(s: EncoderSpec): string[] {
  return [
    "--model-id", teiModelDir(s.model),
    "--served-model-name", s.model.key,
    "--auto-truncate", "true",
    ...(s.model.pooling ? ["--pooling", s.model.pooling] : []),
    "--port", String(PORTS.tei),
    "--prometheus-port", String(TEI_METRICS_PORT),
    "--max-batch-tokens", String(s.cfg.maxBatchTokens),
    "--max-concurrent-requests", String(s.cfg.maxConcurrentRequests),
    "--json-output",
    ...(s.otlpEndpoint ? ["--otlp-endpoint", s.otlpEndpoint, "--otlp-service-name", teiName(s.role)] : []),
  ];
}

/** TEI's image defines no non-root user (its Dockerfile has no USER); the embeddings namespace is baseline. */
export const TEI_HARDENING: Hardening = {
  root: { why: "ghcr.io/huggingface/text-embeddings-inference runs as root" },
  writableRootFilesystem: { why: "TEI and its tokenizer write caches outside /data" },
};

/** A CPU replica's requests and limits: `embeddings.<role>.cpuResources` (default 2 CPU / 4 GiB, limits 4 / 6 GiB). */
export function teiCpuResources(cfg: EncoderConfig): { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } } {
  const r = cfg.cpuResources;
  return { requests: { cpu: r.requests.cpu, memory: r.requests.memory }, limits: { cpu: r.limits.cpu, memory: r.limits.memory } };
}

/**
 * Where a CPU replica runs (`embeddings.<role>.cpuNodes`): Karpenter's CPU NodePool (its
 * template label llm-platform.io/pool=cpu, components/karpenter.ts `nodePool`) or the system
 * node group (llm-platform.io/pool=system, `systemNodeGroupSpec`). Either way a required term:
 * a CPU pod never lands on a GPU node (those are tainted too).
 */
export function teiCpuNodeAffinity(cfg: EncoderConfig): { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchExpressions: { key: string; operator: string; values: string[] }[] }[] } } {
  const pool = cfg.cpuNodes === "system" ? SYSTEM_POOL : "cpu";
  return { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: POOL_LABEL, operator: "In", values: [pool] }] }] } };
}

export function teiDeployment(s: EncoderSpec): k8s.apps.v1.DeploymentArgs {
  const name = teiName(s.role);
  const t = s.pool ? smallestInstance(s.pool.config) : undefined;
  const health = { httpGet: { path: "/health", port: PORTS.tei } };
  const gpu = s.pool !== undefined;
  const resources = gpu ? resourcesFor(s.pool.config, 1) : teiCpuResources(s.cfg);
  return {
    metadata: { name, namespace: s.namespace, labels: teiLabels(s.role) },
    spec: {
      replicas: Math.max(1, s.cfg.replicas.min),
      selector: { matchLabels: selector(s.role) },
      template: {
        metadata: {
          labels: teiLabels(s.role),
          // Istio merges these metrics into its plaintext :15020 endpoint under STRICT mTLS.
          annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(TEI_METRICS_PORT), "prometheus.io/path": "/metrics" },
        },
        spec: {
          affinity: {
            nodeAffinity: gpu ? modelNodeAffinity(s.pool.name, s.pool.config, 1) : teiCpuNodeAffinity(s.cfg),
          },
          ...(gpu ? { tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: "NoSchedule" }] } : {}),
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector(s.role) } }],
          serviceAccountName: TEI_SA,
          securityContext: podSecurityContext(TEI_HARDENING),
          initContainers: [s3FetchContainer({ name: "model", source: s.weightsUri, target: teiModelDir(s.model), volume: "data", mountPath: TEI_DATA, region: s.region })],
          containers: [
            {
              name: "tei",
              image: imageRef(teiImage(t)),
              args: teiArgs(s),
              ports: [
                { name: "http", containerPort: PORTS.tei, protocol: "TCP" },
                { name: "metrics", containerPort: TEI_METRICS_PORT, protocol: "TCP" },
              ],
              resources,
              securityContext: containerSecurityContext(TEI_HARDENING),
              // The HTTP server starts after the model is loaded (the init container copied it).
              startupProbe: { ...health, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 36 },
              readinessProbe: { ...health, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
              livenessProbe: { ...health, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
              volumeMounts: [{ name: "data", mountPath: "/data" }],
            },
          ],
          volumes: [{ name: "data", emptyDir: { sizeLimit: `${Math.ceil(s.model.weightsGiB * 3)}Gi` } }],
        },
      },
    },
  };
}

export function teiService(s: EncoderSpec): k8s.core.v1.ServiceArgs {
  return {
    metadata: { name: teiName(s.role), namespace: s.namespace, labels: teiLabels(s.role) },
    spec: {
      selector: selector(s.role),
      ports: [
        { name: "http", port: PORTS.tei, targetPort: PORTS.tei, protocol: "TCP" },
        { name: "metrics", port: TEI_METRICS_PORT, targetPort: TEI_METRICS_PORT, protocol: "TCP" },
        ...metricsServicePorts(s.istio),
      ],
    },
  };
}

export function teiServiceMonitor(s: EncoderSpec): IServiceMonitor {
  // Under Istio the merged :15020 endpoint carries TEI's metrics (the pod's prometheus.io/port
  // names TEI_METRICS_PORT); the target labels namespace and service are the same either way, so
  // the KEDA query on te_queue_size{namespace, service} reads the same series.
  return serviceMonitor({ name: teiName(s.role), namespace: s.namespace, labels: teiLabels(s.role) }, selector(s.role), { port: "metrics", path: "/metrics" }, { istio: s.istio });
}

export function teiScaledObject(s: EncoderSpec): IScaledObject {
  return scaledObject(
    { name: teiName(s.role), namespace: s.namespace, labels: teiLabels(s.role) },
    {
      min: s.cfg.replicas.min,
      max: s.cfg.replicas.max,
      pollingInterval: 15,
      cooldownPeriod: 300,
      triggers: [
        {
          type: "prometheus",
          name: "queue-size",
          metricType: "AverageValue",
          metadata: {
            serverAddress: s.prometheusUrl,
            query: `sum(${M.tei.queueSize}{namespace="${s.namespace}", service="${teiName(s.role)}"})`,
            threshold: String(s.cfg.queueSizeTarget),
            activationThreshold: "1",
          },
        },
      ],
    },
  );
}

export function teiPdb(s: EncoderSpec): k8s.policy.v1.PodDisruptionBudgetArgs {
  return { metadata: { name: teiName(s.role), namespace: s.namespace, labels: teiLabels(s.role) }, spec: { maxUnavailable: 1, selector: { matchLabels: selector(s.role) } } };
}

export function encoderModel(cfg: EncoderConfig): EncoderModel {
  return MODELS[cfg.model as keyof typeof MODELS] as EncoderModel;
}

export interface EmbeddingsArgs {
  readonly specs: readonly EncoderSpec[];
  readonly k8sProvider: k8s.Provider;
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** What one role's Deployment also waits for: its model's sync Job, the reader association. */
  readonly roleDependsOn?: Readonly<Partial<Record<EncoderRole, readonly pulumi.Input<pulumi.Resource>[]>>>;
}

export class Embeddings extends pulumi.ComponentResource {
  public readonly urls: Readonly<Partial<Record<EncoderRole, string>>>;

  constructor(name: string, args: EmbeddingsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:serving:Embeddings", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.k8sProvider, dependsOn: args.dependsOn };
    const urls: Partial<Record<EncoderRole, string>> = {};
    for (const s of args.specs) {
      const base = `${name}-${s.role}`;
      const d = new k8s.apps.v1.Deployment(`${base}-deployment`, teiDeployment(s), {
        ...k8sOpts,
        dependsOn: [...args.dependsOn, ...(args.roleDependsOn?.[s.role] ?? [])],
        ignoreChanges: ["spec.replicas"],
      });
      new k8s.core.v1.Service(`${base}-service`, teiService(s), k8sOpts);
      new k8s.policy.v1.PodDisruptionBudget(`${base}-pdb`, teiPdb(s), k8sOpts);
      new k8s.apiextensions.CustomResource(`${base}-monitor`, teiServiceMonitor(s), k8sOpts);
      new k8s.apiextensions.CustomResource(`${base}-scaler`, teiScaledObject(s), { ...k8sOpts, dependsOn: [d, ...args.dependsOn] });
      urls[s.role] = `http://${teiName(s.role)}.${s.namespace}.svc:${PORTS.tei}`;
    }
    this.urls = urls;
    this.registerOutputs({ urls });
  }
}
