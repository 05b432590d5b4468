/**
 * RagService: the RAG service (services/rag, docs/rag.md) on the cluster, deployed the way
 * SafetyService deploys services/safety (components/safety.ts), per docs/rag.md "Deployment
 * contract".
 *
 * - Image: `rag.image.source: build` builds services/rag with @pulumi/docker-build into an ECR
 *   repository the stack owns (immutable tags, scan on push), tagged with a hash of the build
 *   context and deployed by digest; `registry` uses a pinned ref instead.
 * - Config: a ConfigMap with the service's config file, rendered from the stack's `rag` area and
 *   the platform's endpoints (Milvus, TEI embed and rerank, the gateway, the collector). It holds
 *   no secret.
 * - Secrets from Vault through an ExternalSecret: MILVUS_USERNAME/MILVUS_PASSWORD from the
 *   generated Milvus credentials. No gateway key: the service runs `auth.mode: gateway-key`, checks
 *   each caller's LiteLLM key with the gateway and answers with it (docs/rag.md).
 * - Probes on /health and /ready, resources from the contract, zone spread, a PDB, a CPU HPA (no
 *   ScaledObject), a ServiceMonitor (Istio's merged metrics under STRICT mTLS); non-root uid 65532
 *   with a read-only root filesystem and no volume but the config.
 * - Route for API clients (`rag.gatewayRoute`): an Ingress that joins the gateway's ALB
 *   (IngressGroup) for /rag, so clients call https://<gateway host>/rag/v1/... with their LiteLLM
 *   key; the service checks each key with the gateway (GET /key/info) and answers with it
 *   (services/rag src/auth.ts, docs/rag.md). A LiteLLM pass-through route would need an
 *   Enterprise licence for key auth (litellm proxy/pass_through_endpoints: `auth: true` raises
 *   "Error Setting Authentication on Pass Through Endpoint" unless premium_user).
 * - Flows (`ragFlows`): exactly what the contract lists, plus the ALB's /rag route.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as path from "node:path";
import { stringify } from "yaml";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { MODELS, type Model } from "../infra/catalog/models";
import type { PlatformConfig } from "../infra/config";
import { flow, tcp, type Flow, type Peers, type PodPeer } from "./flows";
import { GATEWAY_INGRESS_GROUP, GATEWAY_INGRESS_ORDER, GATEWAY_PODS, GATEWAY_PORT, TLS_POLICY } from "./gateway";
import { recommendedLabels } from "./labels";
import { NAMESPACES } from "./namespaces";
import { PORTS, scrapeFlow, WORKLOAD } from "./network-security";
import { cpuNodeAffinity } from "./node-groups";
import { containerSecurityContext, podSecurityContext } from "./pod-security";
import { contextHash } from "./safety";
import { generatedRef, parseVaultRef, Secrets } from "./secrets";
import { COLLECTOR_NAME, otlpFlow, TRACING_NS } from "./tracing";
import { milvusPodSelector } from "./vector-db";
import { cpuHpa, metricsAnnotations, metricsServicePorts, serviceMonitor } from "./workload-objects";
import { serviceImage } from "./service-image";

export const RAG_NAME = "rag";
export const RAG_NAMESPACE = NAMESPACES.rag.name;
/** The service's port (services/rag/Dockerfile EXPOSE 8080; `PORT` overrides). */
export const RAG_PORT = 8080;
export const RAG_CONFIG_DIR = "/etc/rag";
export const RAG_MILVUS_SECRET = "rag-milvus";
/** The path API clients call on the gateway's ALB (the service strips it: server.pathPrefix). */
export const RAG_ROUTE = "/rag";
export const RAG_SOURCE_DIR = path.resolve(__dirname, "..", "services", "rag");
/** What the Dockerfile copies into its build stage. */
export const RAG_BUILD_INPUTS = ["Dockerfile", "package.json", "package-lock.json", "tsconfig.json", "build.mjs", "src", "bench", "scripts", "eval"];
/** The collector's OTLP/HTTP traces endpoint (the service exports over OTLP/HTTP only). */
export const OTLP_HTTP_TRACES_ENDPOINT = `http://${COLLECTOR_NAME}.${TRACING_NS}.svc:${PORTS.otlpHttp}/v1/traces`;

type RagConfig = PlatformConfig["rag"];

