/**
 * Gateway: LiteLLM proxy in front of every model, behind an ALB.
 *
 * - LiteLLM from its official chart: OpenAI-compatible routes to each vLLM Service, TEI
 *   embeddings and the TEI reranker; virtual keys, teams and spend in PostgreSQL; per-key
 *   RPM/TPM limits and the response cache in Redis; Prometheus metrics.
 * - The safety service is the pre-call guardrail on inputs and the post-call guardrail on
 *   outputs (LiteLLM's Generic Guardrail API); a guardrail that cannot be reached blocks the
 *   request (unreachable_fallback: fail_closed).
 * - The master key, the salt key, the database and Redis credentials and the vLLM API key come
 *   from Vault through ExternalSecrets.
 * - Replicas and an HPA per env, a PDB, probes, a ServiceMonitor.
 * - An ALB Ingress: TLS from ACM, HTTP redirected to HTTPS, internal or internet-facing per env,
 *   an optional WAF web ACL with a rate-based rule, access logs to an encrypted bucket.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, IMAGES } from "../infra/catalog/versions";
import type { PlatformConfig } from "../infra/config";
import { gatewayTokenPrices, type TokenPrices } from "../infra/unit-economics";
import { PrivateBucket } from "./bucket";
import { DATABASE_NAME, POSTGRES_PORT, REDIS_PORT } from "./datastores";
import { release } from "./helm";
import { recommendedLabels } from "./labels";
import { NAMESPACES } from "./namespaces";
import { generatedRef, Secrets, type ExternalSecretSpec } from "./secrets";
import { flow, PORTS, tcp, type Flow, type Peers, type PodPeer } from "./flows";
import { PROMETHEUS, WORKLOAD } from "./network-security";
import { containerSecurityContext, podSecurityContext, type Hardening } from "./pod-security";
import { routerRetryBudget } from "./model-scaling";

export const GATEWAY_NS = NAMESPACES.gateway.name;
export const GATEWAY_RELEASE = "litellm";
export const GATEWAY_SA = "litellm";
export const GATEWAY_PORT = 4000;
export const MASTER_KEY_SECRET = "litellm-master-key";
export const DB_SECRET = "litellm-db";
export const ENV_SECRET = "litellm-env";
/** ALBs cap idle connections; long generations stream for minutes. */
export const ALB_IDLE_TIMEOUT_SECONDS = 600;
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export interface Route {
  /** The model name clients use (and LiteLLM's model group). */
  readonly name: string;
  readonly url: string;
  /** The upstream model id, where the provider needs it (Hugging Face rerank). */
  readonly upstream?: string;
  /**
   * The model may be at zero replicas: the router holds its requests (retries) long enough for
   * KEDA to wake it and a new GPU node to start it (components/model-scaling.ts, docs/scaling.md).
   */
  readonly scaleFromZero?: { readonly newNodeColdStartSeconds: number; readonly pollingIntervalSeconds: number };
}

export interface ProxyConfigInputs {
  readonly models: readonly Route[];
  readonly embeddings?: Route;
  readonly rerank?: Route;
  readonly safetyUrl?: string;
  /** USD per input and output token per self-hosted model (infra/unit-economics.ts `gatewayTokenPrices`), for LiteLLM's spend tracking. */
  readonly prices?: Readonly<Record<string, TokenPrices>>;
}

