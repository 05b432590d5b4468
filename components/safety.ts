/**
 * SafetyService: the content-safety service (services/safety) on the cluster.
 *
 * - Image: `safety.image.source: build` builds services/safety with @pulumi/docker-build and
 *   pushes it to an ECR repository the stack owns (immutable tags, scan on push), tagged with a
 *   hash of the build context and deployed by digest; `registry` uses a pinned ref instead.
 * - Config: a ConfigMap rendered from the stack's `safety` area into the service's config file
 *   (it holds no secret). The Azure key comes from Vault through an ExternalSecret into
 *   AZURE_CONTENT_SAFETY_KEY.
 * - Probes on /health and /ready, resources, a PDB, a CPU-based HPA (the service is CPU-bound,
 *   no GPU), a ServiceMonitor; non-root with a read-only root filesystem.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import type { PlatformConfig } from "../infra/config";
import { recommendedLabels } from "./labels";
import { PORTS } from "./network-security";
import { cpuNodeAffinity } from "./node-groups";
import { cpuHpa, metricsServicePorts, serviceMonitor } from "./workload-objects";
import { flow, tcp, type Flow, type Peers } from "./flows";
import { NAMESPACES } from "./namespaces";
import { scrapeFlow } from "./network-security";
import { containerSecurityContext, podSecurityContext } from "./pod-security";
import { serviceImage } from "./service-image";

export const SAFETY_NAME = "safety";
export const AZURE_KEY_SECRET = "azure-content-safety";
export const SAFETY_CONFIG_DIR = "/etc/safety";
export const SAFETY_SOURCE_DIR = path.resolve(__dirname, "..", "services", "safety");
/** What the Dockerfile copies into its build stage. */
export const SAFETY_BUILD_INPUTS = ["Dockerfile", "package.json", "package-lock.json", "tsconfig.json", "build.mjs", "src", "bench", "scripts"];

type SafetyConfig = PlatformConfig["safety"];

/** JSON and metadata around the texts in one LiteLLM guardrail call (roles, ids, request_data, headers). */
export const LITELLM_ENVELOPE_BYTES = 256 * 1024;

/** The largest `maxModelLen` among the models the gateway routes to (every configured model). */
export function largestMaxModelLen(models: PlatformConfig["models"]): number {
  const lens = Object.values(models).map((m) => m.maxModelLen);
  if (lens.length === 0) throw new Error("no models configured: the safety limits are derived from the largest maxModelLen");
  return Math.max(...lens);
}

/**
 * The service's text and body limits, derived from the largest context the gateway routes to.
 * - `maxTextChars`: a whole context (maxModelLen tokens x `safety.charsPerToken`, default 8: the
 *   gpt-oss tokenizer (o200k) averages about 4 characters per token on prose, code and whitespace
 *   runs go higher), checked on the joined texts of a call; Azure sees it in 10k-character chunks.
 * - `bodyLimitBytes`: LiteLLM sends the prompt twice (`texts` and `structured_messages`); in
 *   UTF-8 JSON a UTF-16 code unit takes at most 3 bytes (control characters escaped as
 *   \uXXXX take 6, a case the limit does not cover), plus the envelope.
 */
export function safetyLimits(cfg: SafetyConfig, models: PlatformConfig["models"]): { maxModelLen: number; maxTextChars: number; bodyLimitBytes: number } {
  const maxModelLen = largestMaxModelLen(models);
  const maxTextChars = maxModelLen * cfg.charsPerToken;
  return { maxModelLen, maxTextChars, bodyLimitBytes: 2 * maxTextChars * 3 + LITELLM_ENVELOPE_BYTES };
}