/** Where the service reaches its dependencies (the in-cluster URLs the platform's components publish). */
export interface RagEndpoints {
  /** Milvus proxy, host:port (gRPC). */
  readonly milvus: string;
  readonly embed: string;
  readonly rerank?: string;
  readonly gateway: string;
  /** OTLP/HTTP traces endpoint, when tracing is on. */
  readonly otlpTraces?: string;
}

/** The dense dimension of the configured embedding model (collections.dim). */
export function embeddingDimension(cfg: Pick<PlatformConfig, "embeddings">): number {
  const m: Model | undefined = MODELS[cfg.embeddings.embed.model as keyof typeof MODELS];
  const dim = m && m.kind !== "llm" ? m.dimensions : undefined;
  if (!dim) throw new Error(`embeddings.embed.model ${cfg.embeddings.embed.model} has no dimensions in infra/catalog/models.ts; the RAG collection's dense field needs it`);
  return dim;
}

/** The service's config file (services/rag/src/config.ts, docs/rag.md "Configuration"), from the stack config. */
export function ragServiceConfig(cfg: Pick<PlatformConfig, "rag" | "embeddings">, e: RagEndpoints): Record<string, unknown> {
  const r = cfg.rag;
  const embedModel: Model | undefined = MODELS[cfg.embeddings.embed.model as keyof typeof MODELS];
  return {
    server: { host: "0.0.0.0", port: RAG_PORT, shutdownDelayMs: 5000, shutdownTimeoutMs: 20000, pathPrefix: RAG_ROUTE },
    // Callers' LiteLLM keys are checked with the gateway (GET /key/info) and answers are asked
    // with the caller's key, so its budgets, limits and guardrails apply; the pod holds no gateway key.
    auth: { mode: "gateway-key", tenantFrom: r.tenantFrom },
    logging: { level: "info" },
    store: "milvus",
    milvus: { address: e.milvus, ssl: false, bootstrap: true },
    collections: {
      names: [...r.collections],
      dim: embeddingDimension(cfg),
      // HNSW ef is the dense candidate list: at least the candidates asked for.
      hnsw: { ef: Math.max(128, r.candidates) },
    },
    embeddings: { url: e.embed, batchSize: 32, maxInputTokens: embedModel && embedModel.kind !== "llm" ? embedModel.maxInputTokens : 512 },
    rerank: r.rerank.enabled && e.rerank ? { enabled: true, url: e.rerank, depth: r.rerank.depth, minScore: r.rerank.minScore } : { enabled: false },
    gateway: { url: e.gateway, model: r.answerModel, maxAnswerTokens: r.maxAnswerTokens, contextTokens: r.contextTokens },
    chunking: { maxTokens: r.chunking.maxTokens, overlapTokens: r.chunking.overlapTokens },
    retrieval: { fusion: { ...r.fusion }, candidates: r.candidates, topK: r.topK, maxTopK: r.maxTopK },
    tracing: { serviceName: RAG_NAME, ...(e.otlpTraces ? { otlpEndpoint: e.otlpTraces } : {}) },
  };
}

const selector = { "app.kubernetes.io/name": RAG_NAME, "app.kubernetes.io/component": "rag" };
const labels = () => recommendedLabels(RAG_NAME, "rag");

export function ragDeployment(cfg: RagConfig, namespace: string, image: pulumi.Input<string>): k8s.apps.v1.DeploymentArgs {
  const secretEnv = (name: string, secret: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });
  return {
    metadata: { name: RAG_NAME, namespace, labels: labels() },
    spec: {
      replicas: cfg.replicas.min,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(), annotations: metricsAnnotations({ containerPort: RAG_PORT, path: "/metrics" }) },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          affinity: { nodeAffinity: cpuNodeAffinity() },
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } }],
          // The distroless image's nonroot user (services/rag/Dockerfile USER 65532:65532).
          securityContext: podSecurityContext({ runAsUser: 65532, runAsGroup: 65532 }),
          containers: [
            {
              name: RAG_NAME,
              image,
              ports: [{ name: "http", containerPort: RAG_PORT, protocol: "TCP" }],
              env: [
                { name: "RAG_CONFIG_PATH", value: `${RAG_CONFIG_DIR}/config.yaml` },
                { name: "PORT", value: String(RAG_PORT) },
                secretEnv("MILVUS_USERNAME", RAG_MILVUS_SECRET, "username"),
                secretEnv("MILVUS_PASSWORD", RAG_MILVUS_SECRET, "password"),
              ],
              // docs/rag.md "Deployment contract": 181 MiB RSS at rest; requests 250m/256Mi, limits 1 CPU/512Mi.
              resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              // Writes nothing: read-only root filesystem and no writable volume (the contract).
              securityContext: containerSecurityContext(),
              startupProbe: { httpGet: { path: "/health", port: RAG_PORT }, periodSeconds: 2, failureThreshold: 30 },
              readinessProbe: { httpGet: { path: "/ready", port: RAG_PORT }, initialDelaySeconds: 5, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
              livenessProbe: { httpGet: { path: "/health", port: RAG_PORT }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              volumeMounts: [{ name: "config", mountPath: RAG_CONFIG_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: "config", configMap: { name: `${RAG_NAME}-config` } }],
        },
      },
    },
  };
}