/** LiteLLM's config.yaml: routes, guardrails, Redis and Prometheus. Secrets only as os.environ/ references. */
export function litellmProxyConfig(i: ProxyConfigInputs): Record<string, unknown> {
  const modelList: Record<string, unknown>[] = i.models.map((m) => ({
    model_name: m.name,
    litellm_params: { model: `hosted_vllm/${m.name}`, api_base: `${m.url}/v1`, api_key: "os.environ/VLLM_API_KEY" },
    // Per-token prices, so that key and team spend (and budgets) count self-hosted tokens. LiteLLM
    // reads them from a config.yaml deployment's model_info (docs.litellm.ai proxy/custom_pricing,
    // "Cost Per Token": model_info.input_cost_per_token / output_cost_per_token; LiteLLM's
    // `use_custom_pricing_for_model` accepts them in litellm_params or in the deployment's
    // model_info, which the router mirrors into request metadata). DB-stored models (POST
    // /model/new) would need litellm_params instead; ours come from config.yaml.
    model_info: {
      mode: "chat",
      ...(i.prices?.[m.name] ? { input_cost_per_token: i.prices[m.name]!.inputCostPerToken, output_cost_per_token: i.prices[m.name]!.outputCostPerToken } : {}),
    },
  }));
  if (i.embeddings)
    modelList.push({
      model_name: i.embeddings.name,
      // TEI's OpenAI-compatible POST /v1/embeddings (TEI v1.9.3 router/src/http/server.rs
      // `openai_embed`, which truncates to the model's window: `let truncate = info.auto_truncate`).
      // Not LiteLLM's huggingface/ provider: it looks up https://huggingface.co/api/models/<model>
      // on every request (litellm llms/huggingface/embedding/handler.py), which fails offline.
      // TEI ignores `model` (router/src/http/types.rs OpenAICompatRequest) and, started without
      // --api-key, the Authorization header; the OpenAI client inside LiteLLM refuses to send a
      // request without a key, so the route names one the gateway already holds.
      litellm_params: { model: `openai/${i.embeddings.name}`, api_base: `${i.embeddings.url}/v1`, api_key: "os.environ/VLLM_API_KEY" },
      model_info: { mode: "embedding" },
    });
  if (i.rerank)
    modelList.push({
      model_name: i.rerank.name,
      // TEI's POST /rerank takes {query, texts} (router/src/http/types.rs RerankRequest); of
      // LiteLLM's rerank providers only huggingface/ sends `texts` (the others send Cohere's
      // `documents`), and it always sends `"truncate": false` (litellm
      // llms/huggingface/rerank/transformation.py `transform_rerank_request`). TEI honours an
      // explicit false over --auto-truncate (server.rs `rerank`: `req.truncate.unwrap_or(...)`)
      // and refuses a (query, text) pair longer than the model's window (core/src/tokenization.rs
      // `encode_input`). So through the gateway, long inputs need a reranker with a long window
      // (gte-reranker-modernbert-base: 8192 tokens); see docs/gateway.md "Long inputs".
      litellm_params: { model: `huggingface/${i.rerank.upstream ?? i.rerank.name}`, api_base: i.rerank.url },
      model_info: { mode: "rerank" },
    });
  const guardrail = (name: string, mode: "pre_call" | "post_call") => ({
    guardrail_name: name,
    litellm_params: { guardrail: "generic_guardrail_api", mode, api_base: i.safetyUrl, default_on: true, unreachable_fallback: "fail_closed" },
  });
  // Retries (docs/scaling.md): two immediate ones (another replica behind the Service; a spot
  // reclaim's connection errors) unless a model may be at zero, then a budget that outlasts its wake.
  const retries = routerRetryBudget(i.models.flatMap((m) => (m.scaleFromZero ? [m.scaleFromZero] : [])));
  return {
    model_list: modelList,
    ...(i.safetyUrl ? { guardrails: [guardrail("safety-input", "pre_call"), guardrail("safety-output", "post_call")] } : {}),
    litellm_settings: {
      callbacks: ["prometheus"],
      cache: true,
      cache_params: { type: "redis", host: "os.environ/REDIS_HOST", port: "os.environ/REDIS_PORT", password: "os.environ/REDIS_PASSWORD", ssl: true },
      request_timeout: ALB_IDLE_TIMEOUT_SECONDS,
      num_retries: retries.numRetries,
    },
    router_settings: {
      redis_host: "os.environ/REDIS_HOST",
      redis_port: "os.environ/REDIS_PORT",
      redis_password: "os.environ/REDIS_PASSWORD",
      enable_pre_call_checks: true,
      num_retries: retries.numRetries,
      // The least wait between attempts (litellm router `_time_to_sleep_before_retry` ->
      // `_calculate_retry_after(min_timeout=retry_after)`); 0 keeps LiteLLM's own 0.5-8 s backoff.
      ...(retries.retryAfterSeconds > 0 ? { retry_after: retries.retryAfterSeconds } : {}),
    },
    general_settings: {
      master_key: "os.environ/PROXY_MASTER_KEY",
      database_url: "os.environ/DATABASE_URL",
      // Spend is recorded; prompt and response text are not.
      store_prompts_in_spend_logs: false,
    },
  };
}