/** The service's config file (services/safety, docs/safety.md "Configuration reference"), from the stack config. */
export function safetyServiceConfig(cfg: SafetyConfig, models: PlatformConfig["models"]): Record<string, unknown> {
  const limits = safetyLimits(cfg, models);
  return {
    server: { host: "0.0.0.0", port: PORTS.safety, bodyLimitBytes: limits.bodyLimitBytes, maxTextChars: limits.maxTextChars, shutdownDelayMs: 5000 },
    logging: { level: "info", logRequestText: false },
    failureMode: cfg.failureMode,
    azure: cfg.azure.enabled
      ? {
          enabled: true,
          endpoint: cfg.azure.endpoint,
          timeoutMs: cfg.azure.timeoutMs,
          thresholds: { Hate: cfg.thresholds.hate, Sexual: cfg.thresholds.sexual, Violence: cfg.thresholds.violence, SelfHarm: cfg.thresholds.selfHarm },
        }
      : { enabled: false },
    // The shipped, versioned default lists (services/safety/src/data/default-lists.ts) and
    // text normalization, on unless a stack turns them off.
    layers: {
      defaults: { enabled: cfg.defaultLists.enabled, disable: [...cfg.defaultLists.disable] },
      keywordBlocklist: { enabled: true },
      regexBlocklist: { enabled: true },
      promptInjection: { enabled: true, appliesTo: ["input", "output"] },
      normalization: { enabled: true },
    },
    litellmGuardrail: { enabled: true },
  };
}

/** A hash of the build context: the image tag changes exactly when the service's code does. */
export function contextHash(dir: string = SAFETY_SOURCE_DIR, inputs: readonly string[] = SAFETY_BUILD_INPUTS): string {
  const h = createHash("sha256");
  const walk = (rel: string): void => {
    const abs = path.join(dir, rel);
    if (!fs.existsSync(abs)) return;
    if (fs.statSync(abs).isDirectory()) for (const e of fs.readdirSync(abs).sort()) walk(path.join(rel, e));
    else h.update(rel).update("\0").update(fs.readFileSync(abs)).update("\0");
  };
  for (const i of inputs) walk(i);
  return h.digest("hex").slice(0, 16);
}

const selector = { "app.kubernetes.io/name": SAFETY_NAME, "app.kubernetes.io/component": "safety" };
const labels = () => recommendedLabels(SAFETY_NAME, "safety");

export function safetyDeployment(cfg: SafetyConfig, namespace: string, image: pulumi.Input<string>): k8s.apps.v1.DeploymentArgs {
  return {
    metadata: { name: SAFETY_NAME, namespace, labels: labels() },
    spec: {
      replicas: cfg.replicas.min,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(), annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(PORTS.safety), "prometheus.io/path": "/metrics" } },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          affinity: { nodeAffinity: cpuNodeAffinity() },
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } }],
          // The distroless image's nonroot user (services/safety/Dockerfile).
          securityContext: podSecurityContext({ runAsUser: 65532, runAsGroup: 65532 }),
          containers: [
            {
              name: SAFETY_NAME,
              image,
              ports: [{ name: "http", containerPort: PORTS.safety, protocol: "TCP" }],
              env: [
                { name: "SAFETY_CONFIG_PATH", value: `${SAFETY_CONFIG_DIR}/config.yaml` },
                { name: "PORT", value: String(PORTS.safety) },
                ...(cfg.azure.enabled ? [{ name: "AZURE_CONTENT_SAFETY_KEY", valueFrom: { secretKeyRef: { name: AZURE_KEY_SECRET, key: "key" } } }] : []),
              ],
              resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              securityContext: containerSecurityContext(),
              startupProbe: { httpGet: { path: "/health", port: PORTS.safety }, periodSeconds: 2, failureThreshold: 30 },
              readinessProbe: { httpGet: { path: "/ready", port: PORTS.safety }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
              livenessProbe: { httpGet: { path: "/health", port: PORTS.safety }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              volumeMounts: [
                { name: "config", mountPath: SAFETY_CONFIG_DIR, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "config", configMap: { name: `${SAFETY_NAME}-config` } },
            { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
          ],
        },
      },
    },
  };
}

