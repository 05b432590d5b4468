/**
 * ModelServer: one vLLM deployment per configured model.
 *
 * - Image pinned from the versions catalog; arguments valid for that version, from the model's
 *   recipe for the pool's GPU architecture (Hopper: the recipe's batching, prefix caching on).
 * - Weights: from the platform's S3 bucket with --load-format runai_streamer, through a read-only
 *   Pod Identity role; or downloaded from Hugging Face (models.<name>.weights.source).
 * - The API key arrives as VLLM_API_KEY from an ExternalSecret; probes use /health, which stays
 *   public with an API key (/v1/models does not).
 * - /dev/shm as a memory emptyDir, a startup probe sized to the load-time estimate, a preStop
 *   drain and a grace period that covers in-flight requests within the spot notice.
 * - Placement: the model's GPU pool (managed node group), or a Karpenter GPU node with the same
 *   GPU and memory; GPU toleration; zone spread; a priority class.
 * - Around it: a Service, a ServiceMonitor, a PodDisruptionBudget and a KEDA ScaledObject on
 *   vLLM's own signals (never a CPU/memory HPA on GPU pods).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { GPU_NODEPOOLS } from "../infra/capacity";
import { requireInstanceType, type InstanceType } from "../infra/catalog/instances";
import { METRICS as M } from "../infra/catalog/metrics";
import { type LlmModel, type LlmModelKey, type RecipeArgs } from "../infra/catalog/models";
import { READINESS_PROBE_PERIOD_SECONDS, STARTUP_PROBE_PERIOD_SECONDS, startupProbeBudgetSeconds } from "../infra/coldstart";
import { IMAGES, imageRef } from "../infra/catalog/versions";
import type { GpuPoolConfig, ModelConfig } from "../infra/config";
import { recommendedLabels } from "./labels";
import { GPU_TAINT, POOL_LABEL } from "./node-groups";
import { metricsServicePorts, scaledObject, serviceMonitor } from "./workload-objects";
import { PORTS, WORKLOAD } from "./network-security";
import { cronTriggers, predictiveTrigger, wakeTrigger } from "./model-scaling";
import { coldStartEstimate } from "../infra/coldstart";
import { replicaCapacity, SCALE_DOWN_WINDOW_SECONDS, SCALE_UP_WINDOW_SECONDS } from "../infra/scaling-sim";
import { SLO_ANNOTATIONS } from "../infra/unit-economics";
import { s3FetchContainer } from "./weights";
import { COMPILE_CACHE_MOUNT, COMPILE_CACHE_VOLUME, compileCacheEnv, compileCacheSeedContainer, compileCacheVolume } from "./compile-cache";
import { containerSecurityContext, podSecurityContext, type Hardening } from "./pod-security";

export const MODEL_SERVER_SA = "model-server";
export const API_KEY_SECRET = "vllm-api-key";
export const HF_TOKEN_SECRET = "huggingface-token";
export const SERVING_PRIORITY_CLASS = "llm-serving";
/** Istio's merged metrics port (components/workload-objects.ts explains the mechanism). */
export { ISTIO_MERGED_METRICS_PORT } from "./workload-objects";
/**
 * Spot capacity gets a 2-minute notice, and Karpenter starts the drain when the warning reaches it
 * (components/model-scaling.ts `drainProblems`; docs/scaling.md "Spot reclaim"): detection (~15 s)
 * + the grace period + a 10 s margin stay inside 120 s. preStop keeps the pod serving while its
 * endpoint leaves the Service; vLLM then has the rest of the grace to finish in-flight requests
 * (75 s, above every model's e2e p95 in the stacks; tests/scaling.test.ts).
 */
export const TERMINATION_GRACE_SECONDS = 90;
export const PRESTOP_DRAIN_SECONDS = 15;

