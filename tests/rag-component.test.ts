import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { networkFacts, peers } from "../components/flows";
import { gatewayIngress, litellmProxyConfig } from "../components/gateway";
import { declaredFlows } from "../components/platform-flows";
import { contextHash } from "../components/safety";
import {
  OTLP_HTTP_TRACES_ENDPOINT,
  RAG_BUILD_INPUTS,
  RAG_SOURCE_DIR,
  ragDeployment,
  ragFlows,
  ragHpa,
  ragIngress,
  ragPdb,
  ragPeerAuthentication,
  ragServiceConfig,
  ragServiceMonitor,
  type RagEndpoints,
} from "../components/rag";
import { type PlatformConfig } from "../infra/config";
import { HELM_RELEASE_TYPE } from "../stacks/plan/render";
import { admissionProblems } from "./cluster/admission";
import { buildModel } from "./cluster/model";
import { networkProblems } from "./cluster/network";
import { orderingProblems } from "./cluster/ordering";
import { referenceProblems } from "./cluster/references";
import { secretsProblems } from "./cluster/secrets";
import { ofType, stack, STACKS, stackWith, type RunResult } from "./support/stacks";
import { configOf, problems } from "./support/config";

const ENDPOINTS: RagEndpoints = {
  milvus: "milvus.vectordb.svc:19530",
  embed: "http://tei-embed.embeddings.svc:80",
  rerank: "http://tei-rerank.embeddings.svc:80",
  gateway: "http://litellm.gateway.svc:4000",
  otlpTraces: OTLP_HTTP_TRACES_ENDPOINT,
};