export interface GatewayValuesInputs {
  readonly config: PlatformConfig["edge"]["gateway"];
  readonly proxyConfig: Record<string, unknown>;
  readonly postgresHost: pulumi.Input<string>;
  readonly redisHost: pulumi.Input<string>;
}

/**
 * LiteLLM's non-root image (docker/Dockerfile.non_root) runs as `nobody` (65534), a user name,
 * so the id is set for kubelet's runAsNonRoot check. It keeps Prisma's binaries and npm's cache
 * under /app/.cache (HOME=/app, XDG_CACHE_HOME), which the chart does not mount as a volume.
 */
export const LITELLM_HARDENING: Hardening = {
  runAsUser: 65534,
  runAsGroup: 65534,
  fsGroup: 65534,
  writableRootFilesystem: { why: "the non-root image writes Prisma's and npm's caches under /app/.cache" },
};

export function litellmValues(i: GatewayValuesInputs): Record<string, unknown> {
  const r = i.config.replicas;
  return {
    image: { repository: IMAGES.litellm.repository, tag: IMAGES.litellm.tag, pullPolicy: "IfNotPresent" },
    replicaCount: r.min,
    autoscaling: { enabled: true, minReplicas: r.min, maxReplicas: r.max, targetCPUUtilizationPercentage: 70 },
    pdb: { enabled: true, maxUnavailable: 1 },
    serviceMonitor: { enabled: true, interval: "15s" },
    serviceAccount: { create: true, name: GATEWAY_SA },
    // Pod Security "restricted" (the gateway namespace enforces it): the chart's contexts default
    // to {} (helm/litellm-helm values.yaml podSecurityContext/securityContext). The proxy reads
    // both; the migration Job reads only securityContext (templates/migrations-job.yaml), so the
    // container context carries the user and seccomp too.
    podSecurityContext: podSecurityContext(LITELLM_HARDENING),
    securityContext: containerSecurityContext(LITELLM_HARDENING),
    podLabels: { "app.kubernetes.io/component": "gateway", "app.kubernetes.io/part-of": "llm-platform" },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { "app.kubernetes.io/name": GATEWAY_RELEASE } } }],
    resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
    masterkeySecretName: MASTER_KEY_SECRET,
    masterkeySecretKey: "master-key",
    environmentSecrets: [ENV_SECRET],
    envVars: {
      REDIS_HOST: i.redisHost,
      REDIS_PORT: String(REDIS_PORT),
      REDIS_SSL: "True",
      // Use the cost map shipped in the image; do not fetch it from GitHub at start.
      LITELLM_LOCAL_MODEL_COST_MAP: "True",
    },
    db: {
      useExisting: true,
      deployStandalone: false,
      endpoint: pulumi.interpolate`${i.postgresHost}:${POSTGRES_PORT}`,
      database: DATABASE_NAME,
      url: "postgresql://$(DATABASE_USERNAME):$(DATABASE_PASSWORD)@$(DATABASE_HOST)/$(DATABASE_NAME)?sslmode=require",
      secret: { name: DB_SECRET, usernameKey: "username", passwordKey: "password" },
    },
    redis: { enabled: false },
    // Schema migrations run as a Helm pre-install/pre-upgrade hook (this is not Argo CD).
    // The Job's pod stays out of the mesh: it only reaches RDS (outside the mesh), and with no
    // pod security context of its own (templates/migrations-job.yaml) the injected containers
    // would carry no seccomp profile, which restricted refuses. migrationJob.annotations go on
    // the Job's pod template.
    migrationJob: { enabled: true, annotations: { "sidecar.istio.io/inject": "false" }, hooks: { argocd: { enabled: false }, helm: { enabled: true } } },
    proxyConfigMap: { create: true },
    proxy_config: i.proxyConfig,
  };
}