export function ragHpa(cfg: RagConfig, namespace: string): k8s.autoscaling.v2.HorizontalPodAutoscalerArgs {
  return cpuHpa({ name: RAG_NAME, namespace, labels: labels() }, { ...cfg.replicas, targetCpuUtilization: cfg.targetCpuUtilization });
}

export function ragPdb(cfg: RagConfig, namespace: string): k8s.policy.v1.PodDisruptionBudgetArgs {
  return { metadata: { name: RAG_NAME, namespace, labels: labels() }, spec: { ...(cfg.replicas.min >= 2 ? { minAvailable: 1 } : { maxUnavailable: 1 }), selector: { matchLabels: selector } } };
}

/** The Service: the API port, and under Istio the sidecar's merged metrics port. */
export function ragService(namespace: string, istio: boolean): k8s.core.v1.ServiceArgs {
  return {
    metadata: { name: RAG_NAME, namespace, labels: labels() },
    spec: { selector, ports: [{ name: "http", port: RAG_PORT, targetPort: RAG_PORT, protocol: "TCP" }, ...metricsServicePorts(istio)] },
  };
}

/** /metrics on the API port, or Istio's merged plaintext endpoint under STRICT mTLS (workload-objects.ts). */
export function ragServiceMonitor(namespace: string, istio: boolean): IServiceMonitor {
  return serviceMonitor({ name: RAG_NAME, namespace, labels: labels() }, selector, { port: "http", path: "/metrics" }, { istio });
}

/** The in-cluster URL of the service. */
export function ragUrl(namespace: string = RAG_NAMESPACE): string {
  return `http://${RAG_NAME}.${namespace}.svc:${RAG_PORT}`;
}

const POD_LABELS = { "app.kubernetes.io/component": "rag" };

/**
 * The /rag rule on the gateway's ALB: this Ingress joins the gateway's IngressGroup, ordered ahead
 * of the gateway's "/" (aws-load-balancer-controller docs, "IngressGroup", group.name/group.order),
 * on the HTTPS listener only (HTTP is redirected by the gateway's rule), with the same scheme,
 * certificate and TLS policy; IP targets, health on /health.
 */
export function ragIngress(lb: PlatformConfig["edge"]["loadBalancer"], namespace: string): k8s.networking.v1.IngressArgs {
  const a = "alb.ingress.kubernetes.io";
  return {
    metadata: {
      name: RAG_NAME,
      namespace,
      labels: labels(),
      annotations: {
        [`${a}/group.name`]: GATEWAY_INGRESS_GROUP,
        [`${a}/group.order`]: String(GATEWAY_INGRESS_ORDER - 10),
        [`${a}/scheme`]: lb.scheme,
        [`${a}/target-type`]: "ip",
        [`${a}/listen-ports`]: JSON.stringify([{ HTTPS: 443 }]),
        [`${a}/certificate-arn`]: lb.certificateArn!,
        [`${a}/ssl-policy`]: TLS_POLICY,
        [`${a}/healthcheck-path`]: "/health",
      },
    },
    spec: {
      ingressClassName: "alb",
      rules: [{ http: { paths: [{ path: RAG_ROUTE, pathType: "Prefix", backend: { service: { name: RAG_NAME, port: { number: RAG_PORT } } } }] } }],
    },
  };
}

/** The ALB, outside the mesh, reaches the service in plaintext: its port is PERMISSIVE, the rest STRICT (as the gateway's). */
export function ragPeerAuthentication(namespace: string): Record<string, unknown> {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "rag-from-alb", namespace, labels: recommendedLabels("rag-from-alb", "network-security") },
    spec: { selector: { matchLabels: { ...POD_LABELS } }, mtls: { mode: "STRICT" }, portLevelMtls: { [RAG_PORT]: { mode: "PERMISSIVE" } } },
  };
}