export interface ModelServerSpec {
  readonly key: LlmModelKey;
  readonly model: LlmModel;
  readonly cfg: ModelConfig;
  readonly poolName: string;
  readonly pool: GpuPoolConfig;
  readonly namespace: string;
  /** s3://bucket/<repo>/<revision>/ when weights.source is s3. */
  readonly weightsUri?: pulumi.Input<string>;
  /** s3://bucket/<repo>/<revision>/tiktoken/ when weights.source is s3 and the model loads tiktoken encodings. */
  readonly tiktokenUri?: pulumi.Input<string>;
  /**
   * s3://bucket/compile-cache/<key>/ when warmStart.compileCache.enabled: vLLM's compile caches are
   * seeded from there into a node-local emptyDir (components/compile-cache.ts).
   */
  readonly compileCacheUri?: pulumi.Input<string>;
  readonly region: string;
  readonly prometheusUrl: string;
  readonly otlpEndpoint?: string;
  readonly istio: boolean;
  /** The gateway counts requests per model: the signal that wakes a model scaled to zero. */
  readonly gatewayDemand?: boolean;
}

export function deploymentName(key: string): string {
  return `vllm-${key}`;
}

/** The smallest instance type of the pool: requests must fit it. */
export function smallestInstance(pool: GpuPoolConfig): InstanceType {
  return pool.instanceTypes.map(requireInstanceType).reduce((a, b) => (b.vcpu / b.gpu!.count < a.vcpu / a.gpu!.count ? b : a));
}

export function isHopper(t: InstanceType): boolean {
  return t.gpu?.computeCapability === "9.0";
}

/** The recipe variant for the pool's GPU and the tensor-parallel size. */
export function recipeFor(model: LlmModel, t: InstanceType, tp: number): RecipeArgs {
  if (!isHopper(t)) return model.recipe.default;
  return tp === 1 && model.recipe.hopperTp1 ? model.recipe.hopperTp1 : model.recipe.hopper;
}

export function vllmArgs(s: ModelServerSpec): pulumi.Input<string>[] {
  const recipe = recipeFor(s.model, smallestInstance(s.pool), s.cfg.tensorParallelSize);
  const s3 = s.cfg.weights.source === "s3";
  return [
    "--model", s3 ? s.weightsUri! : s.model.hfRepo,
    ...(s3 ? ["--load-format", "runai_streamer"] : ["--revision", s.cfg.weights.revision]),
    "--served-model-name", s.key,
    "--host", "0.0.0.0",
    "--port", String(PORTS.vllm),
    "--tensor-parallel-size", String(s.cfg.tensorParallelSize),
    "--max-model-len", String(s.cfg.maxModelLen),
    "--gpu-memory-utilization", String(s.cfg.gpuMemoryUtilization),
    "--max-num-seqs", String(s.cfg.maxNumSeqs),
    recipe.prefixCaching ? "--enable-prefix-caching" : "--no-enable-prefix-caching",
    "--tool-call-parser", s.model.recipe.toolCallParser,
    "--enable-auto-tool-choice",
    ...recipe.args,
    ...(s.otlpEndpoint ? ["--otlp-traces-endpoint", s.otlpEndpoint] : []),
  ];
}

/**
 * Seconds the startup probe allows, from the cold-start model (infra/coldstart.ts
 * `startupProbeBudgetSeconds`): the container's phases on the pool's smallest type with the compile
 * cache missed, twice over, in whole probe periods.
 */
export function startupBudgetSeconds(s: Pick<ModelServerSpec, "key" | "cfg" | "pool">): number {
  return startupProbeBudgetSeconds(s.key, { instanceType: smallestInstance(s.pool).name, tensorParallelSize: s.cfg.tensorParallelSize }, { weightsSource: s.cfg.weights.source });
}

/** /dev/shm: NCCL needs room for tensor parallelism; one GPU needs little. */
export function shmSizeGi(tp: number): number {
  return tp === 1 ? 2 : 4 * tp;
}

export interface PodResources {
  readonly requests: Record<string, string>;
  readonly limits: Record<string, string>;
}

/** Requests fit the pool's smallest node next to the node daemons; limits use the GPU's share. */
export function resourcesFor(pool: GpuPoolConfig, tp: number): PodResources {
  const t = smallestInstance(pool);
  const gpus = t.gpu!.count;
  const cpuShare = t.vcpu / gpus;
  const memShare = t.memoryGiB / gpus;
  return {
    requests: { cpu: String(Math.max(1, Math.floor(cpuShare * 0.75)) * tp), memory: `${Math.floor(memShare * 0.75) * tp}Gi`, "nvidia.com/gpu": String(tp) },
    limits: { cpu: String(Math.floor(cpuShare) * tp), memory: `${Math.floor(memShare * 0.9) * tp}Gi`, "nvidia.com/gpu": String(tp) },
  };
}