/** The gateway's secrets from Vault. */
export function gatewaySecretSpecs(pathPrefix: string): ExternalSecretSpec[] {
  return [
    { name: MASTER_KEY_SECRET, namespace: GATEWAY_NS, component: "gateway", data: [{ secretKey: "master-key", ref: generatedRef(pathPrefix, "litellm", "master-key") }] },
    { name: DB_SECRET, namespace: GATEWAY_NS, component: "gateway", data: ["username", "password"].map((k) => ({ secretKey: k, ref: generatedRef(pathPrefix, "postgres", k) })) },
    {
      name: ENV_SECRET,
      namespace: GATEWAY_NS,
      component: "gateway",
      data: [
        { secretKey: "VLLM_API_KEY", ref: generatedRef(pathPrefix, "vllm", "api-key") },
        { secretKey: "REDIS_PASSWORD", ref: generatedRef(pathPrefix, "redis", "auth-token") },
        { secretKey: "LITELLM_SALT_KEY", ref: generatedRef(pathPrefix, "litellm", "salt-key") },
      ],
    },
  ];
}

export interface IngressInputs {
  readonly lb: PlatformConfig["edge"]["loadBalancer"];
  readonly logsBucket: pulumi.Input<string>;
  readonly webAclArn?: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

/**
 * The ALB's IngressGroup (aws-load-balancer-controller, "IngressGroup": Ingresses with the same
 * group.name share one ALB, their rules ordered by group.order, lower first). The RAG service's
 * Ingress joins it for /rag (components/rag.ts), ahead of the gateway's catch-all "/".
 */
export const GATEWAY_INGRESS_GROUP = "llm-gateway";
export const GATEWAY_INGRESS_ORDER = 100;

/** The ALB: TLS from ACM, HTTP -> HTTPS, access logs, WAF, IP targets. */
export function gatewayIngress(i: IngressInputs): k8s.networking.v1.IngressArgs {
  const a = "alb.ingress.kubernetes.io";
  return {
    metadata: {
      name: "gateway",
      namespace: GATEWAY_NS,
      labels: recommendedLabels("gateway", "gateway"),
      annotations: {
        [`${a}/group.name`]: GATEWAY_INGRESS_GROUP,
        [`${a}/group.order`]: String(GATEWAY_INGRESS_ORDER),
        [`${a}/scheme`]: i.lb.scheme,
        [`${a}/target-type`]: "ip",
        [`${a}/listen-ports`]: JSON.stringify([{ HTTP: 80 }, { HTTPS: 443 }]),
        [`${a}/ssl-redirect`]: "443",
        [`${a}/certificate-arn`]: i.lb.certificateArn!,
        [`${a}/ssl-policy`]: TLS_POLICY,
        [`${a}/healthcheck-path`]: "/health/liveliness",
        [`${a}/load-balancer-attributes`]: pulumi.interpolate`access_logs.s3.enabled=true,access_logs.s3.bucket=${i.logsBucket},access_logs.s3.prefix=gateway,idle_timeout.timeout_seconds=${ALB_IDLE_TIMEOUT_SECONDS},routing.http.drop_invalid_header_fields.enabled=true`,
        [`${a}/tags`]: Object.entries(i.tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(","),
        ...(i.webAclArn ? { [`${a}/wafv2-acl-arn`]: i.webAclArn } : {}),
      },
    },
    spec: {
      ingressClassName: "alb",
      rules: [{ http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: GATEWAY_RELEASE, port: { number: GATEWAY_PORT } } } }] } }],
    },
  };
}