export const RAG_EVAL_SECRET = "rag-eval-key";
const EVAL_LABELS = { "app.kubernetes.io/component": "rag-eval" };

/**
 * The in-cluster retrieval evaluation (`rag.evaluation.enabled`, off by default): the service's
 * own image runs `node /app/dist/eval.cjs --url <the service>` (services/rag eval/run.ts), which
 * ingests the shipped fixture for a fresh tenant, asks its questions through /v1/search against
 * the real TEI and Milvus, prints recall@k and MRR, deletes the documents, and fails below
 * `minRecallAt5`. The key it calls with comes from Vault (the service checks callers' keys). The
 * Job's name carries the image, so a new image runs it again.
 */
export function ragEvaluationJob(cfg: RagConfig, namespace: string, image: pulumi.Input<string>, imageKey: string): k8s.batch.v1.JobArgs {
  const name = `rag-eval-${imageKey.slice(0, 8)}`;
  return {
    metadata: { name, namespace, labels: { ...recommendedLabels(name, "rag-eval"), ...EVAL_LABELS } },
    spec: {
      backoffLimit: 1,
      activeDeadlineSeconds: 1800,
      template: {
        metadata: { labels: { ...recommendedLabels(name, "rag-eval"), ...EVAL_LABELS } },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          affinity: { nodeAffinity: cpuNodeAffinity() },
          securityContext: podSecurityContext({ runAsUser: 65532, runAsGroup: 65532 }),
          containers: [
            {
              name: "eval",
              image,
              command: ["node", "/app/dist/eval.cjs", "--url", ragUrl(namespace), "--collection", cfg.collections[0]!, "--min-recall5", String(cfg.evaluation.minRecallAt5)],
              env: [{ name: "RAG_EVAL_API_KEY", valueFrom: { secretKeyRef: { name: RAG_EVAL_SECRET, key: "api-key" } } }],
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
              securityContext: containerSecurityContext(),
            },
          ],
        },
      },
    },
  };
}

export interface RagServiceArgs {
  readonly config: PlatformConfig;
  readonly endpoints: RagEndpoints;
  readonly namespace: string;
  /** The namespace is in the Istio mesh (STRICT mTLS). */
  readonly istio: boolean;
  readonly secretStore: pulumi.Resource;
  readonly k8sProvider: k8s.Provider;
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** The gateway's load balancer, when the /rag route is published: its settings and what the Ingress waits for (the controller, the gateway's Ingress). */
  readonly route?: { readonly loadBalancer: PlatformConfig["edge"]["loadBalancer"]; readonly dependsOn: pulumi.Input<pulumi.Resource>[] };
}

export class RagService extends pulumi.ComponentResource {
  public readonly image: pulumi.Output<string>;
  public readonly url: string;