/**
 * Node affinity: the model's pool (its managed node group), or a node of a Karpenter GPU
 * NodePool with the same GPU (name and memory per GPU) and at least `tensorParallelSize` GPUs.
 * The GPU NodePools may mix GPUs (karpenter.<pool>.instanceTypes); these Karpenter well-known
 * labels (infra/catalog/instances.ts `karpenterLabels`) pick the right one. infra/capacity.ts
 * `configDemands` admits exactly these nodes, and the cluster model (tests/cluster/scheduling.ts)
 * checks that the rendered affinity and that rule agree.
 */
export function modelNodeAffinity(poolName: string, pool: GpuPoolConfig, tensorParallelSize: number): Record<string, unknown> {
  const gpu = smallestInstance(pool).gpu!;
  const ownPool = { key: POOL_LABEL, operator: "In", values: [poolName] };
  return {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        { matchExpressions: [ownPool] },
        {
          matchExpressions: [
            { key: "karpenter.sh/nodepool", operator: "In", values: GPU_NODEPOOLS.map((p) => p.name) },
            { key: "karpenter.k8s.aws/instance-gpu-name", operator: "In", values: [gpu.name] },
            { key: "karpenter.k8s.aws/instance-gpu-memory", operator: "In", values: [String(gpu.memoryMiB)] },
            { key: "karpenter.k8s.aws/instance-gpu-count", operator: "Gt", values: [String(tensorParallelSize - 1)] },
          ],
        },
      ],
    },
    // The managed baseline first; Karpenter is for what does not fit.
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [ownPool] } }],
  };
}

export function modelLabels(key: string): Record<string, string> {
  return { ...recommendedLabels(deploymentName(key), WORKLOAD.modelServer["app.kubernetes.io/component"]), "llm-platform.io/model": key };
}

function selectorLabels(key: string): Record<string, string> {
  return { "app.kubernetes.io/name": deploymentName(key), "app.kubernetes.io/component": "model-server" };
}

/** Where the model server reads the tiktoken encodings (an emptyDir filled from S3 before vLLM starts). */
export const TIKTOKEN_MOUNT = "/tiktoken";

/**
 * gpt-oss's tokenizer library, openai_harmony, loads its tiktoken encoding at start-up: from
 * `$TIKTOKEN_ENCODINGS_BASE/o200k_base.tiktoken` when that variable is set (hash-checked), else by
 * downloading it from openaipublic.blob.core.windows.net (openai/harmony
 * src/tiktoken_ext/public_encodings.rs `load`; the offline set-up in vllm-project/recipes
 * OpenAI/GPT-OSS.md "Troubleshooting"). With S3 weights, an init container copies the encodings the
 * sync Job stored beside the weights into an emptyDir, and vLLM reads them there.
 */
export function tiktokenFromS3(s: Pick<ModelServerSpec, "cfg" | "model" | "tiktokenUri">): boolean {
  return s.cfg.weights.source === "s3" && (s.model.tiktokenEncodings?.length ?? 0) > 0 && s.tiktokenUri !== undefined;
}

/**
 * vLLM's hardening: everything "restricted" asks except non-root (the image defines no other
 * user and keeps its torch.compile, Triton and FlashInfer caches under /root/.cache), which the
 * inference namespace's baseline level admits.
 */
export const VLLM_HARDENING: Hardening = {
  root: { why: "vllm/vllm-openai runs as root; the inference namespace is baseline" },
  writableRootFilesystem: { why: "vLLM writes its compile and kernel caches under /root/.cache" },
};

