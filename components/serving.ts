/**
 * Serving: everything that answers requests. A priority class for serving pods, the secrets
 * each serving namespace reads from Vault, the weights store, one ModelServer per model, TEI
 * for embeddings and reranking, Milvus and the safety service.
 *
 * vLLM and TEI read everything they load from the weights bucket (weights, encoder models, the
 * tiktoken encodings), so at run time they reach only the AWS APIs; the weights sync Jobs are the
 * only pods that reach the internet (servingFlows).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MODELS, type LlmModelKey } from "../infra/catalog/models";
import { coldStartReport } from "../infra/coldstart";
import type { ModelConfig, PlatformConfig } from "../infra/config";
import { compileCacheKeyFor, compileCacheUri } from "./compile-cache";
import { CompileCacheProducer, compileCacheFlows } from "./compile-cache-job";
import { Embeddings, encoderModel, TEI_SA, teiLabels, type EncoderRole, type EncoderSpec } from "./embeddings";
import { awsAccessFlows, flow, tcp, type Flow, type Peers, type PodPeer } from "./flows";
import { recommendedLabels } from "./labels";
import { API_KEY_SECRET, HF_TOKEN_SECRET, MODEL_SERVER_SA, modelLabels, ModelServer, SERVING_PRIORITY_CLASS, type ModelServerSpec } from "./model-server";
import { NAMESPACES, type NamespaceKey } from "./namespaces";
import { AZURE_KEY_SECRET, SafetyService } from "./safety";
import { generatedRef, parseVaultRef, Secrets } from "./secrets";
import { MILVUS_ROOT_SECRET, VectorDb } from "./vector-db";
import { WORKLOAD } from "./network-security";
import { SYNC_POD_LABELS, syncedEncoder, syncedLlm, tiktokenUri, weightsUri, WeightsStore } from "./weights";

export interface ServingArgs {
  readonly config: PlatformConfig;
  readonly k8sProvider: k8s.Provider;
  readonly namespaces: Readonly<Record<NamespaceKey, k8s.core.v1.Namespace>>;
  readonly secretStore: pulumi.Resource;
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuer: pulumi.Input<string>;
  readonly prometheusUrl: string;
  readonly otlpEndpoint?: string;
  /** KEDA, the monitoring CRDs and the GPU runtime: the serving objects need them first. */
  readonly platformReady: pulumi.Input<pulumi.Resource>[];
}

export interface ModelEndpoint {
  readonly url: string;
  readonly coldStartEstimateSeconds: number;
}

export class Serving extends pulumi.ComponentResource {
  public readonly models: Readonly<Partial<Record<LlmModelKey, ModelEndpoint>>>;
  public readonly embeddings: Readonly<Partial<Record<EncoderRole, string>>>;
  /** The served model name of each encoder role (its catalog key). */
  public readonly encoderModels: Readonly<Partial<Record<EncoderRole, string>>>;
  public readonly vectorDbEndpoint: string;
  public readonly weightsBucket: pulumi.Output<string>;
  public readonly safetyUrl?: string;
  public readonly safetyImage?: pulumi.Output<string>;