describe("rag config file (pure builder)", () => {
  it("renders the stack's rag area into the service's config keys, valid for the service's own schema", async () => {
    const c = configOf("prod", (r) => {
      r.rag = { ...r.rag, tenantFrom: "team_id", fusion: { kind: "weighted", bm25: 0.4, dense: 0.6 }, candidates: 200, topK: 5, collections: ["kb", "tickets"], chunking: { maxTokens: 256, overlapTokens: 32 } };
    });
    const file = ragServiceConfig(c, ENDPOINTS);
    expect(file).toMatchObject({
      server: { port: 8080, pathPrefix: "/rag" },
      auth: { mode: "gateway-key", tenantFrom: "team_id" },
      store: "milvus",
      milvus: { address: "milvus.vectordb.svc:19530", bootstrap: true },
      collections: { names: ["kb", "tickets"], dim: 1024, hnsw: { ef: 200 } },
      embeddings: { url: "http://tei-embed.embeddings.svc:80", maxInputTokens: 512 },
      rerank: { enabled: true, url: "http://tei-rerank.embeddings.svc:80", depth: 32, minScore: 0.1 },
      gateway: { url: "http://litellm.gateway.svc:4000", model: "gpt-oss-20b", maxAnswerTokens: 1024, contextTokens: 8192 },
      chunking: { maxTokens: 256, overlapTokens: 32 },
      retrieval: { fusion: { kind: "weighted", bm25: 0.4, dense: 0.6 }, candidates: 200, topK: 5, maxTopK: 50 },
      tracing: { serviceName: "rag", otlpEndpoint: "http://otel-collector.tracing.svc:4318/v1/traces" },
    });
    const { configSchema } = await import("../services/rag/src/config");
    const parsed = configSchema.safeParse(file);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(JSON.stringify(file)).not.toMatch(/password|api-?key|token"/i);
  });

  it("keeps HNSW ef at 128 unless more candidates are asked for, leaves tracing unexported without an endpoint, and turns rerank off without a reranker URL", () => {
    const c = configOf("dev");
    const file = ragServiceConfig(c, { milvus: "m:19530", embed: "http://e", gateway: "http://g:4000" }) as any;
    expect(file.collections.hnsw).toEqual({ ef: 128 });
    expect(file.tracing).toEqual({ serviceName: "rag" });
    expect(file.rerank).toEqual({ enabled: false });
    expect(file.retrieval.fusion).toEqual({ kind: "rrf", k: 60 });
  });
});

describe("rag Deployment and scaling (pure builders)", () => {
  const cfg = configOf("prod").rag;
  const d: any = ragDeployment(cfg, "rag", "repo/rag@sha256:" + "a".repeat(64));
  const pod = d.spec.template.spec;
  const c = pod.containers[0];

  it("reads its secrets from the ExternalSecret's Secret only, and holds no gateway key", () => {
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom.secretKeyRef]));
    expect(env).toEqual({
      RAG_CONFIG_PATH: "/etc/rag/config.yaml",
      PORT: "8080",
      MILVUS_USERNAME: { name: "rag-milvus", key: "username" },
      MILVUS_PASSWORD: { name: "rag-milvus", key: "password" },
    });
  });

  it("runs as the distroless nonroot user with a read-only root filesystem and no writable volume", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.volumes).toEqual([{ name: "config", configMap: { name: "rag-config" } }]);
    expect(c.volumeMounts).toEqual([{ name: "config", mountPath: "/etc/rag", readOnly: true }]);
  });

  it("probes /health and /ready on 8080, requests the contract's resources, spreads over zones, and names its metrics endpoint", () => {
    expect(c.livenessProbe.httpGet).toEqual({ path: "/health", port: 8080 });
    expect(c.startupProbe.httpGet).toEqual({ path: "/health", port: 8080 });
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: "/ready", port: 8080 }, initialDelaySeconds: 5 });
    expect(c.resources).toEqual({ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } });
    expect(pod.topologySpreadConstraints[0].topologyKey).toBe("topology.kubernetes.io/zone");
    expect(d.spec.template.metadata.annotations).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics" });
  });

  it("scales on CPU within the configured bounds, keeps one pod through disruptions, and is scraped through Istio's merged port when meshed", () => {
    expect((ragHpa(cfg, "rag").spec as any).metrics[0].resource).toEqual({ name: "cpu", target: { type: "Utilization", averageUtilization: 70 } });
    expect(ragHpa(cfg, "rag").spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(ragPdb(cfg, "rag").spec).toMatchObject({ minAvailable: 1 });
    expect(ragPdb({ ...cfg, replicas: { min: 1, max: 2 } }, "rag").spec).toMatchObject({ maxUnavailable: 1 });
    expect(ragServiceMonitor("rag", true).spec.endpoints[0]).toMatchObject({ port: "metrics-merged", path: "/stats/prometheus" });
    expect(ragServiceMonitor("rag", false).spec.endpoints[0]).toMatchObject({ port: "http", path: "/metrics" });
  });
});

describe("rag flows", () => {
  const summary = (c: PlatformConfig) =>
    ragFlows(c, peers(networkFacts(c))).map((f) => [f.name, JSON.stringify(f.to), f.ports.map((p) => p.port).join(",")]);

  it("declares exactly Milvus, TEI embed and rerank, the gateway both ways, the scrape and OTLP (prod: cluster Milvus, Istio, tracing)", () => {
    const c = configOf("prod");
    expect(summary(c)).toEqual([
      ["rag-to-milvus", JSON.stringify({ namespace: "vectordb", pods: { "app.kubernetes.io/name": "milvus", "app.kubernetes.io/instance": "milvus", component: "proxy" } }), "19530"],
      ["rag-to-tei-embed", JSON.stringify({ namespace: "embeddings", pods: { "app.kubernetes.io/component": "embeddings" } }), "80"],
      ["rag-to-tei-rerank", JSON.stringify({ namespace: "embeddings", pods: { "app.kubernetes.io/component": "reranker" } }), "80"],
      ["rag-to-gateway", JSON.stringify({ namespace: "gateway", pods: { "app.kubernetes.io/component": "gateway" } }), "4000"],
      ["alb-to-rag", JSON.stringify({ namespace: "rag", pods: { "app.kubernetes.io/component": "rag" } }), "8080"],
      ["prometheus-scrapes-rag", JSON.stringify({ namespace: "rag", pods: { "app.kubernetes.io/component": "rag" } }), c.networkSecurity.istio.enabled ? "15020" : "8080"],
      ["rag-to-otel-collector", JSON.stringify({ namespace: "tracing", pods: { "app.kubernetes.io/name": "opentelemetry-collector" } }), "4317,4318"],
    ]);
  });

  it("targets the standalone Milvus pod in standalone mode, and drops rerank and OTLP when they are off", () => {
    const c = configOf("dev", (r) => {
      r.rag.rerank = { enabled: false };
      r.rag.gatewayRoute = false;
      r.observability.tracing.enabled = false;
    });
    const flows = summary(c);
    expect(c.vectorDb.mode).toBe("standalone");
    expect(flows.find((f) => f[0] === "rag-to-milvus")![1]).toContain('"component":"standalone"');
    expect(flows.map((f) => f[0])).toEqual(["rag-to-milvus", "rag-to-tei-embed", "rag-to-gateway", "prometheus-scrapes-rag"]);
  });
});