export function safetyHpa(cfg: SafetyConfig, namespace: string): k8s.autoscaling.v2.HorizontalPodAutoscalerArgs {
  return cpuHpa({ name: SAFETY_NAME, namespace, labels: labels() }, { ...cfg.replicas, targetCpuUtilization: cfg.targetCpuUtilization });
}

/** The Service: the API port, and under Istio the sidecar's merged metrics port. */
export function safetyService(namespace: string, istio: boolean): k8s.core.v1.ServiceArgs {
  return {
    metadata: { name: SAFETY_NAME, namespace, labels: labels() },
    spec: { selector, ports: [{ name: "http", port: PORTS.safety, targetPort: PORTS.safety, protocol: "TCP" }, ...metricsServicePorts(istio)] },
  };
}

/** /metrics on the API port, or Istio's merged plaintext endpoint under STRICT mTLS (workload-objects.ts). */
export function safetyServiceMonitor(namespace: string, istio: boolean): IServiceMonitor {
  return serviceMonitor({ name: SAFETY_NAME, namespace, labels: labels() }, selector, { port: "http", path: "/metrics" }, { istio });
}

export interface SafetyServiceArgs {
  readonly config: SafetyConfig;
  /** The models the gateway routes to: the service's limits are derived from the largest context. */
  readonly models: PlatformConfig["models"];
  readonly clusterName: string;
  readonly namespace: string;
  /** The namespace is in the Istio mesh (STRICT mTLS). */
  readonly istio: boolean;
  readonly k8sProvider: k8s.Provider;
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class SafetyService extends pulumi.ComponentResource {
  public readonly image: pulumi.Output<string>;
  public readonly url: string;

  constructor(name: string, args: SafetyServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:serving:Safety", name, {}, opts);
    const cfg = args.config;
    const child = { parent: this };

    this.image = serviceImage(name, { image: cfg.image, repositoryName: `${args.clusterName}/safety`, sourceDir: SAFETY_SOURCE_DIR, contextHash: contextHash() }, child);

    const k8sOpts = { parent: this, provider: args.k8sProvider, dependsOn: args.dependsOn };
    const cm = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: { name: `${SAFETY_NAME}-config`, namespace: args.namespace, labels: labels() }, data: { "config.yaml": stringify(safetyServiceConfig(cfg, args.models)) } },
      k8sOpts,
    );
    new k8s.apps.v1.Deployment(`${name}-deployment`, safetyDeployment(cfg, args.namespace, this.image), { ...k8sOpts, dependsOn: [cm, ...args.dependsOn], ignoreChanges: ["spec.replicas"] });
    new k8s.core.v1.Service(`${name}-service`, safetyService(args.namespace, args.istio), k8sOpts);
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: { name: SAFETY_NAME, namespace: args.namespace, labels: labels() }, spec: { ...(cfg.replicas.min >= 2 ? { minAvailable: 1 } : { maxUnavailable: 1 }), selector: { matchLabels: selector } } },
      k8sOpts,
    );
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, safetyHpa(cfg, args.namespace), k8sOpts);
    new k8s.apiextensions.CustomResource(`${name}-monitor`, safetyServiceMonitor(args.namespace, args.istio), k8sOpts);
    this.url = `http://${SAFETY_NAME}.${args.namespace}.svc:${PORTS.safety}`;
    this.registerOutputs({ image: this.image, url: this.url });
  }
}

/** The safety service's flows: Azure AI Content Safety when enabled, and its metrics. (The gateway declares its calls.) */
export function safetyFlows(cfg: PlatformConfig, p: Peers): Flow[] {
  const self = { namespace: NAMESPACES.safety.name, pods: { "app.kubernetes.io/component": "safety" } };
  return [
    ...(cfg.safety.azure.enabled ? [flow("safety-to-azure", self, p.internet, tcp(443), "Azure AI Content Safety (HTTPS)")] : []),
    scrapeFlow("safety", self, [PORTS.safety], cfg.networkSecurity.istio.enabled),
  ];
}
