import { beforeAll, describe, expect, it } from "vitest";
import { rdsInstanceArgs, replicationGroupArgs } from "../components/datastores";
import { gatewayIngress, litellmProxyConfig, webAclArgs } from "../components/gateway";
import { LBC_POLICY, loadBalancerControllerValues } from "../components/load-balancer";
import { platformNetworkPolicies } from "../components/network-security";
import { declaredFlows } from "../components/platform-flows";
import { CHARTS, IMAGES } from "../infra/catalog/versions";
import { HELM_RELEASE_TYPE } from "../stacks/plan/render";
import { allowed, type Pod } from "./support/netpol";
import { MODELS } from "../infra/catalog/models";
import { ofType, one, stack, STACKS, stackWith, type RunResult } from "./support/stacks";

const release = (r: RunResult, name: string) => ofType(r, HELM_RELEASE_TYPE).find((x) => x.inputs.name === name)!.inputs;
const A = "alb.ingress.kubernetes.io";

describe.each(STACKS)("edge in %s", (name) => {
  it("puts an ALB Ingress in front of LiteLLM: TLS from ACM, HTTP redirected, scheme per env, access logs, WAF where enabled", async () => {
    const r = await stack(name);
    const lb = r.config.edge.loadBalancer;
    const ing = one(r, "kubernetes:networking.k8s.io/v1:Ingress", "edge-gateway-ingress").inputs;
    const a = ing.metadata.annotations;
    expect(ing.spec.ingressClassName).toBe("alb");
    expect(a[`${A}/scheme`]).toBe(lb.scheme);
    expect(a[`${A}/certificate-arn`]).toBe(lb.certificateArn);
    expect(a[`${A}/ssl-redirect`]).toBe("443");
    expect(JSON.parse(a[`${A}/listen-ports`])).toEqual([{ HTTP: 80 }, { HTTPS: 443 }]);
    expect(a[`${A}/target-type`]).toBe("ip");
    expect(a[`${A}/load-balancer-attributes`]).toContain(`access_logs.s3.enabled=true,access_logs.s3.bucket=llm-platform-${name}-alb-logs-123456789012`);
    expect(a[`${A}/wafv2-acl-arn`] !== undefined).toBe(lb.waf.enabled);
    expect(ofType(r, "aws:wafv2/webAcl:WebAcl")).toHaveLength(lb.waf.enabled ? 1 : 0);
    expect(ing.spec.rules[0].http.paths[0].backend.service).toEqual({ name: "litellm", port: { number: 4000 } });
    // The access-log bucket lets only the regional ELB account write, under the gateway prefix.
    const policy = JSON.parse(ofType(r, "aws:s3/bucketPolicy:BucketPolicy").find((p) => p.name === "edge-gateway-alb-logs-tls-only")!.inputs.policy);
    expect(policy.Statement[1]).toMatchObject({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::127311923021:root" }, Action: "s3:PutObject" });
  });

  it("routes each model to its vLLM Service, embeddings and rerank to TEI, with the safety service as fail-closed pre- and post-call guardrail", async () => {
    const r = await stack(name);
    const v = release(r, "litellm");
    expect(v).toMatchObject({ chart: "oci://ghcr.io/berriai/litellm-helm", version: CHARTS.litellm.version, namespace: "gateway" });
    expect(v.values.image).toMatchObject({ repository: IMAGES.litellm.repository, tag: IMAGES.litellm.tag });
    const cfg = v.values.proxy_config;
    const services = ofType(r, "kubernetes:core/v1:Service").map((s) => s.inputs);
    const svcUrl = (ns: string, n: string) => {
      const s = services.find((x) => x.metadata.namespace === ns && x.metadata.name === n)!;
      return `http://${n}.${ns}.svc:${s.spec.ports[0].port}`;
    };
    for (const key of Object.keys(r.config.models)) {
      const route = cfg.model_list.find((m: any) => m.model_name === key);
      expect(route.litellm_params).toEqual({ model: `hosted_vllm/${key}`, api_base: `${svcUrl("inference", `vllm-${key}`)}/v1`, api_key: "os.environ/VLLM_API_KEY" });
    }
    // Embeddings through TEI's OpenAI-compatible /v1/embeddings, not LiteLLM's huggingface/
    // provider (which looks the model up on huggingface.co at every request).
    const embed = cfg.model_list.find((m: any) => m.model_info.mode === "embedding");
    expect(embed).toEqual({
      model_name: "bge-large-en-v1.5",
      litellm_params: { model: "openai/bge-large-en-v1.5", api_base: `${svcUrl("embeddings", "tei-embed")}/v1`, api_key: "os.environ/VLLM_API_KEY" },
      model_info: { mode: "embedding" },
    });
    expect(JSON.stringify(cfg.model_list)).not.toContain("huggingface/BAAI/bge-large");
    const rerank = cfg.model_list.find((m: any) => m.model_info.mode === "rerank");
    expect(rerank.litellm_params).toEqual({ model: "huggingface/Alibaba-NLP/gte-reranker-modernbert-base", api_base: svcUrl("embeddings", "tei-rerank") });
    const safety = svcUrl("safety", "safety");
    expect(cfg.guardrails).toEqual([
      { guardrail_name: "safety-input", litellm_params: { guardrail: "generic_guardrail_api", mode: "pre_call", api_base: safety, default_on: true, unreachable_fallback: "fail_closed" } },
      { guardrail_name: "safety-output", litellm_params: { guardrail: "generic_guardrail_api", mode: "post_call", api_base: safety, default_on: true, unreachable_fallback: "fail_closed" } },
    ]);
  });

  it("takes every credential from Vault: no secret in the chart values or the manifests", async () => {
    const r = await stack(name);
    const v = release(r, "litellm").values;
    expect(v.masterkeySecretName).toBe("litellm-master-key");
    expect(v.db).toMatchObject({ useExisting: true, deployStandalone: false, secret: { name: "litellm-db" } });
    expect(v.environmentSecrets).toEqual(["litellm-env"]);
    const text = JSON.stringify(v);
    for (const m of text.matchAll(/"(api_key|password|redis_password|master_key|database_url)":"([^"]*)"/g)) expect(m[2]).toMatch(/^os\.environ\/[A-Z_]+$/);
    const es = ofType(r, "kubernetes:external-secrets.io/v1:ExternalSecret").filter((x) => x.inputs.metadata.namespace === "gateway");
    expect(es.map((x) => x.inputs.metadata.name).sort()).toEqual(["litellm-db", "litellm-env", "litellm-master-key"]);
    const rds = one(r, "aws:rds/instance:Instance");
    expect(rds.inputs.password).toBe("[secret]");
    expect(one(r, "aws:elasticache/replicationGroup:ReplicationGroup").inputs.authToken).toBe("[secret]");
  });

  it("runs PostgreSQL encrypted, private, backed up and protected per env", async () => {
    const r = await stack(name);
    const d = r.config.edge.database;
    const db = one(r, "aws:rds/instance:Instance");
    expect(db.inputs).toMatchObject({
      engine: "postgres",
      storageEncrypted: true,
      publiclyAccessible: false,
      multiAz: d.multiAz,
      backupRetentionPeriod: d.backupRetentionDays,
      deletionProtection: d.deletionProtection,
      skipFinalSnapshot: name === "dev",
    });
    expect(db.options.protect).toBe(r.config.protection.protect);
    expect(db.options.retainOnDelete).toBe(r.config.protection.retainOnDelete);
    const sg = ofType(r, "aws:ec2/securityGroup:SecurityGroup").find((s) => s.name === "edge-datastores-postgres")!;
    expect(sg.inputs.ingress).toEqual([{ protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: ["sg-0mockeksmanaged"], description: "from the EKS cluster only" }]);
    if (name === "prod") expect(db.inputs.multiAz).toBe(true);
  });

  it("runs Redis encrypted in transit and at rest, with AUTH, and failover per env", async () => {
    const r = await stack(name);
    const c = r.config.edge.cache;
    const g = one(r, "aws:elasticache/replicationGroup:ReplicationGroup").inputs;
    expect(g).toMatchObject({ transitEncryptionEnabled: true, atRestEncryptionEnabled: true, automaticFailoverEnabled: c.automaticFailover, numCacheClusters: 1 + c.replicasPerShard });
    if (name === "prod") expect(g.automaticFailoverEnabled).toBe(true);
  });

  it("installs the AWS Load Balancer Controller with upstream's policy through Pod Identity, region and VPC explicit", async () => {
    const r = await stack(name);
    const v = release(r, "aws-load-balancer-controller");
    expect(v).toMatchObject({ version: CHARTS.awsLoadBalancerController.version, namespace: "kube-system" });
    expect(v.values).toMatchObject({ clusterName: `llm-platform-${name}`, region: "us-east-1", vpcId: "network-vpc-id" });
    const pia = ofType(r, "aws:eks/podIdentityAssociation:PodIdentityAssociation").find((x) => x.inputs.serviceAccount === "aws-load-balancer-controller")!;
    expect(pia.inputs.namespace).toBe("kube-system");
  });

  it("prices the ALB, RDS, ElastiCache and WAF into the budget", async () => {
    const r = await stack(name);
    const { estimateCost } = await import("../infra/cost");
    const e = estimateCost(r.resources, { spotDiscount: r.config.budget.spotDiscount });
    const items = e.lines.map((l) => l.item).join("\n");
    expect(items).toMatch(/RDS PostgreSQL/);
    expect(items).toMatch(/ElastiCache/);
    expect(items).toMatch(/Application Load Balancer/);
    expect(/WAF web ACL/.test(items)).toBe(r.config.edge.loadBalancer.waf.enabled);
  });
});

/**
 * The request bodies the gateway's routes send to TEI, as the pinned LiteLLM builds them:
 * - huggingface/ rerank: llms/huggingface/rerank/transformation.py `transform_rerank_request`
 *   starts from {raw_scores: false, truncate: false, truncation_direction: "Right"} and adds the
 *   mapped Cohere params (`map_cohere_rerank_params`: documents -> texts, return_documents ->
 *   return_text, top_n, query); nothing a client or the route config sends can change `truncate`.
 * - openai/ embeddings: the OpenAI client's {model, input, encoding_format}; TEI's
 *   /v1/embeddings has no truncate field at all (router/src/http/types.rs OpenAICompatRequest).
 */
const litellmRerankBody = (query: string, documents: string[]) => ({ raw_scores: false, truncate: false, truncation_direction: "Right", query, texts: documents, return_text: true });

/**
 * What TEI v1.9.3 does with one input of `tokens` tokens, from its arguments:
 * - its max input length is the model's window, cut to --max-batch-tokens when that is smaller
 *   and --auto-truncate is on (router/src/lib.rs `run`);
 * - it truncates when the request's `truncate` says so, or when the request leaves it unset and
 *   --auto-truncate is on (router/src/http/server.rs `rerank`: `req.truncate.unwrap_or(info.auto_truncate)`;
 *   `openai_embed`: `let truncate = info.auto_truncate`);
 * - an input over the max is cut when truncating, refused otherwise (core/src/tokenization.rs
 *   `encode_input`: "`inputs` must have less than {max_input_length} tokens").
 */
function teiOutcome(args: readonly string[], window: number, requestTruncate: boolean | undefined, tokens: number): "whole" | "truncated" | "refused" {
  const flag = (f: string) => args[args.indexOf(f) + 1];
  const autoTruncate = args.includes("--auto-truncate") ? flag("--auto-truncate") !== "false" : true;
  const maxBatch = Number(flag("--max-batch-tokens"));
  const max = window > maxBatch && autoTruncate ? maxBatch : window;
  if (tokens <= max) return "whole";
  return requestTruncate ?? autoTruncate ? "truncated" : "refused";
}

describe("long inputs through the gateway", () => {
  const teiArgsOf = (r: RunResult, role: "embed" | "rerank"): string[] =>
    ofType(r, "kubernetes:apps/v1:Deployment").find((d) => d.inputs.metadata.name === `tei-${role}`)!.inputs.spec.template.spec.containers[0].args;
  const route = (r: RunResult, mode: string) => release(r, "litellm").values.proxy_config.model_list.find((m: any) => m.model_info.mode === mode);

  it.each(STACKS)("%s: a 600-token text is embedded truncated, not refused (/v1/embeddings and --auto-truncate true)", async (name) => {
    const r = await stack(name);
    const e = route(r, "embedding");
    expect(e.litellm_params.api_base).toMatch(/\/v1$/);
    expect(e.litellm_params.model).toMatch(/^openai\//);
    const args = teiArgsOf(r, "embed");
    expect(teiOutcome(args, MODELS["bge-large-en-v1.5"].maxInputTokens, undefined, 600)).toBe("truncated");
    expect(teiOutcome(args, MODELS["bge-large-en-v1.5"].maxInputTokens, undefined, 300)).toBe("whole");
  });

  it.each(STACKS)("%s: with bge-reranker-large (512 tokens) a 600-token pair through LiteLLM (truncate: false) would be refused, and truncated for callers that leave truncate unset", async (name) => {
    const r = await stackWith(name, (raw) => {
      raw["llm-platform:embeddings"].rerank.model = "bge-reranker-large";
    });
    const rr = route(r, "rerank");
    expect(rr.litellm_params).toMatchObject({ model: "huggingface/BAAI/bge-reranker-large" });
    const body = litellmRerankBody("q", ["long document"]);
    const args = teiArgsOf(r, "rerank");
    expect(teiOutcome(args, MODELS["bge-reranker-large"].maxInputTokens, body.truncate, 600)).toBe("refused");
    expect(teiOutcome(args, MODELS["bge-reranker-large"].maxInputTokens, undefined, 600)).toBe("truncated");
  });

  it("with the default long-window reranker, a 600-token pair through the gateway is scored whole, and the window is not cut by --max-batch-tokens", async () => {
    for (const name of ["dev", "prod"]) {
      const r = await stack(name);
      const m = MODELS["gte-reranker-modernbert-base"];
      expect(route(r, "rerank")).toEqual({
        model_name: "gte-reranker-modernbert-base",
        litellm_params: { model: "huggingface/Alibaba-NLP/gte-reranker-modernbert-base", api_base: "http://tei-rerank.embeddings.svc:80" },
        model_info: { mode: "rerank" },
      });
      const args = teiArgsOf(r, "rerank");
      expect(args.slice(0, 6)).toEqual(["--model-id", "/data/gte-reranker-modernbert-base", "--served-model-name", "gte-reranker-modernbert-base", "--auto-truncate", "true"]);
      const body = litellmRerankBody("q", ["long document"]);
      expect(teiOutcome(args, m.maxInputTokens, body.truncate, 600)).toBe("whole");
      expect(teiOutcome(args, m.maxInputTokens, body.truncate, 8000)).toBe("whole");
      expect(teiOutcome(args, m.maxInputTokens, body.truncate, 9000)).toBe("refused");
      // Its files are synced into S3 like every other model.
      expect(ofType(r, "kubernetes:batch/v1:Job").some((j) => j.inputs.metadata.labels["llm-platform.io/model"] === "gte-reranker-modernbert-base")).toBe(true);
    }
  });

  it("the TEI outcome model follows TEI's flags (it can fail)", () => {
    const args = ["--max-batch-tokens", "16384"];
    expect(teiOutcome([...args, "--auto-truncate", "false"], 512, undefined, 600)).toBe("refused");
    expect(teiOutcome([...args, "--auto-truncate", "false"], 512, true, 600)).toBe("truncated");
    expect(teiOutcome(["--max-batch-tokens", "256", "--auto-truncate", "true"], 512, false, 300)).toBe("refused");
  });
});

describe("builders", () => {
  it("WAF: a per-IP rate limit and AWS managed rules, with the body-size rule counted (prompts exceed 8 KB)", () => {
    const w = webAclArgs("gw", 2000) as any;
    expect(w.scope).toBe("REGIONAL");
    expect(w.rules[0].statement.rateBasedStatement).toEqual({ limit: 2000, aggregateKeyType: "IP" });
    expect(w.rules[1].statement.managedRuleGroupStatement.ruleActionOverrides).toEqual([{ name: "SizeRestrictions_BODY", actionToUse: { count: {} } }]);
  });

  it("the Ingress carries the WAF only when one is given", () => {
    const lb = { scheme: "internal", certificateArn: "arn:c", waf: { enabled: false, rateLimitPer5Min: 1 }, accessLogRetentionDays: 1 } as const;
    expect(gatewayIngress({ lb, logsBucket: "b", tags: {} }).metadata).not.toHaveProperty(["annotations", `${A}/wafv2-acl-arn`]);
  });

  it("omits guardrails without a safety service", () => {
    expect(litellmProxyConfig({ models: [{ name: "m", url: "http://m" }] })).not.toHaveProperty("guardrails");
  });

  it("the load balancer controller's policy is upstream's, with no */* statement", () => {
    for (const s of LBC_POLICY.Statement) {
      const actions = ([] as string[]).concat(s.Action);
      expect(actions.includes("*") && ([] as string[]).concat(s.Resource ?? []).includes("*")).toBe(false);
    }
    expect(loadBalancerControllerValues({ clusterName: "c", region: "r", vpcId: "v", replicas: 2 })).toMatchObject({ region: "r", vpcId: "v", enableServiceMutatorWebhook: false });
  });

  it("RDS keeps a final snapshot when edge.database.finalSnapshot is on; ElastiCache enables Multi-AZ with failover", () => {
    const db = { instanceClass: "db.t4g.medium", allocatedStorageGiB: 50, multiAz: false, backupRetentionDays: 7, deletionProtection: true, finalSnapshot: true };
    const a = rdsInstanceArgs(db, { identifier: "x", subnetGroup: "g", securityGroupId: "s", username: "u", password: "p" });
    expect(a).toMatchObject({ skipFinalSnapshot: false, finalSnapshotIdentifier: "x-final" });
    const c = replicationGroupArgs({ nodeType: "cache.t4g.medium", replicasPerShard: 1, automaticFailover: true, snapshotRetentionDays: 7 }, { id: "r", subnetGroup: "g", securityGroupId: "s", authToken: "t" });
    expect(c).toMatchObject({ automaticFailoverEnabled: true, multiAzEnabled: true, numCacheClusters: 2 });
  });
});

// The request path: load balancer -> gateway -> safety -> vLLM / TEI, and nothing else into inference.
const pod = (namespace: string, labels: Record<string, string> = {}): Pod => ({ namespace, labels });
const gateway = pod("gateway", { "app.kubernetes.io/component": "gateway" });
const modelServer = pod("inference", { "app.kubernetes.io/component": "model-server" });

describe("request path and isolation of the inference namespace (prod's declared flows)", () => {
  let policies: ReturnType<typeof platformNetworkPolicies> = [];
  beforeAll(async () => {
    const r = await stack("prod");
    policies = platformNetworkPolicies(declaredFlows(r.config), true);
  });

  it("allows ALB (public subnets) -> gateway -> safety, vLLM and TEI, and the gateway's datastores", () => {
    expect(allowed(policies, { ip: "10.42.196.10" }, gateway, 4000)).toBe(true);
    expect(allowed(policies, gateway, pod("safety", { "app.kubernetes.io/component": "safety" }), 8080)).toBe(true);
    expect(allowed(policies, gateway, modelServer, 8000)).toBe(true);
    expect(allowed(policies, gateway, pod("embeddings", { "app.kubernetes.io/component": "embeddings" }), 80)).toBe(true);
    expect(allowed(policies, gateway, { ip: "10.42.10.5" }, 5432)).toBe(true);
    expect(allowed(policies, pod("gateway", { "job-name": "litellm-migrations", "app.kubernetes.io/component": "gateway" }), { ip: "10.42.10.5" }, 5432)).toBe(true);
    expect(allowed(policies, gateway, { ip: "10.42.10.6" }, 6379)).toBe(true);
  });

  it.each([
    ["TEI", pod("embeddings", { "app.kubernetes.io/component": "embeddings" })],
    ["Milvus", pod("vectordb", { "app.kubernetes.io/name": "milvus" })],
    ["safety", pod("safety", { "app.kubernetes.io/component": "safety" })],
    ["Grafana", pod("monitoring", { "app.kubernetes.io/name": "grafana" })],
    ["KEDA", pod("keda", { "app.kubernetes.io/name": "keda-operator" })],
    ["another gateway pod", pod("gateway", { "app.kubernetes.io/component": "migrations" })],
    ["a pod in default", pod("default")],
    ["the VPC (ALB or anything else)", { ip: "10.42.196.10" }],
    ["a node or pod IP", { ip: "10.42.5.10" }],
  ] as const)("denies %s -> model server :8000", (_n, from) => {
    expect(allowed(policies, from, modelServer, 8000)).toBe(false);
  });

  it("admits only the gateway and Prometheus (metrics) into the inference namespace", () => {
    const ingress = policies.filter((p) => p.metadata.namespace === "inference" && p.spec.policyTypes.includes("Ingress") && p.metadata.name !== "default-deny");
    expect(ingress.map((p) => p.metadata.name).sort()).toEqual(["allow-ingress-gateway-to-model-servers", "allow-ingress-prometheus-scrapes-model-servers"]);
  });

  it.each(STACKS)("%s: scale-to-zero models wake on gateway demand; others scale on vLLM signals only", async (name) => {
    const r = await stack(name);
    for (const so of ofType(r, "kubernetes:keda.sh/v1alpha1:ScaledObject").filter((x) => x.inputs.metadata.namespace === "inference")) {
      const demand = so.inputs.spec.triggers.find((t: any) => t.name === "gateway-demand");
      expect(demand !== undefined).toBe(so.inputs.spec.minReplicaCount === 0 && r.config.edge.enabled);
      // The router's failed attempts while it holds the request, plus finished requests (docs/scaling.md "Scale from zero").
      if (demand)
        expect(demand.metadata.query).toBe(
          'sum(rate(litellm_deployment_failure_responses_total{requested_model="gpt-oss-20b"}[2m])) + sum(rate(litellm_proxy_total_requests_metric_total{requested_model="gpt-oss-20b"}[2m]))',
        );
    }
  });
});
