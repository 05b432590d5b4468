/**
 * Issue 12: every dangerous config is refused before it costs money. Each rule of sections 1 and 2
 * has a config that breaks it, with the exit code the plan gives (2: config error naming the key;
 * 1: a mandatory policy naming itself), then configs an operator under pressure could plausibly
 * write, then valid edge cases that still plan clean.
 *
 * Config rules are checked by parsing (parsePlatformConfig throws the ConfigError the plan turns
 * into exit 2; one plan() call below shows that mapping); policies through the policy harness or a
 * plan, only where a policy is the rule.
 */
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { COMMIT_ID, downloadScript, syncedLlm, syncJobName, weightsPrefix } from "../components/weights";
import { declaredFlows } from "../components/platform-flows";
import { networkFacts } from "../components/flows";
import { instanceType } from "../infra/catalog/instances";
import { MODELS } from "../infra/catalog/models";
import { REGIONS } from "../infra/catalog/regions";
import { EKS_SUPPORT_CALENDAR, eksSupportPhase } from "../infra/catalog/versions";
import { parsePlatformConfig, PROJECT } from "../infra/config";
import { budgetAgreementProblems } from "../policies/cost";
import { readPolicyConfig } from "../stacks/plan/policies";
import { plan } from "../stacks/plan/plan";
import { admissionProblems } from "./cluster/admission";
import { buildModel } from "./cluster/model";
import { networkProblems } from "./cluster/network";
import { orderingProblems } from "./cluster/ordering";
import { referenceProblems } from "./cluster/references";
import { secretsProblems } from "./cluster/secrets";
import { check, deployment, res } from "./support/policy-harness";
import { readStackConfig, stackWith } from "./support/stacks";
import { rawOf, problems } from "./support/config";

type Raw = Record<string, any>;
type Stack = "dev" | "staging" | "prod";

/** The stack file's config map as parsePlatformConfig takes it. */

/** The problems a mutated stack config has (none: []). */

const OUT = path.join(os.tmpdir(), "llm-platform-adversarial");

/** The stack file's config map (as the plan harness takes it), mutated. */
function stackRaw(stack: Stack, mutate: (raw: Raw) => void): Raw {
  const raw = structuredClone<Raw>(readStackConfig(stack));
  mutate(raw);
  return raw;
}

const SHA = "0123456789abcdef0123456789abcdef01234567";

// Each case: a config that breaks one rule, and the key the error must name (exit 2).
type Case = readonly [name: string, stack: Stack, mutate: (r: Raw) => void, key: string, message: RegExp];