  constructor(name: string, args: ServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:serving:Serving", name, {}, opts);
    const c = args.config;
    const ns = args.namespaces;
    const k8sOpts = { parent: this, provider: args.k8sProvider };
    const inference = NAMESPACES.inference.name;

    const priority = new k8s.scheduling.v1.PriorityClass(
      `${name}-priority`,
      {
        metadata: { name: SERVING_PRIORITY_CLASS, labels: recommendedLabels(SERVING_PRIORITY_CLASS, "serving") },
        value: 100000,
        globalDefault: false,
        preemptionPolicy: "PreemptLowerPriority",
        description: "Model servers, TEI and the vector DB: above batch and tooling, below system-critical.",
      },
      k8sOpts,
    );

    // Secrets the serving namespaces read from Vault.
    const es = (resource: string, spec: Parameters<typeof Secrets.externalSecret>[1], namespace: k8s.core.v1.Namespace) =>
      Secrets.externalSecret(`${name}-${resource}`, spec, args.secretStore, { ...k8sOpts, dependsOn: [namespace] });
    const hf = parseVaultRef(c.vault.operatorSecrets.huggingfaceToken);
    const apiKey = es("vllm-api-key", { name: API_KEY_SECRET, namespace: inference, component: "model-server", data: [{ secretKey: "api-key", ref: generatedRef(c.vault.pathPrefix, "vllm", "api-key") }] }, ns.inference);
    const hfInference = es("hf-token-inference", { name: HF_TOKEN_SECRET, namespace: inference, component: "model-server", data: [{ secretKey: "token", ref: hf }] }, ns.inference);
    const milvusRoot = es(
      "milvus-root",
      { name: MILVUS_ROOT_SECRET, namespace: NAMESPACES.vectordb.name, component: "vector-db", data: ["username", "password"].map((k) => ({ secretKey: k, ref: generatedRef(c.vault.pathPrefix, "milvus", k) })) },
      ns.vectordb,
    );

    const modelEntries = Object.entries(c.models) as [LlmModelKey, ModelConfig][];
    const encoderRoles = enabledEncoderRoles(c);
    // One sync Job per encoder model, even if both roles served the same one.
    const encoders = [...new Map(encoderRoles.map((role) => [encoderModel(c.embeddings[role]).key, encoderModel(c.embeddings[role])])).values()];
    const weights = new WeightsStore(
      `${name}-weights`,
      {
        clusterName: c.cluster.name,
        region: c.region,
        namespace: inference,
        versioning: c.protection.bucketVersioning,
        models: [...modelEntries.filter(([, m]) => m.weights.source === "s3").map(([key, m]) => syncedLlm(key, MODELS[key], m.weights.revision)), ...encoders.map(syncedEncoder)],
        readers: [
          { namespace: inference, serviceAccount: MODEL_SERVER_SA, description: "vLLM: read model weights and tiktoken encodings" },
          ...(encoders.length ? [{ namespace: NAMESPACES.embeddings.name, serviceAccount: TEI_SA, description: "TEI: read encoder models" }] : []),
        ],
        k8sProvider: args.k8sProvider,
        dependsOn: [ns.inference, hfInference],
      },
      { parent: this },
    );
    this.weightsBucket = weights.bucketName;

    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-model-server-sa`,
      { metadata: { name: MODEL_SERVER_SA, namespace: inference, labels: recommendedLabels(MODEL_SERVER_SA, "model-server") } },
      { ...k8sOpts, dependsOn: [ns.inference] },
    );

    const models: Partial<Record<LlmModelKey, ModelEndpoint>> = {};
    const modelSpecs: ModelServerSpec[] = [];
    // Warm-node estimates, as the plan prints them (infra/coldstart.ts).
    const warmSeconds = new Map(coldStartReport(c).map((r) => [r.model, r.warm.totalSeconds]));
    for (const [key, m] of modelEntries) {
      const spec: ModelServerSpec = {
        key,
        model: MODELS[key],
        cfg: m,
        poolName: m.pool,
        pool: c.gpuPools[m.pool]!,
        namespace: inference,
        ...(m.weights.source === "s3"
          ? {
              weightsUri: weightsUri(weights.bucketName, MODELS[key], m.weights.revision),
              ...(MODELS[key].tiktokenEncodings.length ? { tiktokenUri: tiktokenUri(weights.bucketName, MODELS[key], m.weights.revision) } : {}),
            }
          : {}),
        // vLLM's compile caches, seeded from the weights bucket under their key (components/compile-cache.ts).
        // Only beside S3 weights: a Hugging Face model (the fallback) keeps its start as it was.
        ...(c.warmStart.compileCache.enabled && m.weights.source === "s3"
          ? { compileCacheUri: compileCacheUri(weights.bucketName, compileCacheKeyFor({ key, cfg: m, pool: c.gpuPools[m.pool]! })) }
          : {}),
        region: c.region,
        prometheusUrl: args.prometheusUrl,
        ...(args.otlpEndpoint && c.observability.tracing.vllmTraces ? { otlpEndpoint: args.otlpEndpoint } : {}),
        istio: c.networkSecurity.istio.enabled,
        gatewayDemand: c.edge.enabled,
      };
      const sync = weights.syncJobs[key];
      modelSpecs.push(spec);
      const server = new ModelServer(
        `${name}-${key}`,
        {
          spec,
          k8sProvider: args.k8sProvider,
          dependsOn: [ns.inference, sa, apiKey, priority, weights.readerAssociations[inference]!, ...(sync ? [sync] : [hfInference]), ...args.platformReady],
        },
        { parent: this },
      );
      models[key] = { url: server.url, coldStartEstimateSeconds: warmSeconds.get(key)! };
    }
    this.models = models;
    // The compile-cache producer Jobs (off by default): one per model with S3 weights, for its current key.
    if (c.warmStart.compileCache.enabled && c.warmStart.compileCache.produce)
      new CompileCacheProducer(
        `${name}-compile-cache`,
        { specs: modelSpecs, bucket: weights.bucketName, k8sProvider: args.k8sProvider, dependsOn: [ns.inference, ...Object.values(weights.syncJobs), ...args.platformReady] },
        { parent: this },
      );

    const teiSa = new k8s.core.v1.ServiceAccount(
      `${name}-tei-sa`,
      { metadata: { name: TEI_SA, namespace: NAMESPACES.embeddings.name, labels: recommendedLabels(TEI_SA, "embeddings") } },
      { ...k8sOpts, dependsOn: [ns.embeddings] },
    );
    const specs: EncoderSpec[] = encoderRoles.map((role) => {
        const e = c.embeddings[role];
        return {
          role,
          cfg: e,
          model: encoderModel(e),
          ...(e.placement === "cpu" ? {} : { pool: { name: e.placement, config: c.gpuPools[e.placement]! } }),
          namespace: NAMESPACES.embeddings.name,
          prometheusUrl: args.prometheusUrl,
          ...(args.otlpEndpoint ? { otlpEndpoint: args.otlpEndpoint } : {}),
          weightsUri: weightsUri(weights.bucketName, encoderModel(e), encoderModel(e).revision),
          region: c.region,
          istio: c.networkSecurity.istio.enabled,
        };
      });
    const teiReader = weights.readerAssociations[NAMESPACES.embeddings.name];
    const embeddings = new Embeddings(
      `${name}-embeddings`,
      {
        specs,
        k8sProvider: args.k8sProvider,
        dependsOn: [ns.embeddings, teiSa, priority, ...(teiReader ? [teiReader] : []), ...args.platformReady],
        roleDependsOn: Object.fromEntries(specs.map((sp) => [sp.role, [weights.syncJobs[sp.model.key]!]])),
      },
      { parent: this },
    );
    this.embeddings = embeddings.urls;
    this.encoderModels = Object.fromEntries(specs.map((sp) => [sp.role, sp.model.key]));

    const vectorDb = new VectorDb(
      `${name}-vectordb`,
      {
        config: c,
        clusterName: c.cluster.name,
        namespace: NAMESPACES.vectordb.name,
        oidcProviderArn: args.oidcProviderArn,
        oidcIssuer: args.oidcIssuer,
        k8sProvider: args.k8sProvider,
        dependsOn: [ns.vectordb, milvusRoot, ...args.platformReady],
      },
      { parent: this },
    );
    this.vectorDbEndpoint = vectorDb.endpoint;

    if (c.safety.enabled) {
      const azureKey = c.safety.azure.enabled
        ? [es("azure-key", { name: AZURE_KEY_SECRET, namespace: NAMESPACES.safety.name, component: "safety", data: [{ secretKey: "key", ref: parseVaultRef(c.vault.operatorSecrets.azureContentSafetyKey) }] }, ns.safety)]
        : [];
      const safety = new SafetyService(
        `${name}-safety`,
        { config: c.safety, models: c.models, clusterName: c.cluster.name, namespace: NAMESPACES.safety.name, istio: c.networkSecurity.istio.enabled, k8sProvider: args.k8sProvider, dependsOn: [ns.safety, ...azureKey, ...args.platformReady] },
        { parent: this },
      );
      this.safetyUrl = safety.url;
      this.safetyImage = safety.image;
    }

    this.registerOutputs({ models, embeddings: this.embeddings, vectorDb: this.vectorDbEndpoint, weightsBucket: this.weightsBucket });
  }
}

/** The encoder roles a stack serves. */
export function enabledEncoderRoles(c: Pick<PlatformConfig, "embeddings">): EncoderRole[] {
  return (["embed", "rerank"] as const).filter((role) => c.embeddings[role].enabled);
}

/**
 * The network flows serving's own pods need, derived from config (the NetworkPolicies are built
 * from them in components/network-security.ts):
 * - vLLM and TEI pods (and their init containers, same pods) reach only AWS: credentials from the
 *   node's Pod Identity agent, S3 through the interface endpoints (the weights, the encoder models,
 *   the tiktoken encodings). They need no internet host at run time.
 * - A model with `weights.source: huggingface` downloads at start: only its pods get internet egress.
 * - The weights sync Jobs (pods labelled SYNC_POD_LABELS, in the inference namespace) download from
 *   the Hugging Face Hub (huggingface.co and its CDNs, whose addresses are not fixed) and the
 *   tiktoken encodings (openaipublic.blob.core.windows.net), then write to S3: they are the only
 *   pods with internet egress, on 443 only.
 * Flows into serving pods (the gateway's routes, Prometheus scrapes, retrieval callers) and DNS
 * are declared by the components that own those callers and monitors.
 */
export function servingFlows(c: Pick<PlatformConfig, "models" | "embeddings" | "warmStart">, p: Peers): Flow[] {
  const inference = NAMESPACES.inference.name;
  const out: Flow[] = [];
  const models = Object.entries(c.models) as [LlmModelKey, ModelConfig][];
  const modelServers: PodPeer = { namespace: inference, pods: WORKLOAD.modelServer };
  if (models.length) out.push(...awsAccessFlows("model-servers", modelServers, p, "vLLM streams its weights and reads the tiktoken encodings from the weights bucket"));
  for (const [key, m] of models)
    if (m.weights.source === "huggingface")
      out.push(flow(`model-${key}-to-hugging-face`, { namespace: inference, pods: { ...WORKLOAD.modelServer, "llm-platform.io/model": modelLabels(key)["llm-platform.io/model"]! } }, p.internet, tcp(443), `${key} has weights.source huggingface: it downloads its weights (and encodings) at start`));
  const roles = enabledEncoderRoles(c);
  for (const role of roles) {
    const l = teiLabels(role);
    out.push(...awsAccessFlows(`tei-${role}`, { namespace: NAMESPACES.embeddings.name, pods: { "app.kubernetes.io/component": l["app.kubernetes.io/component"]! } }, p, "TEI's init container copies the model from the weights bucket"));
  }
  if (models.some(([, m]) => m.weights.source === "s3") || roles.length) {
    const sync: PodPeer = { namespace: inference, pods: { ...SYNC_POD_LABELS } };
    out.push(
      flow("weights-sync-to-internet", sync, p.internet, tcp(443), "the weights sync Jobs download from the Hugging Face Hub and the tiktoken encodings from openaipublic.blob.core.windows.net"),
      ...awsAccessFlows("weights-sync", sync, p, "the weights sync Jobs write to the weights bucket"),
    );
  }
  out.push(...compileCacheFlows(c, p));
  return out;
}