describe("the /rag route on the gateway's ALB (pure builders)", () => {
  const lb = { scheme: "internet-facing", certificateArn: "arn:aws:acm:us-east-1:1:certificate/x" } as any;

  it("joins the gateway's IngressGroup ahead of its catch-all, on HTTPS, with the same certificate and scheme", () => {
    const ing: any = ragIngress(lb, "rag");
    const a = ing.metadata.annotations;
    const gw: any = gatewayIngress({ lb, logsBucket: "b", tags: {} });
    expect(a["alb.ingress.kubernetes.io/group.name"]).toBe(gw.metadata.annotations["alb.ingress.kubernetes.io/group.name"]);
    expect(Number(a["alb.ingress.kubernetes.io/group.order"])).toBeLessThan(Number(gw.metadata.annotations["alb.ingress.kubernetes.io/group.order"]));
    for (const k of ["scheme", "certificate-arn", "ssl-policy", "target-type"]) expect(a[`alb.ingress.kubernetes.io/${k}`]).toBe(gw.metadata.annotations[`alb.ingress.kubernetes.io/${k}`]);
    expect(JSON.parse(a["alb.ingress.kubernetes.io/listen-ports"])).toEqual([{ HTTPS: 443 }]);
    expect(ing.spec.rules[0].http.paths).toEqual([{ path: "/rag", pathType: "Prefix", backend: { service: { name: "rag", port: { number: 8080 } } } }]);
  });

  it("leaves the service's port PERMISSIVE for the ALB (outside the mesh), STRICT otherwise", () => {
    expect((ragPeerAuthentication("rag") as any).spec).toEqual({ selector: { matchLabels: { "app.kubernetes.io/component": "rag" } }, mtls: { mode: "STRICT" }, portLevelMtls: { 8080: { mode: "PERMISSIVE" } } });
  });

  it("puts no pass-through route in LiteLLM's config (it needs an Enterprise licence for key auth)", () => {
    expect((litellmProxyConfig({ models: [{ name: "m", url: "http://m" }] }) as any).general_settings).not.toHaveProperty("pass_through_endpoints");
  });
});