const SECTION_1: readonly Case[] = [
  ["NAT: prod with one NAT gateway", "prod", (r) => (r.network.natGateways = "single"), "network.natGateways", /one NAT gateway per AZ/],
  ["LB: internet-facing prod ALB without WAF", "prod", (r) => (r.edge.loadBalancer.waf.enabled = false), "edge.loadBalancer.waf.enabled", /must be true in prod for an internet-facing/],
  ["LB: TLS off (no certificate) on an enabled edge", "prod", (r) => delete r.edge.loadBalancer.certificateArn, "edge.loadBalancer.certificateArn", /TLS terminates at the ALB/],
  [
    "LB: certificate from another region",
    "prod",
    (r) => (r.edge.loadBalancer.certificateArn = "arn:aws:acm:eu-west-1:444455556666:certificate/7b8c9d0e-2f3a-4b4c-9d5e-6f7a8b9c0d1e"),
    "edge.loadBalancer.certificateArn",
    /in eu-west-1 but the stack is in us-east-1/,
  ],
  ["RDS: prod without deletion protection", "prod", (r) => (r.edge.database.deletionProtection = false), "edge.database.deletionProtection", /must be true in prod/],
  ["RDS: prod single-AZ", "prod", (r) => (r.edge.database.multiAz = false), "edge.database.multiAz", /must be true in prod/],
  ["RDS: prod with 3 days of backups", "prod", (r) => (r.edge.database.backupRetentionDays = 3), "edge.database.backupRetentionDays", /must be >= 7 in prod .*, got 3$/],
  ["Redis: prod without a replica", "prod", (r) => ((r.edge.cache.replicasPerShard = 0), (r.edge.cache.automaticFailover = false)), "edge.cache.replicasPerShard", /must be >= 1 in prod/],
  ["Redis: prod without automatic failover", "prod", (r) => (r.edge.cache.automaticFailover = false), "edge.cache.automaticFailover", /must be true in prod/],
  ["Storage: staging with Delete reclaim", "staging", (r) => (r.cluster.storageReclaimPolicy = "Delete"), "cluster.storageReclaimPolicy", /must be "Retain" in staging/],
  ["Storage: prod with Delete reclaim", "prod", (r) => (r.cluster.storageReclaimPolicy = "Delete"), "cluster.storageReclaimPolicy", /must be "Retain" in prod/],
  ["Milvus: prod standalone", "prod", (r) => Object.assign(r.vectorDb, { mode: "standalone", queryNodeReplicas: 1, dataNodeReplicas: 1, proxyReplicas: 1 }), "vectorDb.mode", /cluster mode/],
  ["Milvus: prod cluster mode with 1 etcd", "prod", (r) => (r.vectorDb.etcdReplicas = 1), "vectorDb.etcdReplicas", /3 etcd replicas/],
  ["Safety: prod with safety disabled", "prod", (r) => (r.safety.enabled = false), "safety.enabled", /must be true in prod/],
  ["Safety: prod failing open", "prod", (r) => (r.safety.failureMode = "open-with-warning"), "safety.failureMode", /must be "closed" in prod/],
  ["Alerts: prod with no receiver", "prod", (r) => (r.observability.alertmanager.receiver = { type: "none" }), "observability.alertmanager.receiver.type", /real receiver/],
  [
    "GPUs: prod hosts a model on SPOT with no on-demand NodePool for its GPU",
    "prod",
    (r) => {
      r.gpuPools.p5.capacityType = "SPOT";
      r.karpenter.gpuOnDemand.instanceTypes = ["g5.2xlarge", "g5.12xlarge"];
      r.karpenter.gpuOnDemand.limits = { cpu: 96, memoryGiB: 512, gpus: 8 };
    },
    "gpuPools.p5.capacityType",
    /hosts a model on SPOT in prod and no enabled on-demand NodePool offers its GPU \(h100\)/,
  ],
  ["Weights: prod on a branch", "prod", (r) => (r.models["gpt-oss-20b"].weights = { revision: "main" }), "models.gpt-oss-20b.weights.revision", /must be a 40-hex commit id in prod, got "main"/],
];