export function modelServerDeployment(s: ModelServerSpec): k8s.apps.v1.DeploymentArgs {
  const name = deploymentName(s.key);
  const health = { httpGet: { path: "/health", port: PORTS.vllm } };
  const s3 = s.cfg.weights.source === "s3";
  const resources = resourcesFor(s.pool, s.cfg.tensorParallelSize);
  const memLimitGi = Number(resources.limits.memory!.replace("Gi", ""));
  const tiktoken = tiktokenFromS3(s);
  const env: k8s.types.input.core.v1.EnvVar[] = [
    { name: "VLLM_API_KEY", valueFrom: { secretKeyRef: { name: API_KEY_SECRET, key: "api-key" } } },
    { name: "AWS_REGION", value: s.region },
    { name: "AWS_DEFAULT_REGION", value: s.region },
    ...(s3
      ? [
          { name: "RUNAI_STREAMER_CONCURRENCY", value: "16" },
          // Bound the streamer's CPU buffer: a quarter of the container's memory, at most 8 GiB.
          { name: "RUNAI_STREAMER_MEMORY_LIMIT", value: String(Math.min(8, Math.floor(memLimitGi / 4)) * 1024 ** 3) },
          // Everything comes from S3: fail fast instead of trying the Hub (huggingface_hub
          // HF_HUB_OFFLINE), and send no usage report to stats.vllm.ai (vLLM docs, usage stats).
          { name: "HF_HUB_OFFLINE", value: "1" },
          { name: "VLLM_NO_USAGE_STATS", value: "1" },
        ]
      : [{ name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: HF_TOKEN_SECRET, key: "token" } } }]),
    ...(tiktoken ? [{ name: "TIKTOKEN_ENCODINGS_BASE", value: TIKTOKEN_MOUNT }] : []),
    ...(s.compileCacheUri ? compileCacheEnv() : []),
    ...(s.otlpEndpoint ? [{ name: "OTEL_SERVICE_NAME", value: name }] : []),
  ];
  return {
    metadata: {
      name,
      namespace: s.namespace,
      labels: modelLabels(s.key),
      // The SLO the capacity policies check this Deployment against (policies/capacity-slo.ts).
      annotations: {
        [SLO_ANNOTATIONS.ttftP95Ms]: String(s.cfg.slo.ttftP95Ms),
        ...(s.cfg.slo.throughputTokensPerSecond !== undefined ? { [SLO_ANNOTATIONS.throughputTokensPerSecond]: String(s.cfg.slo.throughputTokensPerSecond) } : {}),
      },
    },
    spec: {
      // KEDA owns the replica count; this is only the initial value.
      replicas: Math.max(1, s.cfg.replicas.min),
      selector: { matchLabels: selectorLabels(s.key) },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: modelLabels(s.key),
          // Istio merges these metrics into its plaintext :15020 endpoint under STRICT mTLS.
          annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(PORTS.vllm), "prometheus.io/path": "/metrics" },
        },
        spec: {
          serviceAccountName: MODEL_SERVER_SA,
          priorityClassName: SERVING_PRIORITY_CLASS,
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          affinity: { nodeAffinity: modelNodeAffinity(s.poolName, s.pool, s.cfg.tensorParallelSize) },
          tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: "NoSchedule" }],
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selectorLabels(s.key) } },
            { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selectorLabels(s.key) } },
          ],
          securityContext: podSecurityContext(VLLM_HARDENING),
          ...(tiktoken || s.compileCacheUri
            ? {
                initContainers: [
                  ...(tiktoken ? [s3FetchContainer({ name: "tiktoken", source: s.tiktokenUri!, target: TIKTOKEN_MOUNT, volume: "tiktoken", mountPath: TIKTOKEN_MOUNT, region: s.region })] : []),
                  ...(s.compileCacheUri ? [compileCacheSeedContainer(s.compileCacheUri, s.region)] : []),
                ],
              }
            : {}),
          containers: [
            {
              name: "vllm",
              image: imageRef(IMAGES.vllm),
              imagePullPolicy: "IfNotPresent",
              args: vllmArgs(s),
              ports: [{ name: "http", containerPort: PORTS.vllm, protocol: "TCP" }],
              env,
              resources,
              securityContext: containerSecurityContext(VLLM_HARDENING),
              // Periods from the cold-start model (its readiness phase is derived from them), budget from its phases.
              startupProbe: { ...health, periodSeconds: STARTUP_PROBE_PERIOD_SECONDS, timeoutSeconds: 4, failureThreshold: startupBudgetSeconds(s) / STARTUP_PROBE_PERIOD_SECONDS },
              readinessProbe: { ...health, periodSeconds: READINESS_PROBE_PERIOD_SECONDS, timeoutSeconds: 3, failureThreshold: 3 },
              livenessProbe: { ...health, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
              // Leave the Service's endpoints before SIGTERM; vLLM then finishes in-flight requests.
              lifecycle: { preStop: { exec: { command: ["sleep", String(PRESTOP_DRAIN_SECONDS)] } } },
              volumeMounts: [
                { name: "dshm", mountPath: "/dev/shm" },
                ...(s3 ? [] : [{ name: "hf-cache", mountPath: "/root/.cache/huggingface" }]),
                ...(tiktoken ? [{ name: "tiktoken", mountPath: TIKTOKEN_MOUNT, readOnly: true }] : []),
                ...(s.compileCacheUri ? [{ name: COMPILE_CACHE_VOLUME, mountPath: COMPILE_CACHE_MOUNT }] : []),
              ],
            },
          ],
          volumes: [
            { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: `${shmSizeGi(s.cfg.tensorParallelSize)}Gi` } },
            ...(s3 ? [] : [{ name: "hf-cache", emptyDir: { sizeLimit: `${Math.ceil(s.model.weightsGiB * 1.3)}Gi` } }]),
            // o200k_base and cl100k_base together are under 10 MB.
            ...(tiktoken ? [{ name: "tiktoken", emptyDir: { sizeLimit: "64Mi" } }] : []),
            // Node-local (baseline admits no hostPath): seeded from S3 at every start.
            ...(s.compileCacheUri ? [compileCacheVolume()] : []),
          ],
        },
      },
    },
  };
}