/** WAF: a per-IP rate limit, AWS's common and known-bad-input rule sets. */
export function webAclArgs(name: string, rateLimitPer5Min: number): aws.wafv2.WebAclArgs {
  const visibility = (metric: string) => ({ cloudwatchMetricsEnabled: true, metricName: metric, sampledRequestsEnabled: true });
  return {
    name,
    scope: "REGIONAL",
    description: "LLM gateway ALB",
    defaultAction: { allow: {} },
    visibilityConfig: visibility(name),
    rules: [
      { name: "rate-limit-per-ip", priority: 0, action: { block: {} }, statement: { rateBasedStatement: { limit: rateLimitPer5Min, aggregateKeyType: "IP" } }, visibilityConfig: visibility(`${name}-rate`) },
      {
        name: "aws-common",
        priority: 1,
        overrideAction: { none: {} },
        statement: {
          managedRuleGroupStatement: {
            vendorName: "AWS",
            name: "AWSManagedRulesCommonRuleSet",
            // Prompts exceed the rule set's 8 KB body limit; count those instead of blocking.
            ruleActionOverrides: [{ name: "SizeRestrictions_BODY", actionToUse: { count: {} } }],
          },
        },
        visibilityConfig: visibility(`${name}-common`),
      },
      {
        name: "aws-known-bad-inputs",
        priority: 2,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: "AWS", name: "AWSManagedRulesKnownBadInputsRuleSet" } },
        visibilityConfig: visibility(`${name}-bad-inputs`),
      },
    ],
  };
}

/** Under Istio STRICT mTLS the ALB (outside the mesh) must still reach LiteLLM's port. */
export function gatewayPeerAuthentication(): Record<string, unknown> {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "gateway-from-alb", namespace: GATEWAY_NS, labels: recommendedLabels("gateway-from-alb", "network-security") },
    spec: { selector: { matchLabels: { "app.kubernetes.io/component": "gateway" } }, mtls: { mode: "STRICT" }, portLevelMtls: { [GATEWAY_PORT]: { mode: "PERMISSIVE" } } },
  };
}