describe("rag config checks", () => {
  it("defaults to off", () => {
    expect(configOf("dev", (r) => delete r.rag).rag.enabled).toBe(false);
  });

  it("refuses an answerModel that is not a configured model, naming the key and the fix", () => {
    expect(problems("dev", (r) => (r.rag.answerModel = "gpt-oss-120b"))).toEqual([
      { path: "rag.answerModel", message: '"gpt-oss-120b" is not a configured model (models: gpt-oss-20b); set rag.answerModel to one of them, or add models.gpt-oss-120b' },
    ]);
    // Off, the service is not deployed and the key is not checked.
    expect(problems("dev", (r) => (r.rag = { enabled: false, answerModel: "gpt-oss-120b" }))).toEqual([]);
  });

  it("refuses a context budget over the answer model's maxModelLen and chunks over the embedding model's input limit", () => {
    const maxModelLen = configOf("dev").models["gpt-oss-20b"]!.maxModelLen;
    expect(problems("dev", (r) => (r.rag.contextTokens = maxModelLen + 1))).toEqual([
      { path: "rag.contextTokens", message: `must be <= models.gpt-oss-20b.maxModelLen (${maxModelLen}), the answer model's context, got ${maxModelLen + 1}` },
    ]);
    expect(problems("dev", (r) => (r.rag.chunking = { maxTokens: 600, overlapTokens: 40 }))).toEqual([
      { path: "rag.chunking.maxTokens", message: "must be <= the embedding model's input limit (bge-large-en-v1.5: 512 tokens), got 600" },
    ]);
  });

  it("gives clear errors for bad shapes and inconsistent values", () => {
    const p = problems("dev", (r) => {
      r.rag.chunking = { maxTokens: 100, overlapTokens: 100 };
      r.rag.fusion = { kind: "weighted", bm25: 0, dense: 0 };
      r.rag.collections = ["rag chunks"];
      r.rag.topk = 3;
    });
    expect(p).toEqual(
      expect.arrayContaining([
        { path: "rag.chunking.overlapTokens", message: "must be smaller than rag.chunking.maxTokens (100), got 100" },
        { path: "rag.fusion.bm25", message: "rag.fusion.bm25 and rag.fusion.dense cannot both be 0" },
        { path: "rag.collections[0]", message: "a Milvus collection name: letters, digits and _, starting with a letter or _" },
        { path: "rag.topk", message: 'unknown key; did you mean "topK"?' },
      ]),
    );
    expect(problems("dev", (r) => (r.rag.fusion = { kind: "mmr" }))).toEqual([{ path: "rag.fusion.kind", message: 'expected one of "rrf", "weighted", got string "mmr"' }]);
    expect(problems("dev", (r) => (r.rag.rerank = { depth: 4 }))).toEqual([{ path: "rag.rerank.depth", message: "must be >= rag.topK (8) so that the reranked list fills the answer, got 4" }]);
  });

  it("needs the gateway and the embedder when enabled", () => {
    expect(problems("dev", (r) => (r.embeddings.embed.enabled = false))).toContainEqual({ path: "rag.enabled", message: "the RAG service embeds through TEI: set embeddings.embed.enabled to true, or rag.enabled to false" });
    expect(problems("dev", (r) => (r.embeddings.rerank.enabled = false))).toContainEqual({
      path: "rag.rerank.enabled",
      message: "the reranker is off (embeddings.rerank.enabled: false): set rag.rerank.enabled to false, or turn the reranker on",
    });
  });
});

const inRag = (r: RunResult, type: string) => ofType(r, type).filter((x) => x.inputs.metadata?.namespace === "rag");

