import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parsePlatformConfig, type PlatformConfig } from "../infra/config";
import { plan } from "../stacks/plan/plan";
import { readStackConfig, STACKS } from "./support/stacks";
import { rawOf, problems } from "./support/config";

/** The stack file's config map as parsePlatformConfig takes it. */

describe("committed stacks", () => {
  it("has dev, staging and prod", () => {
    expect(STACKS).toEqual(["dev", "prod", "staging"]);
  });

  it.each(STACKS)("%s parses, with the environment it is named for", (stack) => {
    const c = parsePlatformConfig(rawOf(stack), stack);
    expect(c.environment).toBe(stack);
    expect(c.cluster.name).toBe(`llm-platform-${stack}`);
  });

  const cfg = (s: string): PlatformConfig => parsePlatformConfig(rawOf(s), s);

  it("differ on purpose: AZs, NAT, endpoint, models, capacity, protection", () => {
    const [dev, staging, prod] = [cfg("dev"), cfg("staging"), cfg("prod")];
    expect(dev.network.availabilityZones).toHaveLength(2);
    expect(dev.network.natGateways).toBe("single");
    expect(dev.cluster.endpoint.publicAccess).toBe(true);
    expect(Object.keys(dev.models)).toEqual(["gpt-oss-20b"]);
    expect(Object.values(dev.gpuPools).every((p) => p.capacityType === "SPOT" && p.minNodes === 0)).toBe(true);
    expect(dev.models["gpt-oss-20b"]?.replicas.min).toBe(0);

    expect(Object.keys(staging.models).sort()).toEqual(["gpt-oss-120b", "gpt-oss-20b"]);
    expect(Object.values(staging.gpuPools).every((p) => p.capacityType === "SPOT")).toBe(true);

    expect(prod.network.availabilityZones).toHaveLength(3);
    expect(prod.network.natGateways).toBe("perAz");
    expect(prod.cluster.endpoint.publicAccess).toBe(false);
    expect(Object.values(prod.gpuPools).every((p) => p.capacityType === "ON_DEMAND")).toBe(true);
    expect(prod.karpenter.gpuSpot.enabled).toBe(true);
    expect(prod.protection).toEqual({ retainOnDelete: true, protect: true, bucketVersioning: true });
    expect(prod.karpenter.amiAlias).toMatch(/^al2023@v\d{8}$/);
    for (const m of Object.values(prod.models)) expect(m.replicas.min).toBeGreaterThanOrEqual(2);
  });

  it.each(STACKS)("%s holds no secret values: only Vault references", (stack) => {
    const text = JSON.stringify(readStackConfig(stack));
    expect(text).not.toMatch(/password|apikey|api_key|token"\s*:\s*"[^l]/i);
    const c = cfg(stack);
    expect(c.vault.operatorSecrets.huggingfaceToken).toMatch(/^llm-platform\/[a-z]+\/huggingface#token$/);
  });

  it("applies explicit defaults", () => {
    const c = cfg("dev");
    expect(c.cluster.supportType).toBe("STANDARD");
    expect(c.cluster.kubernetesVersion).toBe("1.36");
    expect(c.models["gpt-oss-20b"]?.tensorParallelSize).toBe(1);
    expect(c.models["gpt-oss-20b"]?.gpuMemoryUtilization).toBe(0.9);
    expect(c.models["gpt-oss-20b"]?.weights).toEqual({ source: "s3", revision: "main" });
    expect(c.safety.thresholds).toEqual({ hate: 4, sexual: 4, violence: 4, selfHarm: 2 });
    expect(c.tags.project).toBe("llm-platform");
  });
});

// Each case breaks one thing and names the key path (and part of the message) it must report.
const INVALID: [string, string, (r: Record<string, any>) => void, string, RegExp][] = [
  ["pool max < min", "staging", (r) => Object.assign(r.gpuPools.g5, { minNodes: 2, maxNodes: 1 }), "gpuPools.g5.maxNodes", /must be >= minNodes \(2\), got 1/],
  ["unknown key (typo)", "dev", (r) => (r.network.vpcCidrr = "10.0.0.0/16"), "network.vpcCidrr", /unknown key; did you mean "vpcCidr"/],
  ["unknown area", "dev", (r) => (r.modles = {}), "modles", /did you mean "models"/],
  ["unknown instance type", "dev", (r) => (r.gpuPools.g5.instanceTypes = ["g9.huge"]), "gpuPools.g5.instanceTypes[0]", /not in infra\/catalog\/instances.ts/],
  ["CPU type in a GPU pool", "dev", (r) => (r.gpuPools.g5.instanceTypes = ["m5.large"]), "gpuPools.g5.instanceTypes[0]", /has no GPU/],
  ["mixed GPU models in a pool", "dev", (r) => (r.gpuPools.g5.instanceTypes = ["g5.xlarge", "g6.xlarge"]), "gpuPools.g5.instanceTypes", /mixes GPU models/],
  ["model too big for pool", "staging", (r) => (r.models["gpt-oss-120b"].pool = "g5"), "models.gpt-oss-120b.pool", /needs [\d.]+ GiB .* pool "g5"/],
  ["TP > GPUs per instance", "staging", (r) => (r.models["gpt-oss-20b"].tensorParallelSize = 2), "models.gpt-oss-20b.tensorParallelSize", /must be <= the GPUs per instance of pool "g5" \(g5.2xlarge has 1\), got 2/],
  ["TP not a power of two", "staging", (r) => (r.models["gpt-oss-20b"].tensorParallelSize = 3), "models.gpt-oss-20b.tensorParallelSize", /expected 1, 2, 4 or 8/],
  ["model on a missing pool", "dev", (r) => (r.models["gpt-oss-20b"].pool = "p5"), "models.gpt-oss-20b.pool", /no gpuPools entry named "p5"/],
  ["unknown model", "dev", (r) => (r.models["gpt-oss-7b"] = r.models["gpt-oss-20b"]), "models.gpt-oss-7b", /unknown key; did you mean "gpt-oss-20b"/],
  ["budget not positive", "dev", (r) => (r.budget.monthlyUsd = 0), "budget.monthlyUsd", /must be > 0/],
  ["replicas max < min", "dev", (r) => (r.models["gpt-oss-20b"].replicas = { min: 3, max: 1 }), "models.gpt-oss-20b.replicas.max", /must be >= min \(3\), got 1/],
  ["v1beta1 consolidation policy", "dev", (r) => (r.karpenter.cpu.consolidationPolicy = "WhenUnderutilized"), "karpenter.cpu.consolidationPolicy", /"WhenUnderutilized" was removed/],
  ["GPU NodePool without GPU limit", "dev", (r) => (r.karpenter.gpuSpot.limits.gpus = 0), "karpenter.gpuSpot.limits.gpus", /must be >= 1/],
  ["NodePool type outside the catalog", "dev", (r) => (r.karpenter.gpuSpot.instanceTypes = ["g5.xlarge", "g5.8xlarge"]), "karpenter.gpuSpot.instanceTypes[1]", /g5.8xlarge is not in infra\/catalog\/instances.ts, so it cannot be priced/],
  ["CPU type in a GPU NodePool", "dev", (r) => (r.karpenter.gpuSpot.instanceTypes = ["m5.large"]), "karpenter.gpuSpot.instanceTypes[0]", /m5.large has no GPU; GPU NodePools take GPU types/],
  ["GPU type in the CPU NodePool", "dev", (r) => (r.karpenter.cpu.instanceTypes = ["m5.large", "g5.xlarge"]), "karpenter.cpu.instanceTypes[1]", /g5.xlarge is a GPU type/],
  ["NodePool type that never fits its limits", "staging", (r) => (r.karpenter.gpuSpot.limits.memoryGiB = 384), "karpenter.gpuSpot.limits", /p4d.24xlarge \(96 vCPU, 1152 GiB, 8 GPUs\) does not fit the limits \(cpu 144, memoryGiB 384, gpus 14\), so Karpenter can never launch it/],
  ["on-demand weight above spot", "staging", (r) => (r.karpenter.gpuOnDemand.weight = 60), "karpenter.gpuOnDemand.weight", /must be lower than gpuSpot.weight \(50\)/],
  ["@latest AMI in prod", "prod", (r) => (r.karpenter.amiAlias = "al2023@latest"), "karpenter.amiAlias", /must be pinned in prod/],
  ["AZ outside the region", "dev", (r) => (r.network.availabilityZones = ["us-west-2a", "us-east-1b"]), "network.availabilityZones[0]", /not in region us-east-1/],
  ["prod with 2 AZs", "prod", (r) => (r.network.availabilityZones = ["us-east-1a", "us-east-1b"]), "network.availabilityZones", /prod needs 3/],
  ["bad NAT mode", "dev", (r) => (r.network.natGateways = "many"), "network.natGateways", /expected one of "single", "perAz", got string "many"/],
  ["VPC CIDR too small", "dev", (r) => (r.network.vpcCidr = "10.0.0.0/24"), "network.vpcCidr", /between \/16 and \/20/],
  ["public endpoint without CIDRs", "dev", (r) => (r.cluster.endpoint.publicAccessCidrs = []), "cluster.endpoint.publicAccessCidrs", /at least one CIDR/],
  ["maxModelLen over the model's context", "dev", (r) => (r.models["gpt-oss-20b"].maxModelLen = 262144), "models.gpt-oss-20b.maxModelLen", /<= 131072/],
  ["secret-looking vault ref", "dev", (r) => (r.vault.operatorSecrets.huggingfaceToken = "hf_abc123"), "vault.operatorSecrets.huggingfaceToken", /Vault KV v2 reference/],
  ["plain-http Vault", "dev", (r) => (r.vault.address = "http://vault:8200"), "vault.address", /https:\/\//],
  ["safety image :latest", "dev", (r) => (r.safety.image = { source: "registry", ref: "example.com/safety:latest" }), "safety.image.ref", /:latest is not allowed/],
  ["Azure on without endpoint", "dev", (r) => delete r.safety.azure.endpoint, "safety.azure.endpoint", /required when azure.enabled/],
  ["standalone Milvus in staging", "staging", (r) => (r.vectorDb.mode = "standalone"), "vectorDb.mode", /cluster mode/],
  ["prod replicas below 2", "prod", (r) => (r.models["gpt-oss-20b"].replicas.min = 1), "models.gpt-oss-20b.replicas.min", /at least 2/],
  ["embeddings on a missing pool", "dev", (r) => (r.embeddings.embed.placement = "g6"), "embeddings.embed.placement", /expected "cpu" or a gpuPools key/],
  ["wrong type", "dev", (r) => (r.gpuPools.g5.maxNodes = "two"), "gpuPools.g5.maxNodes", /expected number, got string "two"/],
  ["missing required key", "dev", (r) => delete r.budget.spotDiscount, "budget.spotDiscount", /required/],
  ["bad receiver type", "staging", (r) => (r.observability.alertmanager.receiver = { type: "email" }), "observability.alertmanager.receiver.type", /expected one of "none", "slack", "pagerduty"/],
  ["EFA on a type without it", "dev", (r) => (r.gpuPools.g5.efa = true), "gpuPools.g5.efa", /does not support EFA/],
];

describe("invalid configs are rejected with the key path", () => {
  it(`covers at least 15 distinct cases (${INVALID.length})`, () => {
    expect(new Set(INVALID.map((c) => c[3])).size).toBeGreaterThanOrEqual(15);
  });

  it.each(INVALID)("%s", (_name, stack, mutate, path, message) => {
    const found = problems(stack, mutate);
    const atPath = found.filter((p) => p.path === path);
    const listing = found.map((p) => `${p.path}: ${p.message}`).join("\n");
    expect(atPath.length, `no problem at ${path}; got:\n${listing}`).toBeGreaterThan(0);
    expect(atPath.some((p) => message.test(p.message)), `no message at ${path} matches ${message}; got:\n${listing}`).toBe(true);
  });
});

// GPU capacity (infra/capacity.ts): each case breaks one stack and expects the exact message.
const CAPACITY: [string, string, (r: Record<string, any>) => void, string, string][] = [
  [
    "prod: a model's replicas.max on H100 with no Karpenter NodePool offering H100 (the defect of issue 11)",
    "prod",
    (r) => {
      r.karpenter.gpuSpot.instanceTypes = ["g5.2xlarge", "g5.12xlarge"];
      r.karpenter.gpuOnDemand.instanceTypes = ["g5.2xlarge", "g5.12xlarge"];
    },
    "models.gpt-oss-20b.replicas.max",
    "3 replicas need 3 H100 GPUs; node group p5 holds 4 at minNodes, shared with gpt-oss-120b and no Karpenter NodePool offers h100 — add p5.4xlarge to karpenter.gpuSpot.instanceTypes or lower replicas.max",
  ],
  [
    "staging: 120b's replicas.min on a p4d group at 0 nodes (the defect of issue 11)",
    "staging",
    (r) => (r.gpuPools.p4d.minNodes = 0),
    "models.gpt-oss-120b.replicas.min",
    "1 replica needs 2 A100 GPUs without an autoscaler; node group p4d holds 0 at minNodes; only 0 fit — raise gpuPools.p4d.minNodes or lower replicas.min",
  ],
  [
    "prod: the p5 baseline shared by 20b and 120b",
    "prod",
    (r) => (r.gpuPools.p5.minNodes = 3),
    "models.gpt-oss-20b.replicas.min",
    "2 replicas need 2 H100 GPUs without an autoscaler; node group p5 holds 3 at minNodes, shared with gpt-oss-120b; only 1 fit beside them — raise gpuPools.p5.minNodes or lower replicas.min",
  ],
  [
    "staging: no Karpenter NodePool offers the A100 that 120b is placed on",
    "staging",
    (r) => (r.karpenter.gpuSpot.instanceTypes = ["g5.2xlarge", "g5.12xlarge"]),
    "models.gpt-oss-120b.pool",
    "no Karpenter NodePool offers a100 for burst or replacement capacity beside node group p4d — add p4d.24xlarge to karpenter.gpuSpot.instanceTypes",
  ],
  [
    "dev: a GPU encoder and the model share the Karpenter GPU limit (embeddings are placed first)",
    "dev",
    (r) => Object.assign(r.embeddings.embed, { placement: "g5", replicas: { min: 0, max: 1 } }),
    "models.gpt-oss-20b.replicas.max",
    "2 replicas need 2 A10G GPUs; node group g5 holds 0 at minNodes, shared with embed and Karpenter NodePool gpu-spot reaches its limits with only 1 placed — raise karpenter.gpuSpot.limits or lower replicas.max",
  ],
  [
    "prod: the p4d fallback group kept up with nothing placed on it",
    "prod",
    (r) => (r.gpuPools.p4d.minNodes = 1),
    "gpuPools.p4d.minNodes",
    "1 node of p4d.24xlarge that no model or GPU encoder is placed on: idle money — place a workload on the pool or set minNodes: 0",
  ],
];

describe("GPU capacity cross-check", () => {
  it.each(CAPACITY)("%s", (_name, stack, mutate, path, message) => {
    const found = problems(stack, mutate);
    expect(found).toContainEqual({ path, message });
    expect(found.filter((p) => !/^(models|embeddings|gpuPools)\./.test(p.path))).toEqual([]);
  });

  it("exits 2 from the plan with the message, before any resource registers", async () => {
    const raw = structuredClone(readStackConfig("prod")) as Record<string, any>;
    raw["llm-platform:karpenter"].gpuSpot.instanceTypes = ["g5.2xlarge"];
    raw["llm-platform:karpenter"].gpuOnDemand.instanceTypes = ["g5.2xlarge"];
    const r = await plan("prod", { raw, outDir: fs.mkdtempSync(path.join(os.tmpdir(), "llm-plan-capacity-")) });
    expect(r.exitCode).toBe(2);
    expect(r.doc).toBeUndefined();
    expect(r.text).toContain(
      "models.gpt-oss-20b.replicas.max: 3 replicas need 3 H100 GPUs; node group p5 holds 4 at minNodes, shared with gpt-oss-120b and no Karpenter NodePool offers h100 — add p5.4xlarge to karpenter.gpuSpot.instanceTypes or lower replicas.max",
    );
  });
});

describe("error reporting", () => {
  it("reports every problem at once, structural and cross-area, in one ConfigError", () => {
    const raw = rawOf("staging");
    Object.assign(raw.gpuPools.g5, { minNodes: 2, maxNodes: 1 });
    raw.network.natGateways = "many";
    raw.models["gpt-oss-120b"].pool = "g5";
    raw.budget.monthlyUsd = -5;
    let err: unknown;
    try {
      parsePlatformConfig(raw, "staging");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(["gpuPools.g5.maxNodes", "network.natGateways", "models.gpt-oss-120b.pool", "budget.monthlyUsd"]),
    );
    expect(e.message).toContain('Invalid configuration for stack "staging"');
    expect(e.message).toContain("  - gpuPools.g5.maxNodes: must be >= minNodes (2), got 1");
    expect(e.message).toContain("docs/configuration.md");
  });

  it("a valid config raises nothing", () => {
    expect(problems("prod", () => undefined)).toEqual([]);
  });
});