export function modelService(s: ModelServerSpec): k8s.core.v1.ServiceArgs {
  return {
    metadata: { name: deploymentName(s.key), namespace: s.namespace, labels: modelLabels(s.key) },
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(s.key),
      ports: [
        { name: "http", port: PORTS.vllm, targetPort: PORTS.vllm, protocol: "TCP" },
        ...metricsServicePorts(s.istio),
      ],
    },
  };
}

/** Scrapes /metrics on the API port, or Istio's merged plaintext endpoint under STRICT mTLS. */
export function modelServiceMonitor(s: ModelServerSpec): IServiceMonitor {
  const meta = { name: deploymentName(s.key), namespace: s.namespace, labels: modelLabels(s.key) };
  return serviceMonitor(meta, selectorLabels(s.key), { port: "http", path: "/metrics" }, { istio: s.istio });
}

export function modelPdb(s: ModelServerSpec): k8s.policy.v1.PodDisruptionBudgetArgs {
  return {
    metadata: { name: deploymentName(s.key), namespace: s.namespace, labels: modelLabels(s.key) },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(s.key) } },
  };
}

/** The new-node cold start of a replica (infra/coldstart.ts) on the pool's smallest type. */
export function newNodeColdStartSeconds(s: Pick<ModelServerSpec, "key" | "cfg" | "pool">): number {
  return coldStartEstimate(s.key, { instanceType: smallestInstance(s.pool).name, tensorParallelSize: s.cfg.tensorParallelSize }, "new", { weightsSource: s.cfg.weights.source }).totalSeconds;
}

/** Annotation on the ScaledObject: the new-node cold start its lookahead and the gateway's retry budget must cover. */
export const NEW_NODE_COLD_START_ANNOTATION = "llm-platform.io/new-node-cold-start-seconds";

/**
 * KEDA on vLLM's signals: waiting requests (sum, per replica) and KV-cache usage (average); the
 * gateway's demand wakes a model at zero; the schedule windows (cron) and the predictive floor
 * (last week's demand) raise the floor (components/model-scaling.ts, docs/scaling.md).
 */