describe.each(STACKS)("rag in the %s stack", (name) => {
  it("is deployed with its Deployment, Service, PDB, CPU HPA (no ScaledObject), ServiceMonitor and ConfigMap, from an image by digest", async () => {
    const r = await stack(name);
    expect(r.config.rag.enabled).toBe(true);
    const [d] = inRag(r, "kubernetes:apps/v1:Deployment");
    expect(d!.inputs.metadata.name).toBe("rag");
    expect(d!.inputs.spec.template.spec.containers[0].image).toMatch(new RegExp(`^123456789012\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/llm-platform-${name}/rag@sha256:[0-9a-f]{64}$`));
    expect(inRag(r, "kubernetes:core/v1:Service").map((s) => s.inputs.spec.ports[0])).toEqual([{ name: "http", port: 8080, targetPort: 8080, protocol: "TCP" }]);
    expect(inRag(r, "kubernetes:policy/v1:PodDisruptionBudget")).toHaveLength(1);
    expect(inRag(r, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").map((h) => h.inputs.spec)).toEqual([expect.objectContaining({ minReplicas: r.config.rag.replicas.min, maxReplicas: r.config.rag.replicas.max })]);
    expect(inRag(r, "kubernetes:keda.sh/v1alpha1:ScaledObject")).toEqual([]);
    expect(inRag(r, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")).toHaveLength(1);
    const image = ofType(r, "docker-build:index:Image").find((x) => x.name === "rag-image")!;
    expect(image.inputs.tags[0]).toMatch(new RegExp(`/rag:${contextHash(RAG_SOURCE_DIR, RAG_BUILD_INPUTS)}$`));
    expect(ofType(r, "aws:ecr/repository:Repository").find((x) => x.name === "rag-repo")!.inputs).toMatchObject({ name: `llm-platform-${name}/rag`, imageTagMutability: "IMMUTABLE" });
  });

  it("renders the config file from the stack's endpoints, valid for the service's schema", async () => {
    const r = await stack(name);
    const cm = inRag(r, "kubernetes:core/v1:ConfigMap").find((x) => x.inputs.metadata.name === "rag-config")!;
    const file = parseYaml(cm.inputs.data["config.yaml"]);
    expect(file.milvus.address).toBe("milvus.vectordb.svc:19530");
    expect(file.embeddings.url).toBe("http://tei-embed.embeddings.svc:80");
    expect(file.rerank.url).toBe("http://tei-rerank.embeddings.svc:80");
    expect(file.gateway).toMatchObject({ url: "http://litellm.gateway.svc:4000", model: r.config.rag.answerModel });
    expect(file.tracing.otlpEndpoint).toBe(r.config.observability.tracing.enabled ? OTLP_HTTP_TRACES_ENDPOINT : undefined);
    const { configSchema } = await import("../services/rag/src/config");
    expect(configSchema.safeParse(file).success).toBe(true);
  });

  it("reads the Milvus credentials from Vault through an ExternalSecret, and no gateway key", async () => {
    const r = await stack(name);
    const prefix = r.config.vault.pathPrefix;
    const es = Object.fromEntries(inRag(r, "kubernetes:external-secrets.io/v1:ExternalSecret").map((x) => [x.inputs.metadata.name, x.inputs.spec.data]));
    expect(es).toEqual({
      "rag-milvus": [
        { secretKey: "username", remoteRef: { key: `${prefix}/generated/milvus`, property: "username" } },
        { secretKey: "password", remoteRef: { key: `${prefix}/generated/milvus`, property: "password" } },
      ],
    });
  });

  it("is reachable on the gateway's ALB at /rag (an Ingress in its group, waiting for the edge), and exports ragUrl", async () => {
    const r = await stack(name);
    const ing = inRag(r, "kubernetes:networking.k8s.io/v1:Ingress");
    expect(ing).toHaveLength(1);
    expect(ing[0]!.inputs.spec.rules[0].http.paths[0].path).toBe("/rag");
    // Waiting for the edge component expands to its resources: the gateway's Ingress and the controller among them.
    const gatewayIngressUrn = ofType(r, "kubernetes:networking.k8s.io/v1:Ingress").find((x) => x.inputs.metadata.namespace === "gateway")!.urn;
    expect(ing[0]!.options.dependsOn).toContain(gatewayIngressUrn);
    expect(ing[0]!.options.dependsOn).toContain(ofType(r, HELM_RELEASE_TYPE).find((x) => x.inputs.name === "aws-load-balancer-controller")!.urn);
    expect(inRag(r, "kubernetes:security.istio.io/v1:PeerAuthentication")).toHaveLength(r.config.networkSecurity.istio.enabled ? 1 : 0);
    expect(r.outputs.ragUrl).toBe("http://rag.rag.svc:8080");
  });
});

describe("rag without the gateway route", () => {
  it("deploys the service but no Ingress and no alb-to-rag flow", async () => {
    const r = await stackWith("dev", (raw) => {
      raw["llm-platform:rag"].gatewayRoute = false;
    });
    expect(ofType(r, "kubernetes:apps/v1:Deployment").filter((d) => d.inputs.metadata.namespace === "rag")).toHaveLength(1);
    const litellm = ofType(r, HELM_RELEASE_TYPE).find((x) => x.inputs.name === "litellm")!.inputs;
    expect(litellm.values.proxy_config.general_settings).not.toHaveProperty("pass_through_endpoints");
    expect(ofType(r, "kubernetes:networking.k8s.io/v1:Ingress").filter((x) => x.inputs.metadata.namespace === "rag")).toEqual([]);
    expect(declaredFlows(r.config).map((f) => f.name)).not.toContain("alb-to-rag");
  });
});

describe("rag disabled", () => {
  it("leaves no object, route, flow or output behind", async () => {
    const r = await stackWith("dev", (raw) => {
      raw["llm-platform:rag"] = { enabled: false };
    });
    // The namespace stays (every stack has all platform namespaces), with its default-deny and DNS policies only.
    expect(r.resources.filter((x) => (x.inputs as any)?.metadata?.namespace === "rag" && x.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy")).toEqual([]);
    expect(declaredFlows(r.config).filter((f) => f.name.includes("rag")).map((f) => f.name)).toEqual(["rag-dns"]);
    expect(r.resources.filter((x) => x.name.startsWith("rag-"))).toEqual([]);
    const litellm = ofType(r, HELM_RELEASE_TYPE).find((x) => x.inputs.name === "litellm")!.inputs;
    expect(litellm.values.proxy_config.general_settings).not.toHaveProperty("pass_through_endpoints");
    expect(r.outputs).not.toHaveProperty("ragUrl");
  });
});

describe("the in-cluster evaluation Job (off by default)", () => {
  it("is off in every committed stack", async () => {
    for (const name of STACKS) expect(ofType(await stack(name), "kubernetes:batch/v1:Job").filter((j) => j.inputs.metadata.namespace === "rag")).toEqual([]);
  });

  it("needs a LiteLLM key in Vault when enabled, and says so", () => {
    expect(problems("dev", (r) => (r.rag.evaluation = { enabled: true }))).toEqual([
      { path: "rag.evaluation.apiKeyVaultRef", message: expect.stringMatching(/^required when rag\.evaluation\.enabled is true: a LiteLLM key in Vault/) },
    ]);
  });

  it("when enabled, runs the shipped questions against the service with a key from Vault, and passes the cluster model", async () => {
    const r = await stackWith("prod", (raw) => {
      raw["llm-platform:rag"].evaluation = { enabled: true, apiKeyVaultRef: "llm-platform/prod/rag-eval#api-key", minRecallAt5: 0.7 };
    });
    const job = ofType(r, "kubernetes:batch/v1:Job").find((j) => j.inputs.metadata.namespace === "rag")!;
    const c = job.inputs.spec.template.spec.containers[0];
    expect(c.command).toEqual(["node", "/app/dist/eval.cjs", "--url", "http://rag.rag.svc:8080", "--collection", r.config.rag.collections[0], "--min-recall5", "0.7"]);
    expect(c.env).toEqual([{ name: "RAG_EVAL_API_KEY", valueFrom: { secretKeyRef: { name: "rag-eval-key", key: "api-key" } } }]);
    const es = inRag(r, "kubernetes:external-secrets.io/v1:ExternalSecret").find((x) => x.inputs.metadata.name === "rag-eval-key")!;
    expect(es.inputs.spec.data).toEqual([{ secretKey: "api-key", remoteRef: { key: "llm-platform/prod/rag-eval", property: "api-key" } }]);
    // The whole cluster model holds with the Job in: its flow, its admission, its Secret's Vault path.
    const m = buildModel(r);
    const policies = m.objects.filter((o) => o.obj.kind === "NetworkPolicy").map((o) => o.obj as any);
    expect(networkProblems({ model: m, flows: declaredFlows(r.config), policies, facts: networkFacts(r.config) })).toEqual([]);
    expect([...admissionProblems(m), ...referenceProblems(m), ...orderingProblems(m), ...secretsProblems(m)]).toEqual([]);
  });
});