  constructor(name: string, args: RagServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:serving:Rag", name, {}, opts);
    const c = args.config;
    const cfg = c.rag;
    const child = { parent: this };

    this.image = serviceImage(name, { image: cfg.image, repositoryName: `${c.cluster.name}/rag`, sourceDir: RAG_SOURCE_DIR, contextHash: contextHash(RAG_SOURCE_DIR, RAG_BUILD_INPUTS) }, child);

    const k8sOpts = { parent: this, provider: args.k8sProvider, dependsOn: args.dependsOn };
    const milvus = Secrets.externalSecret(
      `${name}-milvus-credentials`,
      { name: RAG_MILVUS_SECRET, namespace: args.namespace, component: "rag", data: ["username", "password"].map((k) => ({ secretKey: k, ref: generatedRef(c.vault.pathPrefix, "milvus", k) })) },
      args.secretStore,
      k8sOpts,
    );
    const cm = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: { name: `${RAG_NAME}-config`, namespace: args.namespace, labels: labels() }, data: { "config.yaml": stringify(ragServiceConfig(c, args.endpoints)) } },
      k8sOpts,
    );
    const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, ragDeployment(cfg, args.namespace, this.image), { ...k8sOpts, dependsOn: [cm, milvus, ...args.dependsOn], ignoreChanges: ["spec.replicas"] });
    new k8s.core.v1.Service(`${name}-service`, ragService(args.namespace, args.istio), k8sOpts);
    new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, ragPdb(cfg, args.namespace), k8sOpts);
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, ragHpa(cfg, args.namespace), k8sOpts);
    new k8s.apiextensions.CustomResource(`${name}-monitor`, ragServiceMonitor(args.namespace, args.istio), k8sOpts);
    if (cfg.evaluation.enabled && cfg.evaluation.apiKeyVaultRef) {
      const key = Secrets.externalSecret(
        `${name}-eval-key`,
        { name: RAG_EVAL_SECRET, namespace: args.namespace, component: "rag", data: [{ secretKey: "api-key", ref: parseVaultRef(cfg.evaluation.apiKeyVaultRef) }] },
        args.secretStore,
        k8sOpts,
      );
      const imageKey = cfg.image.source === "build" ? contextHash(RAG_SOURCE_DIR, RAG_BUILD_INPUTS) : createHash("sha256").update(cfg.image.ref).digest("hex");
      new k8s.batch.v1.Job(`${name}-eval`, ragEvaluationJob(cfg, args.namespace, this.image, imageKey), { ...k8sOpts, dependsOn: [deployment, key, ...args.dependsOn], customTimeouts: { create: "35m" } });
    }
    if (args.route) {
      const routeOpts = { ...k8sOpts, dependsOn: [...args.dependsOn, ...args.route.dependsOn] };
      new k8s.networking.v1.Ingress(`${name}-ingress`, ragIngress(args.route.loadBalancer, args.namespace), routeOpts);
      if (args.istio) new k8s.apiextensions.CustomResource(`${name}-alb-mtls`, ragPeerAuthentication(args.namespace) as k8s.apiextensions.CustomResourceArgs, routeOpts);
    }
    this.url = ragUrl(args.namespace);
    this.registerOutputs({ image: this.image, url: this.url });
  }
}

/** The Milvus pods the service's gRPC calls land on: the proxy in cluster mode, the one pod in standalone mode. */
export function milvusEntryPods(cfg: Pick<PlatformConfig, "vectorDb">): PodPeer {
  return { namespace: NAMESPACES.vectordb.name, pods: milvusPodSelector(cfg.vectorDb.mode === "cluster" ? "proxy" : "standalone") };
}

/**
 * The RAG service's flows (docs/rag.md "Deployment contract", Outbound): Milvus gRPC 19530, TEI
 * embed and rerank on 80, the gateway on 4000 (chat completions), OTLP to the collector when
 * tracing is on; Prometheus scrapes it; and the ALB (public subnets) reaches it for the /rag route.
 * DNS comes with the namespace (dnsFlows over policedNamespaces).
 */
export function ragFlows(cfg: PlatformConfig, p: Peers): Flow[] {
  const self: PodPeer = { namespace: RAG_NAMESPACE, pods: POD_LABELS };
  const tei = (pods: Record<string, string>): PodPeer => ({ namespace: NAMESPACES.embeddings.name, pods });
  const rerank = cfg.rag.rerank.enabled && cfg.embeddings.rerank.enabled;
  return [
    flow("rag-to-milvus", self, milvusEntryPods(cfg), tcp(PORTS.milvus), "the RAG service's Milvus SDK (gRPC): collections, upserts, hybrid search"),
    flow("rag-to-tei-embed", self, tei(WORKLOAD.embeddings), tcp(PORTS.tei), "the RAG service embeds chunks and queries (POST /embed)"),
    ...(rerank ? [flow("rag-to-tei-rerank", self, tei(WORKLOAD.reranker), tcp(PORTS.tei), "the RAG service reranks candidates (POST /rerank)")] : []),
    flow("rag-to-gateway", self, GATEWAY_PODS, tcp(GATEWAY_PORT), "the RAG service's answers call the chat model through the gateway (POST /v1/chat/completions)"),
    ...(cfg.rag.gatewayRoute && cfg.edge.enabled ? [flow("alb-to-rag", p.loadBalancers, self, tcp(RAG_PORT), `the gateway's ALB routes ${RAG_ROUTE} to the service (IP targets) from the public subnets`)] : []),
    scrapeFlow("rag", self, [RAG_PORT], cfg.networkSecurity.istio.enabled),
    ...(cfg.rag.evaluation.enabled ? [flow("rag-eval-to-rag", { namespace: RAG_NAMESPACE, pods: EVAL_LABELS }, self, tcp(RAG_PORT), "the evaluation Job calls the service's API")] : []),
    ...(cfg.observability.tracing.enabled ? [otlpFlow("rag", self)] : []),
  ];
}