export function modelScaledObject(s: ModelServerSpec): IScaledObject {
  const a = s.cfg.autoscaling;
  const sel = `model_name="${s.key}"`;
  const coldStart = newNodeColdStartSeconds(s);
  const predictive = s.cfg.predictive;
  const so = scaledObject(
    { name: deploymentName(s.key), namespace: s.namespace, labels: modelLabels(s.key) },
    {
      min: s.cfg.replicas.min,
      max: s.cfg.replicas.max,
      pollingInterval: a.pollingIntervalSeconds,
      cooldownPeriod: a.cooldownSeconds,
      advanced: {
        restoreToOriginalReplicaCount: false,
        // The seed's section 6.1: fast scale-up, slow scale-down.
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleUp: {
              stabilizationWindowSeconds: SCALE_UP_WINDOW_SECONDS,
              policies: [
                { type: "Percent", value: 100, periodSeconds: 60 },
                { type: "Pods", value: 2, periodSeconds: 60 },
              ],
              selectPolicy: "Max",
            },
            scaleDown: { stabilizationWindowSeconds: SCALE_DOWN_WINDOW_SECONDS, policies: [{ type: "Percent", value: 50, periodSeconds: 60 }], selectPolicy: "Min" },
          },
        },
      },
      triggers: [
        {
          type: "prometheus",
          name: "queue-depth",
          metricType: "AverageValue",
          metadata: {
            serverAddress: s.prometheusUrl,
            query: `sum(${M.vllm.numRequestsWaiting}{${sel}})`,
            threshold: String(a.queueDepthTarget),
            activationThreshold: String(a.activationQueueDepth),
          },
        },
        {
          type: "prometheus",
          name: "kv-cache",
          metricType: "Value",
          metadata: {
            serverAddress: s.prometheusUrl,
            query: `avg(${M.vllm.kvCacheUsagePerc}{${sel}})`,
            threshold: String(a.kvCacheUsageTarget),
            // Cache usage never wakes a model from zero; waiting requests do.
            activationThreshold: "1",
          },
        },
        // At zero replicas vLLM reports nothing; the gateway's request counter for the model does.
        ...(s.gatewayDemand && s.cfg.replicas.min === 0 ? [wakeTrigger(s.key, s.prometheusUrl)] : []),
        ...cronTriggers(s.cfg.schedule ?? []),
        ...(predictive?.enabled
          ? [
              predictiveTrigger({
                key: s.key,
                prometheusUrl: s.prometheusUrl,
                predictive,
                newNodeColdStartSeconds: coldStart,
                replicaTokensPerSecond: replicaCapacity(s.key, smallestInstance(s.pool).name, s.cfg.tensorParallelSize, s.cfg.slo.ttftP95Ms, a.kvCacheUsageTarget).tokensPerSecond,
              }),
            ]
          : []),
      ],
    },
  );
  return { ...so, metadata: { ...so.metadata, annotations: { [NEW_NODE_COLD_START_ANNOTATION]: String(Math.ceil(coldStart)) } } };
}

export interface ModelServerArgs {
  readonly spec: ModelServerSpec;
  readonly k8sProvider: k8s.Provider;
  /** What must exist first: the namespace, secrets, weights sync, KEDA, the priority class. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class ModelServer extends pulumi.ComponentResource {
  public readonly serviceName: string;
  public readonly url: string;

  constructor(name: string, args: ModelServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:serving:ModelServer", name, {}, opts);
    const s = args.spec;
    const k8sOpts = { parent: this, provider: args.k8sProvider, dependsOn: args.dependsOn };
    const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, modelServerDeployment(s), {
      ...k8sOpts,
      // KEDA changes replicas; Pulumi must not fight it.
      ignoreChanges: ["spec.replicas"],
      customTimeouts: { create: `${Math.ceil(startupBudgetSeconds(s) / 60) + 15}m`, update: `${Math.ceil(startupBudgetSeconds(s) / 60) + 15}m` },
    });
    new k8s.core.v1.Service(`${name}-service`, modelService(s), k8sOpts);
    new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, modelPdb(s), k8sOpts);
    new k8s.apiextensions.CustomResource(`${name}-monitor`, modelServiceMonitor(s), k8sOpts);
    new k8s.apiextensions.CustomResource(`${name}-scaler`, modelScaledObject(s), { ...k8sOpts, dependsOn: [deployment, ...args.dependsOn] });
    this.serviceName = deploymentName(s.key);
    this.url = `http://${this.serviceName}.${s.namespace}.svc:${PORTS.vllm}`;
    this.registerOutputs({ url: this.url });
  }
}