export interface GatewayArgs {
  readonly config: Pick<PlatformConfig, "edge" | "environment" | "vault" | "networkSecurity" | "models" | "gpuPools" | "karpenter" | "embeddings" | "budget" | "economics">;
  readonly clusterName: string;
  readonly tags: Record<string, string>;
  readonly proxy: ProxyConfigInputs;
  readonly postgresHost: pulumi.Input<string>;
  readonly redisHost: pulumi.Input<string>;
  readonly k8sProvider: k8s.Provider;
  readonly secretStore: pulumi.Resource;
  /** The namespace, the load balancer controller, the monitoring CRDs. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class Gateway extends pulumi.ComponentResource {
  public readonly hostname: pulumi.Output<string>;
  public readonly serviceUrl: string;

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:edge:Gateway", name, {}, opts);
    const edge = args.config.edge;
    const child = { parent: this };
    const k8sOpts = { parent: this, provider: args.k8sProvider };

    const account = aws.getCallerIdentityOutput({}, child);
    const elb = aws.elb.getServiceAccountOutput({}, child);
    const logs = new PrivateBucket(
      `${name}-alb-logs`,
      {
        bucketName: pulumi.interpolate`${args.clusterName}-alb-logs-${account.accountId}`,
        versioning: false,
        expirationDays: edge.loadBalancer.accessLogRetentionDays,
        extraStatements: (arn) =>
          pulumi.all([elb.arn, account.accountId]).apply(([elbArn, id]) => [
            { Sid: "AlbAccessLogs", Effect: "Allow" as const, Principal: { AWS: elbArn }, Action: "s3:PutObject", Resource: `${arn}/gateway/AWSLogs/${id}/*` },
          ]),
      },
      child,
    );
    const webAcl = edge.loadBalancer.waf.enabled ? new aws.wafv2.WebAcl(`${name}-waf`, webAclArgs(`${args.clusterName}-gateway`, edge.loadBalancer.waf.rateLimitPer5Min), child) : undefined;

    const secrets = gatewaySecretSpecs(args.config.vault.pathPrefix).map((s) => Secrets.externalSecret(`${name}-${s.name}`, s, args.secretStore, { ...k8sOpts, dependsOn: args.dependsOn }));
    const chart = release(
      `${name}-litellm`,
      {
        name: GATEWAY_RELEASE,
        namespace: GATEWAY_NS,
        pin: CHARTS.litellm,
        timeout: 900,
        values: litellmValues({ config: edge.gateway, proxyConfig: litellmProxyConfig({ ...args.proxy, prices: args.proxy.prices ?? gatewayTokenPrices(args.config) }), postgresHost: args.postgresHost, redisHost: args.redisHost }),
      },
      { ...k8sOpts, dependsOn: [...secrets, ...args.dependsOn] },
    );
    const ingress = new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      gatewayIngress({ lb: edge.loadBalancer, logsBucket: logs.name, ...(webAcl ? { webAclArn: webAcl.arn } : {}), tags: args.tags }),
      { ...k8sOpts, dependsOn: [chart, ...args.dependsOn] },
    );
    if (args.config.networkSecurity.istio.enabled) {
      new k8s.apiextensions.CustomResource(`${name}-alb-mtls`, gatewayPeerAuthentication() as k8s.apiextensions.CustomResourceArgs, { ...k8sOpts, dependsOn: args.dependsOn });
    }
    this.hostname = ingress.status.loadBalancer.ingress.apply((i) => i?.[0]?.hostname ?? "(pending)");
    this.serviceUrl = `http://${GATEWAY_RELEASE}.${GATEWAY_NS}.svc:${GATEWAY_PORT}`;
    this.registerOutputs({ hostname: this.hostname, serviceUrl: this.serviceUrl });
  }
}

/** The gateway's pods (proxy and migration Job carry the chart's podLabels). */
export const GATEWAY_PODS: PodPeer = { namespace: GATEWAY_NS, pods: WORKLOAD.gateway };

/**
 * The gateway's flows, from what it routes to: the ALB (in the public subnets, IP targets) to
 * LiteLLM; LiteLLM to each model server, TEI and the safety service; LiteLLM and its migration
 * Job to RDS and ElastiCache; Prometheus to its /metrics on the proxy port.
 */
export function gatewayFlows(cfg: PlatformConfig, p: Peers, routes: { models: boolean; embeddings: boolean; rerank: boolean; safety: boolean }): Flow[] {
  const serving = (ns: string, component: string): PodPeer => ({ namespace: ns, pods: { "app.kubernetes.io/component": component } });
  return [
    flow("alb-to-gateway", p.loadBalancers, GATEWAY_PODS, tcp(GATEWAY_PORT), "the ALB reaches LiteLLM pods directly (IP targets) from the public subnets"),
    ...(routes.models ? [flow("gateway-to-model-servers", GATEWAY_PODS, serving(NAMESPACES.inference.name, "model-server"), tcp(PORTS.vllm), "the gateway routes completions")] : []),
    ...(routes.embeddings ? [flow("gateway-to-tei-embed", GATEWAY_PODS, serving(NAMESPACES.embeddings.name, "embeddings"), tcp(PORTS.tei), "the gateway routes embeddings")] : []),
    ...(routes.rerank ? [flow("gateway-to-tei-rerank", GATEWAY_PODS, serving(NAMESPACES.embeddings.name, "reranker"), tcp(PORTS.tei), "the gateway routes rerank")] : []),
    ...(routes.safety ? [flow("gateway-to-safety", GATEWAY_PODS, serving(NAMESPACES.safety.name, "safety"), tcp(PORTS.safety), "guardrail calls before and after each completion")] : []),
    flow("gateway-to-datastores", GATEWAY_PODS, p.datastores, tcp(POSTGRES_PORT, REDIS_PORT), "LiteLLM (and its migration Job) reach RDS and ElastiCache in the private subnets"),
    // The chart's ServiceMonitor scrapes /metrics on the proxy port, which gatewayPeerAuthentication
    // leaves PERMISSIVE (the ALB cannot speak mTLS), so Prometheus scrapes it in plaintext there.
    flow("prometheus-scrapes-gateway", PROMETHEUS, GATEWAY_PODS, tcp(GATEWAY_PORT), "Prometheus scrapes LiteLLM (serviceMonitor.enabled)"),
  ];
}