const SECTION_2: readonly Case[] = [
  [
    "Capacity: prod minimum replicas x TP exceed the GPUs reachable",
    "prod",
    (r) => (r.models["gpt-oss-20b"].replicas = { min: 6, max: 12 }),
    "models.gpt-oss-20b.replicas.min",
    /./,
  ],
  ["Capacity: an idle pool (minNodes > 0, nothing placed)", "prod", (r) => (r.gpuPools.p4d.minNodes = 1), "gpuPools.p4d.minNodes", /./],
  [
    "Karpenter: limits below the smallest instance the NodePool allows",
    "prod",
    (r) => (r.karpenter.gpuOnDemand.limits = { cpu: 4, memoryGiB: 16, gpus: 1 }),
    "karpenter.gpuOnDemand.limits",
    /can never launch it/,
  ],
  [
    "Scale to zero: a model at replicas.min 0 with no gateway to wake it",
    "dev",
    (r) => {
      r.models["gpt-oss-20b"].replicas = { min: 0, max: 2 };
      r.edge = { enabled: false };
      r.rag.enabled = false;
    },
    "models.gpt-oss-20b.replicas.min",
    /needs a wake signal/,
  ],
  ["Networks: VPC CIDR with host bits", "dev", (r) => (r.network.vpcCidr = "10.40.7.0/16"), "network.vpcCidr", /host bits set; its network address is 10\.40\.0\.0\/16/],
  [
    "Networks: API allow-list CIDR with host bits",
    "dev",
    (r) => (r.cluster.endpoint.publicAccessCidrs = ["203.0.113.7/24"]),
    "cluster.endpoint.publicAccessCidrs[0]",
    /203\.0\.113\.0\/24/,
  ],
  ["Networks: Vault CIDR with host bits", "prod", (r) => (r.vault.cidrs = ["10.10.1.1/16"]), "vault.cidrs[0]", /host bits set/],
  ["Networks: VPC overlaps Vault", "prod", (r) => (r.vault.cidrs = ["10.42.128.0/20"]), "vault.cidrs[0]", /overlaps the VPC/],
  ["Vault: prefix without the environment", "prod", (r) => (r.vault.pathPrefix = "llm-platform"), "vault.pathPrefix", /must contain the environment "prod"/],
  ["Vault: prod reads staging's prefix", "prod", (r) => (r.vault.pathPrefix = "llm-platform/prod/staging"), "vault.pathPrefix", /another environment \("staging"\)/],
  [
    "Vault: an operator secret read from another environment's prefix",
    "prod",
    (r) => (r.vault.operatorSecrets.huggingfaceToken = "llm-platform/staging/huggingface#token"),
    "vault.operatorSecrets.huggingfaceToken",
    /outside this environment's vault\.pathPrefix/,
  ],
  ["Region: not in the catalog", "prod", (r) => ((r.region = "eu-west-1"), (r.network.availabilityZones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"])), "aws:region", /infra\/catalog\/regions\.ts/],
  ["Versions: Kubernetes past standard support with STANDARD", "prod", (r) => (r.cluster.kubernetesVersion = "1.33"), "cluster.kubernetesVersion", /past the end of standard support/],
  ["Versions: Kubernetes past extended support", "dev", (r) => Object.assign(r.cluster, { kubernetesVersion: "1.30", supportType: "EXTENDED" }), "cluster.kubernetesVersion", /past the end of extended support/],
  ["Versions: Kubernetes not in the calendar", "dev", (r) => (r.cluster.kubernetesVersion = "1.99"), "cluster.kubernetesVersion", /not in the EKS support calendar/],
  [
    "Secrets in disguise: Azure endpoint with a key in the query",
    "prod",
    (r) => (r.safety.azure.endpoint = "https://llm-prod-contentsafety.cognitiveservices.azure.com/?subscription-key=0123456789abcdef"),
    "safety.azure.endpoint",
    /no a query string/,
  ],
  [
    "Secrets in disguise: Azure endpoint with userinfo",
    "prod",
    (r) => (r.safety.azure.endpoint = "https://apikey:s3cr3t@llm-prod-contentsafety.cognitiveservices.azure.com"),
    "safety.azure.endpoint",
    /userinfo/,
  ],
  ["Secrets in disguise: Vault address with a token fragment", "prod", (r) => (r.vault.address = "https://vault.internal.example.com:8200#hvs.CAESIJ"), "vault.address", /a fragment/],
];

describe("issue 12 section 1: prod (and staging) refuse what no production platform runs - exit 2, naming the key", () => {
  it.each(SECTION_1)("%s", (_, stack, mutate, key, message) => {
    const found = problems(stack, mutate);
    expect(found.map((p) => p.path)).toContain(key);
    expect(found.filter((p) => p.path === key).map((p) => p.message)).toContainEqual(expect.stringMatching(message));
  });
});

describe("issue 12 section 2: cross-field checks - exit 2, naming the key", () => {
  it.each(SECTION_2)("%s", (_, stack, mutate, key, message) => {
    const found = problems(stack, mutate);
    expect(found.map((p) => p.path)).toContain(key);
    expect(found.filter((p) => p.path === key).map((p) => p.message)).toContainEqual(expect.stringMatching(message));
  });

  it("the plan turns a config rule into exit 2 with the key path, before any resource registers", async () => {
    const r = await plan("prod", { raw: stackRaw("prod", (x) => (x["llm-platform:network"].natGateways = "single")), outDir: OUT, policyConfig: readPolicyConfig("prod") });
    expect(r.exitCode).toBe(2);
    expect(r.text).toMatch(/network\.natGateways: prod needs one NAT gateway per AZ/);
    expect(r.doc).toBeUndefined();
  });
});

describe("issue 12 section 2: budget, one source of truth", () => {
  it("the committed stacks and their pack configs agree", () => {
    for (const s of ["dev", "staging", "prod"] as const) {
      const b = (readStackConfig(s)[`${PROJECT}:budget`] as { monthlyUsd: number; spotDiscount: number });
      expect(budgetAgreementProblems({ monthlyUsd: b.monthlyUsd, spotDiscount: b.spotDiscount }, readPolicyConfig(s))).toEqual([]);
    }
  });

  it("a stack budget that disagrees with the pack's monthly-budget is a config error naming both keys (the plan exits 2)", () => {
    const pack = readPolicyConfig("prod");
    expect(budgetAgreementProblems({ monthlyUsd: 150000, spotDiscount: 0.6 }, pack, { stack: "stacks/Pulumi.prod.yaml", pack: "policies/config/prod.json" })).toEqual([
      "monthly-budget.monthlyUsd is 120000 in policies/config/prod.json but llm-platform:budget.monthlyUsd is 150000 in stacks/Pulumi.prod.yaml; they are one budget: set both to the same value",
    ]);
    expect(budgetAgreementProblems({ monthlyUsd: 120000, spotDiscount: 0.5 }, pack)[0]).toMatch(/^monthly-budget\.spotDiscount is 0\.6 .* llm-platform:budget\.spotDiscount is 0\.5/);
    expect(budgetAgreementProblems({ monthlyUsd: 120000, spotDiscount: 0.6 }, { ...pack, "monthly-budget": "disabled" })[0]).toMatch(/monthly-budget is disabled/);
  });

  it("a maximum estimate over the budget fails the plan: exit 1, naming monthly-budget", async () => {
    // Stack and pack agree on a budget the stack's maximum cannot fit.
    const raw = stackRaw("staging", (x) => (x[`${PROJECT}:budget`].monthlyUsd = 500));
    const pack = { ...readPolicyConfig("staging"), "monthly-budget": { monthlyUsd: 500, spotDiscount: raw[`${PROJECT}:budget`].spotDiscount } };
    const r = await plan("staging", { raw, outDir: OUT, policyConfig: pack });
    expect(r.exitCode).toBe(1);
    const v = r.doc!.policies.filter((p) => p.enforcementLevel === "mandatory" && p.policy === "monthly-budget");
    expect(v).toHaveLength(1);
    expect(v[0]!.message).toMatch(/^estimated maximum \$[\d,.]+\/month is over the budget of \$500/);
  });

  it("the plan exits 2 when the stack's budget and the pack's disagree", async () => {
    const r = await plan("staging", { raw: stackRaw("staging", (x) => (x[`${PROJECT}:budget`].monthlyUsd += 1)), outDir: OUT });
    expect(r.exitCode).toBe(2);
    expect(r.text).toMatch(/monthly-budget\.monthlyUsd is .* llm-platform:budget\.monthlyUsd is/);
  });
});

describe("issue 12 section 2: secrets in disguise - the secrets policy (exit 1, k8s-secrets-by-reference)", () => {
  const cm = (data: Record<string, string>) => res("kubernetes:core/v1:ConfigMap", "cfg", { metadata: { name: "cfg", namespace: "gateway" }, data });

  it.each([
    ["an Azure SAS signature in a ConfigMap file", { "config.yaml": "store: https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=AbCdEfGh1234567890%3D\n" }],
    ["an api_key query value", { url: "https://api.example.com/v1?api_key=0123456789abcdef" }],
    ["a presigned S3 URL", { url: "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIDEXAMPLE%2F20260101&X-Amz-Signature=abcdef0123456789" }],
    ["an access_token", { hook: "https://hooks.example.com/x?foo=1&access_token=ya29.a0AfH6SMBx" }],
  ])("flags %s", async (_, data) => {
    const v = await check("k8s-secrets-by-reference", [cm(data)]);
    expect(v).toHaveLength(1);
    expect(v[0]!.policy).toBe("k8s-secrets-by-reference");
    expect(v[0]!.enforcementLevel).toBe("mandatory");
    expect(v[0]!.message).toMatch(/a URL whose query carries a key, token or signature/);
  });

  it("flags the same in a container's env", async () => {
    const d = deployment("web", { container: { env: [{ name: "DOWNSTREAM_URL", value: "https://svc.example.com/hook?code=AbCdEfGh12345678" }] } });
    const v = await check("k8s-secrets-by-reference", [d]);
    expect(v.map((x) => x.message)).toEqual([expect.stringMatching(/env DOWNSTREAM_URL is a literal a URL whose query carries a key, token or signature/)]);
  });

  it("passes harmless queries and substitutions", async () => {
    expect(await check("k8s-secrets-by-reference", [cm({ dash: "https://grafana/d/x?orgId=1&refresh=30s", u: "https://x/y?token=$(API_TOKEN)", k: "https://x/y?key=short" })])).toEqual([]);
  });
});

describe("issue 12 section 1: weights keyed on the commit", () => {
  it("the Job resolves the revision to a commit, downloads that commit and records it; a configured commit must resolve to itself", () => {
    const branch = downloadScript(syncedLlm("gpt-oss-20b", MODELS["gpt-oss-20b"], "main"));
    expect(branch).toContain('commit = HfApi().model_info("openai/gpt-oss-20b", revision="main").sha');
    expect(branch).toContain("revision=commit,");
    expect(branch).not.toContain("assert commit ==");
    const pinned = downloadScript(syncedLlm("gpt-oss-20b", MODELS["gpt-oss-20b"], SHA));
    expect(pinned).toContain(`assert commit == "${SHA}"`);
    // A revision change is a new Job and a new prefix, so it re-syncs and the servers read the new files.
    expect(syncJobName("gpt-oss-20b", SHA)).not.toBe(syncJobName("gpt-oss-20b", "main"));
    expect(weightsPrefix(MODELS["gpt-oss-20b"], SHA)).toBe(`openai/gpt-oss-20b/${SHA}/`);
  });

  it("prod is pinned to commit ids for every model it serves", () => {
    const prod = parsePlatformConfig(rawOf("prod"), "prod");
    for (const m of Object.values(prod.models)) expect(m.weights.revision).toMatch(COMMIT_ID);
    for (const role of ["embed", "rerank"] as const) expect((MODELS[prod.embeddings[role].model as keyof typeof MODELS] as { revision: string }).revision).toMatch(COMMIT_ID);
  });
});

describe("issue 12 section 1: safety disabled (dev) leaves no allow behind, and the cluster model holds", () => {
  it("no flow touches the safety namespace, the gateway has no guardrail route, and every cluster check passes", async () => {
    const r = await stackWith("dev", (raw) => (raw[`${PROJECT}:safety`].enabled = false));
    const flows = declaredFlows(r.config);
    expect(flows.filter((f) => [f.from, f.to].some((p) => "namespace" in p && p.namespace === "safety"))).toEqual([]);
    const policies = r.resources.filter((x) => x.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((x) => x.inputs as any);
    expect(policies.filter((p) => p.metadata.namespace === "safety").map((p) => p.metadata.name)).toEqual(["default-deny"]);
    const m = buildModel(r);
    const rendered = m.objects.filter((o) => o.obj.kind === "NetworkPolicy").map((o) => o.obj as any);
    expect(networkProblems({ model: m, flows, policies: rendered, facts: networkFacts(r.config) })).toEqual([]);
    expect([...admissionProblems(m), ...referenceProblems(m), ...orderingProblems(m), ...secretsProblems(m)]).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// What an operator under pressure writes: more adversarial configs, each refused with its key.

const OPERATOR: readonly Case[] = [
  ["AZ from another region", "dev", (r) => (r.network.availabilityZones = ["us-west-2a", "us-east-1b"]), "network.availabilityZones[0]", /is not in region us-east-1/],
  ["prod on two AZs to save a NAT gateway", "prod", (r) => (r.network.availabilityZones = ["us-east-1a", "us-east-1b"]), "network.availabilityZones", /3 availability zones/],
  ["prod AMI on @latest", "prod", (r) => (r.karpenter.amiAlias = "al2023@latest"), "karpenter.amiAlias", /pinned in prod/],
  ["prod model at one replica", "prod", (r) => (r.models["gpt-oss-20b"].replicas = { min: 1, max: 12 }), "models.gpt-oss-20b.replicas.min", /at least 2 replicas/],
  ["model on a pool name typo", "dev", (r) => (r.models["gpt-oss-20b"].pool = "g6"), "models.gpt-oss-20b.pool", /no gpuPools entry named "g6"/],
  ["120b moved onto an A10G pool", "prod", (r) => ((r.models["gpt-oss-120b"].pool = "g5"), (r.models["gpt-oss-120b"].maxModelLen = 8192)), "models.gpt-oss-120b.pool", /GiB of GPU memory/],
  ["TP 8 on a one-GPU instance", "prod", (r) => (r.models["gpt-oss-20b"].tensorParallelSize = 8), "models.gpt-oss-20b.tensorParallelSize", /must be <= the GPUs per instance/],
  ["encoder placement typo", "dev", (r) => (r.embeddings.embed.placement = "gpu"), "embeddings.embed.placement", /expected "cpu" or a gpuPools key/],
  ["staging Milvus standalone", "staging", (r) => Object.assign(r.vectorDb, { mode: "standalone", queryNodeReplicas: 1, dataNodeReplicas: 1, proxyReplicas: 1, etcdReplicas: 1 }), "vectorDb.mode", /cluster mode/],
  ["RAG answering with a model that is not deployed", "prod", (r) => (r.rag.answerModel = "gpt-oss-120b-turbo"), "rag.answerModel", /./],
  ["staging with neither protect nor retain", "staging", (r) => (r.protection = { retainOnDelete: false, protect: false }), "protection", /must set retainOnDelete or protect/],
  ["public API endpoint with no allow-list", "staging", (r) => (r.cluster.endpoint = { publicAccess: true }), "cluster.endpoint.publicAccessCidrs", /at least one CIDR/],
  ["pool max below min", "prod", (r) => (r.gpuPools.g5.maxNodes = 3), "gpuPools.g5.maxNodes", /must be >= minNodes/],
  ["on-demand NodePool weighted above spot", "prod", (r) => (r.karpenter.gpuOnDemand.weight = 60), "karpenter.gpuOnDemand.weight", /lower than gpuSpot\.weight/],
  ["dev cache failover with no replica", "dev", (r) => (r.edge.cache = { ...r.edge.cache, automaticFailover: true, replicasPerShard: 0 }), "edge.cache.replicasPerShard", /must be >= 1 when automaticFailover/],
  ["safety image on :latest", "prod", (r) => (r.safety.image = { source: "registry", ref: "ghcr.io/example/safety:latest" }), "safety.image.ref", /:latest is not allowed/],
  ["budget of zero", "dev", (r) => (r.budget.monthlyUsd = 0), "budget.monthlyUsd", /must be > 0/],
  ["spot discount of 95%", "prod", (r) => (r.budget.spotDiscount = 0.95), "budget.spotDiscount", /./],
  ["GPU instance in the system node group", "prod", (r) => (r.cluster.systemNodes.instanceTypes = ["g5.2xlarge"]), "cluster.systemNodes.instanceTypes[0]", /is a GPU instance/],
  ["CPU instance in a GPU pool", "prod", (r) => (r.gpuPools.g5.instanceTypes = ["m6i.xlarge"]), "gpuPools.g5.instanceTypes[0]", /has no GPU/],
  ["a pool mixing GPU models", "prod", (r) => (r.gpuPools.g5.instanceTypes = ["g5.2xlarge", "g6.xlarge"]), "gpuPools.g5.instanceTypes", /mixes GPU models/],
  ["EFA on an A10G pool", "prod", (r) => (r.gpuPools.g5.efa = true), "gpuPools.g5.efa", /does not support EFA/],
  ["an instance type outside the catalog", "prod", (r) => (r.gpuPools.g5.instanceTypes = ["g5.3xlarge"]), "gpuPools.g5.instanceTypes[0]", /not in infra\/catalog\/instances\.ts/],
  ["log retention CloudWatch does not offer", "prod", (r) => (r.cluster.logging.retentionDays = 45), "cluster.logging.retentionDays", /retention periods/],
  ["Vault over plain HTTP", "prod", (r) => (r.vault.address = "http://vault.internal.example.com:8200"), "vault.address", /https/],
  ["Azure on with no endpoint", "prod", (r) => delete r.safety.azure.endpoint, "safety.azure.endpoint", /required when azure\.enabled/],
  ["Slack channel without #", "prod", (r) => (r.observability.alertmanager.receiver = { type: "slack", channel: "alerts", webhookUrlVaultRef: "llm-platform/prod/alerting#slack" }), "observability.alertmanager.receiver.channel", /./],
  ["GPUs on the CPU NodePool", "prod", (r) => (r.karpenter.cpu.limits.gpus = 4), "karpenter.cpu.limits.gpus", /must be 0/],
  ["prod stack copied with staging's Vault prefix", "prod", (r) => (r.vault.pathPrefix = "llm-platform/staging"), "vault.pathPrefix", /must contain the environment "prod"/],
  ["staging copied from prod, operator secrets still prod's", "staging", (r) => (r.vault.operatorSecrets.azureContentSafetyKey = "llm-platform/prod/azure-content-safety#key"), "vault.operatorSecrets.azureContentSafetyKey", /outside this environment's vault\.pathPrefix/],
  ["the PagerDuty key read from dev's prefix", "prod", (r) => (r.observability.alertmanager.receiver.routingKeyVaultRef = "llm-platform/dev/alerting#pagerduty-routing-key"), "observability.alertmanager.receiver.routingKeyVaultRef", /outside/],
  ["Vault for the whole internet", "prod", (r) => (r.vault.cidrs = ["0.0.0.0/0"]), "vault.cidrs[0]", /prefix length/],
  ["Vault CIDR equal to the VPC", "staging", (r) => (r.vault.cidrs = [r.network.vpcCidr]), "vault.cidrs[0]", /overlaps the VPC/],
  ["VPC inside Vault's supernet", "prod", (r) => (r.vault.cidrs = ["10.0.0.0/8"]), "vault.cidrs[0]", /overlaps the VPC/],
  ["GPU memory utilisation of 99%", "prod", (r) => (r.models["gpt-oss-20b"].gpuMemoryUtilization = 0.99), "models.gpt-oss-20b.gpuMemoryUtilization", /./],
  ["replicas max below min", "dev", (r) => (r.models["gpt-oss-20b"].replicas = { min: 2, max: 1 }), "models.gpt-oss-20b.replicas.max", /must be >= min/],
  ["RAG context larger than the model's", "prod", (r) => (r.rag.contextTokens = 65536), "rag.contextTokens", /must be <= models\.gpt-oss-20b\.maxModelLen/],
  ["prod weights on a tag", "prod", (r) => (r.models["gpt-oss-120b"].weights = { revision: "v1.0" }), "models.gpt-oss-120b.weights.revision", /40-hex commit id/],
  ["prod weights on a short commit id", "prod", (r) => (r.models["gpt-oss-120b"].weights = { revision: "b5c939d" }), "models.gpt-oss-120b.weights.revision", /40-hex commit id/],
  ["prod weights on an upper-case commit id", "prod", (r) => (r.models["gpt-oss-120b"].weights = { revision: "B5C939DE8F754692C1647CA79FBF85E8C1E70F8A" }), "models.gpt-oss-120b.weights.revision", /40-hex commit id/],
  ["dev certificate from us-west-2", "dev", (r) => ((r.edge.enabled = true), (r.edge.loadBalancer = { ...r.edge.loadBalancer, certificateArn: "arn:aws:acm:us-west-2:111122223333:certificate/abc-123" })), "edge.loadBalancer.certificateArn", /only uses ACM certificates from its own region/],
  ["runbook URL with a token", "prod", (r) => (r.observability.runbookBaseUrl = "https://wiki.example.com/runbooks?token=abcdef0123456789"), "observability.runbookBaseUrl", /query string/],
  ["Vault address with an API path", "prod", (r) => (r.vault.address = "https://vault.internal.example.com:8200/v1/secret"), "vault.address", /a path \(\/v1\/secret\)/],
  ["Azure endpoint with a fragment", "prod", (r) => (r.safety.azure.endpoint = "https://llm-prod-contentsafety.cognitiveservices.azure.com/#key=abc"), "safety.azure.endpoint", /a fragment/],
  ["region with prices missing, us-west-2", "dev", (r) => ((r.region = "us-west-2"), (r.network.availabilityZones = ["us-west-2a", "us-west-2b"])), "aws:region", /not in infra\/catalog\/regions\.ts/],
  ["prod Karpenter spot pool limits that fit no p5", "prod", (r) => (r.karpenter.gpuSpot.limits = { cpu: 192, memoryGiB: 128, gpus: 20 }), "karpenter.gpuSpot.limits", /does not fit the limits .* so Karpenter can never launch it/],
];

describe("more adversarial configs an operator could plausibly write - exit 2, naming the key", () => {
  it("there are at least 30 of them", () => {
    expect(OPERATOR.length).toBeGreaterThanOrEqual(30);
  });
  it.each(OPERATOR)("%s", (_, stack, mutate, key, message) => {
    const found = problems(stack, mutate);
    expect(found.map((p) => p.path)).toContain(key);
    expect(found.filter((p) => p.path === key).map((p) => p.message)).toContainEqual(expect.stringMatching(message));
  });
});

// ---------------------------------------------------------------------------------------------
// Valid edge cases: no config error, and (where the shape changes enough) a clean plan.

/** Pools nothing is placed on go to minNodes 0 (an idle pool with nodes is refused: idle money). */
function idlePoolsToZero(r: Raw): void {
  const placed = new Set<string>([...Object.values<any>(r.models).map((m) => m.pool), ...(["embed", "rerank"] as const).map((k) => r.embeddings[k].placement)]);
  for (const [name, p] of Object.entries<any>(r.gpuPools)) if (!placed.has(name)) p.minNodes = 0;
}

/** prod serving one model, gpt-oss-20b, where the stack places it. */
function prodOneModel(r: Raw): void {
  delete r.models["gpt-oss-120b"];
  r.rag.answerModel = "gpt-oss-20b";
  idlePoolsToZero(r);
}

/** prod serving gpt-oss-120b alone on p4d at TP 4 (two replicas on one 8-GPU node), Karpenter bursting onto p4d too. */
function prod120bOnP4d(r: Raw): void {
  const m = r.models["gpt-oss-120b"];
  delete m.schedule;
  delete m.predictive;
  r.models = { "gpt-oss-120b": { ...m, pool: "p4d", tensorParallelSize: 4, maxModelLen: 65536, gpuMemoryUtilization: 0.9, replicas: { min: 2, max: 2 } } };
  r.gpuPools.p4d = { ...r.gpuPools.p4d, minNodes: 1, maxNodes: 1 };
  r.karpenter.gpuSpot.instanceTypes = [...new Set([...r.karpenter.gpuSpot.instanceTypes, "p4d.24xlarge"])];
  r.karpenter.gpuSpot.limits = { cpu: 288, memoryGiB: 2304, gpus: 24 };
  r.rag.answerModel = "gpt-oss-120b";
  r.rag.contextTokens = Math.min(r.rag.contextTokens ?? 16384, 16384);
  idlePoolsToZero(r);
}

/** TEI on the CPU NodePool. */
function teiOnCpu(r: Raw): void {
  r.embeddings.embed.placement = "cpu";
  r.embeddings.rerank.placement = "cpu";
  idlePoolsToZero(r);
}

/** The stack file's map with the project's areas as a Raw, for the mutators above. */
function onAreas(mutate: (r: Raw) => void): (file: Raw) => void {
  return (file) => {
    const areas: Raw = {};
    for (const k of Object.keys(file)) if (k.startsWith(`${PROJECT}:`)) areas[k.slice(PROJECT.length + 1)] = file[k];
    mutate(areas);
    for (const [k, v] of Object.entries(areas)) file[`${PROJECT}:${k}`] = v;
  };
}

const VALID: readonly (readonly [string, Stack, (r: Raw) => void])[] = [
  ["prod with one model", "prod", prodOneModel],
  ["prod with gpt-oss-120b on p4d at TP 4", "prod", prod120bOnP4d],
  ["prod with TEI on CPU", "prod", teiOnCpu],
  ["prod with a digest-pinned safety image", "prod", (r: Raw) => (r.safety.image = { source: "registry", ref: `ghcr.io/example/safety@sha256:${"a".repeat(64)}` })],
  ["dev on EXTENDED support for a version past standard support", "dev", (r: Raw) => Object.assign(r.cluster, { kubernetesVersion: "1.34", supportType: "EXTENDED" })],
  ["a Vault CIDR adjacent to the VPC", "prod", (r: Raw) => (r.vault.cidrs = ["10.43.0.0/16", "10.41.255.0/24"])],
  ["an internal load balancer without WAF in prod", "prod", (r: Raw) => ((r.edge.loadBalancer.scheme = "internal"), (r.edge.loadBalancer.waf.enabled = false))],
];

const VALID_PLANS: readonly (readonly [string, (r: Raw) => void])[] = [
  ["prod with one model", onAreas(prodOneModel)],
  [
    "prod with gpt-oss-120b on p4d at TP 4, TEI on CPU and a digest-pinned image",
    onAreas((r) => {
      prod120bOnP4d(r);
      teiOnCpu(r);
      r.safety.image = { source: "registry", ref: `ghcr.io/example/safety@sha256:${"a".repeat(64)}` };
    }),
  ],
];

describe("valid edge cases are not refused", () => {
  it.each(VALID)("%s", (_, stack, mutate) => {
    expect(problems(stack, mutate)).toEqual([]);
  });

  // Full plans with the stack's own policy config: the shapes that change placement and capacity.
  it.each(VALID_PLANS)("plans clean (exit 0): %s", async (_, mutate) => {
    const r = await plan("prod", { raw: stackRaw("prod", mutate), outDir: OUT });
    expect(r.text).not.toMatch(/Invalid/);
    expect(r.doc!.policies.filter((p) => p.enforcementLevel === "mandatory")).toEqual([]);
    expect(r.exitCode).toBe(0);
  });
});

describe("catalogs the rules read", () => {
  it("the region catalog prices us-east-1 and offers every instance type used by the committed stacks there", () => {
    const east = REGIONS.get("us-east-1")!;
    expect(east.prices).toBe(true);
    for (const s of ["dev", "staging", "prod"] as const) {
      const c = parsePlatformConfig(rawOf(s), s);
      const types = [...c.cluster.systemNodes.instanceTypes, ...Object.values(c.gpuPools).flatMap((p) => p.instanceTypes), ...(["gpuSpot", "gpuOnDemand", "cpu"] as const).flatMap((k) => c.karpenter[k].instanceTypes)];
      for (const t of types) expect(east.instanceTypes.has(t) && instanceType(t) !== undefined).toBe(true);
    }
  });

  it("the EKS calendar puts 1.34 in extended support on its end-of-standard day and 1.36 in standard support", () => {
    expect(eksSupportPhase("1.34", "2026-12-01")).toBe("standard");
    expect(eksSupportPhase("1.34", "2026-12-02")).toBe("extended");
    expect(eksSupportPhase("1.33", "2027-07-29")).toBe("ended");
    expect(eksSupportPhase("1.36")).toBe("standard");
    expect(eksSupportPhase("1.29")).toBeUndefined();
    expect(Object.keys(EKS_SUPPORT_CALENDAR)).toContain(parsePlatformConfig(rawOf("prod"), "prod").cluster.kubernetesVersion);
  });
});
