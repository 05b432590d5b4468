/**
 * The pack on the real program: the committed stacks pass; their policy configs are valid and
 * agree with the stack files; deliberately bad configs fail the offline plan naming the policy.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { RecordedResource } from "../stacks/plan/harness";
import { plan } from "../stacks/plan/plan";
import { readPolicyConfig, runStackPolicies, type PolicyVerdict } from "../stacks/plan/policies";
import { STATEFUL_TYPES as PROTECTED_BY_TRANSFORM } from "../infra/protection";
import { NOT_TAGGABLE, TAGGABLE } from "../policies/lib/aws";
import { policies } from "../policies/policies";
import { STATEFUL_TYPES } from "../policies/reliability";
import { awsProvider, bucket, deployment, urnOf } from "./support/policy-harness";
import { planOf, readStackConfig, stack, STACKS } from "./support/stacks";

const mandatory = (vs: readonly PolicyVerdict[]) => vs.filter((v) => v.enforcementLevel === "mandatory");
const describeVerdicts = (vs: readonly PolicyVerdict[]) => vs.map((v) => `[${v.enforcementLevel}] ${v.policy}: ${v.resource?.name ?? "(stack)"} - ${v.message}`).join("\n");
const tmpOut = () => fs.mkdtempSync(path.join(os.tmpdir(), "llm-plan-policy-"));

describe.each(STACKS)("stack %s", (name) => {
  it("passes the pack: the offline plan reports no mandatory violation", () => {
    const p = planOf(name);
    expect(mandatory(p.doc.policies), describeVerdicts(p.doc.policies)).toEqual([]);
    expect(p.text).toContain("Policy verdicts: llm-platform-guardrails");
  });

  it("has a policy config that validates and runs every policy it does not disable", () => {
    const cfg = readPolicyConfig(name);
    const disabled = Object.entries(cfg)
      .filter(([, v]) => v === "disabled" || (typeof v === "object" && (v as { enforcementLevel?: string }).enforcementLevel === "disabled"))
      .map(([k]) => k);
    const ran = planOf(name).doc.policyRun.policies.map((p) => p.name);
    expect(ran.sort()).toEqual(policies.map((p) => p.name).filter((n) => !disabled.includes(n)).sort());
  });

  it("keeps the budget in policies/config/<stack>.json equal to llm-platform:budget in the stack file", () => {
    const budget = readStackConfig(name)["llm-platform:budget"] as { monthlyUsd: number; spotDiscount: number };
    const policy = readPolicyConfig(name)["monthly-budget"] as { monthlyUsd: number; spotDiscount: number };
    expect({ monthlyUsd: policy.monthlyUsd, spotDiscount: policy.spotDiscount }).toEqual({ monthlyUsd: budget.monthlyUsd, spotDiscount: budget.spotDiscount });
  });

  it("classifies every AWS type it registers as taggable or not", async () => {
    const types = [...new Set((await stack(name)).resources.map((r) => r.type).filter((t) => t.startsWith("aws:")))];
    expect(types.filter((t) => !TAGGABLE.has(t) && !NOT_TAGGABLE.has(t)), "add these to policies/lib/aws.ts").toEqual([]);
  });
});

describe("the environment-specific settings", () => {
  it("require a private endpoint and protection in prod, spot or zero GPUs outside it", () => {
    const prod = readPolicyConfig("prod");
    expect(prod["eks-private-endpoint"]).toEqual({ requirePrivateEndpoint: true });
    expect(prod["stateful-resources-protected"]).toEqual({ requireProtection: true });
    expect(prod["serving-min-replicas"]).toEqual({ minReplicas: 2 });
    expect(prod["gpu-spot-or-scale-to-zero"]).toBe("disabled");
    for (const s of ["dev", "staging"]) expect(readPolicyConfig(s)["gpu-spot-or-scale-to-zero"]).toBe("mandatory");
    expect(readPolicyConfig("staging")["stateful-resources-protected"]).toEqual({ requireProtection: true });
    for (const s of STACKS) expect((readPolicyConfig(s)["required-cost-tags"] as { expectedTagValues: object }).expectedTagValues).toMatchObject({ environment: s });
  });
});

describe("the taggable-type lists", () => {
  // A type is taggable when its Args interface in the @pulumi/aws SDK has `tags`.
  const sdk = path.dirname(require.resolve("@pulumi/aws/package.json"));
  const sdkTaggable = (token: string): boolean | undefined => {
    const m = /^aws:([^/]+)\/([^:]+):(.+)$/.exec(token);
    if (!m) return undefined;
    const file = path.join(sdk, m[1]!, `${m[2]}.d.ts`);
    if (!fs.existsSync(file)) return undefined;
    const text = fs.readFileSync(file, "utf8");
    const start = text.indexOf(`export interface ${m[3]}Args {`);
    if (start < 0) return undefined;
    return /\n {4}tags\?:/.test(text.slice(start, text.indexOf("\n}", start)));
  };

  it("agree with the @pulumi/aws SDK", () => {
    const wrong = [...[...TAGGABLE].map((t) => [t, true] as const), ...[...NOT_TAGGABLE].map((t) => [t, false] as const)].filter(([t, tagged]) => sdkTaggable(t) !== tagged).map(([t]) => t);
    expect(wrong).toEqual([]);
  });
});

describe("stateful types", () => {
  it("include every type infra/protection.ts protects", () => {
    expect([...PROTECTED_BY_TRANSFORM].filter((t) => !STATEFUL_TYPES.includes(t))).toEqual([]);
  });
});

describe("bad resources in a real stack fail the pack, naming the policy", () => {
  const mutate = async (fn: (rs: RecordedResource[]) => RecordedResource[]) => {
    const resources = structuredClone((await stack("dev")).resources) as RecordedResource[];
    const run = await runStackPolicies("dev", fn(resources));
    const before = new Set((planOf("dev").doc.policies).map((v) => `${v.policy}\u0000${v.message}`));
    return run.verdicts.filter((v) => !before.has(`${v.policy}\u0000${v.message}`));
  };
  const inputsOf = (r: RecordedResource) => r.inputs as Record<string, any>;

  it("a NodePool with no GPU limit", async () => {
    const added = await mutate((rs) => {
      const np = rs.find((r) => r.type === "kubernetes:karpenter.sh/v1:NodePool" && inputsOf(r).metadata.name === "gpu-spot")!;
      delete inputsOf(np).spec.limits["nvidia.com/gpu"];
      return rs;
    });
    expect(added.map((v) => v.policy).sort()).toEqual(["gpu-count-cap", "karpenter-nodepool-limits"]);
    expect(added.find((v) => v.policy === "karpenter-nodepool-limits")?.message).toBe("NodePool gpu-spot: spec.limits has no nvidia.com/gpu; set karpenter.gpuSpot.limits.gpus.");
  });

  it("an on-demand GPU baseline in dev", async () => {
    const added = await mutate((rs) => {
      const ng = rs.find((r) => r.type === "eks:index:ManagedNodeGroup" && inputsOf(r).labels["llm-platform.io/pool"] === "g5")!;
      Object.assign(inputsOf(ng), { capacityType: "ON_DEMAND", scalingConfig: { minSize: 1, desiredSize: 1, maxSize: 2 } });
      return rs;
    });
    expect(added.map((v) => v.policy)).toEqual(["gpu-spot-or-scale-to-zero"]);
    expect(added[0]?.resource?.name).toBe("gpu-nodegroups-g5");
  });

  it("an untagged bucket (a second AWS provider without defaultTags), unencrypted and public", async () => {
    const bare = { ...awsProvider({}), urn: urnOf("pulumi:providers:aws", "bare"), name: "bare" };
    const b = { ...bucket("scratch"), provider: bare.urn };
    const added = await mutate((rs) => [...rs, bare, b]);
    expect(added.map((v) => v.policy).sort()).toEqual(["required-cost-tags", "s3-encrypted-private", "s3-encrypted-private"]);
    expect(added.find((v) => v.policy === "required-cost-tags")?.message).toMatch(/^Bucket scratch: cost-allocation tags missing environment, project, cost-center, owner/);
  });

  it("a latest image", async () => {
    const d = deployment("debug", { image: "busybox:latest", labels: { app: "debug" }, namespace: "tools" });
    const added = await mutate((rs) => [...rs, d]);
    expect(added.map((v) => v.policy)).toEqual(["k8s-images-pinned"]);
  });
});

describe("bad configs fail the offline plan", () => {
  const newVerdicts = (stackName: string, vs: readonly PolicyVerdict[]) => {
    const before = new Set(planOf(stackName).doc.policies.map((v) => `${v.policy}\u0000${v.message}`));
    return vs.filter((v) => !before.has(`${v.policy}\u0000${v.message}`));
  };

  it("dev asking for p5 at 8 nodes: exit 1, over budget, type not allowed, over the GPU cap", async () => {
    const raw = structuredClone(readStackConfig("dev")) as Record<string, any>;
    raw["llm-platform:gpuPools"].p5 = { instanceTypes: ["p5.48xlarge"], capacityType: "ON_DEMAND", maxNodes: 8 };
    const out = tmpOut();
    const r = await plan("dev", { raw, outDir: out });
    expect(r.exitCode).toBe(1);
    const added = new Set(newVerdicts("dev", r.doc!.policies).map((v) => v.policy));
    // New kinds of violation: exactly these three (the new pool's resources may repeat a kind the committed stack already has).
    const already = new Set(planOf("dev").doc.policies.map((v) => v.policy));
    expect([...added].filter((p) => !already.has(p)).sort()).toEqual(["allowed-instance-types", "gpu-count-cap", "monthly-budget"]);
    expect(r.text).toMatch(/\[mandatory\] monthly-budget: \(stack\) - estimated maximum \$[\d,]+\/month is over the budget of \$3,500/);
    expect(r.text).toMatch(/\[mandatory\] allowed-instance-types: gpu-nodegroups-p5 \(ManagedNodeGroup\) - node group p5 .*p5\.48xlarge is not allowed here/);
    expect(r.text).toMatch(/\[mandatory\] gpu-count-cap: \(stack\) - the stack may run \d+ GPUs, over the cap of 8/);
    expect(r.text).toMatch(/\d+ mandatory, 0 advisory violations - the plan fails \(exit 1\)/);
    const json = JSON.parse(fs.readFileSync(path.join(out, "dev", "plan.json"), "utf8"));
    expect(json.policies.some((v: PolicyVerdict) => v.policy === "monthly-budget")).toBe(true);
  });

  it("prod with a public endpoint: exit 1, eks-private-endpoint", async () => {
    const raw = structuredClone(readStackConfig("prod")) as Record<string, any>;
    raw["llm-platform:cluster"].endpoint = { publicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] };
    const r = await plan("prod", { raw, outDir: tmpOut() });
    expect(r.exitCode).toBe(1);
    const added = newVerdicts("prod", r.doc!.policies);
    expect(added.map((v) => v.policy)).toEqual(["eks-private-endpoint"]);
    expect(r.text).toContain("[mandatory] eks-private-endpoint: cluster-eks (Cluster) - Cluster cluster-eks: the API endpoint is public (203.0.113.0/24); this environment requires a private endpoint.");
  });

  it("prod with single replicas of the embedder (KEDA) and of the safety service (HPA): exit 1, serving-min-replicas", async () => {
    const raw = structuredClone(readStackConfig("prod")) as Record<string, any>;
    raw["llm-platform:embeddings"].embed.replicas.min = 1;
    raw["llm-platform:safety"].replicas.min = 1;
    const r = await plan("prod", { raw, outDir: tmpOut() });
    expect(r.exitCode).toBe(1);
    const added = newVerdicts("prod", r.doc!.policies);
    expect(added.map((v) => v.policy)).toEqual(["serving-min-replicas", "serving-min-replicas"]);
    expect(added.map((v) => v.message).sort()).toEqual([
      "Deployment embeddings/tei-embed: KEDA ScaledObject minReplicaCount is 1, below this environment's minimum of 2; raise <service>.replicas.min.",
      "Deployment safety/safety: HorizontalPodAutoscaler minReplicas is 1, below this environment's minimum of 2; raise <service>.replicas.min.",
    ]);
  });

  it.each([
    ["a GPU NodePool with a GPU limit of 0", (raw: Record<string, any>) => (raw["llm-platform:karpenter"].gpuSpot.limits.gpus = 0), "karpenter.gpuSpot.limits.gpus"],
    ["a safety image on :latest", (raw: Record<string, any>) => (raw["llm-platform:safety"].image = { source: "registry", ref: "ghcr.io/org/safety:latest" }), "safety.image.ref"],
  ])("%s is stopped by the config schema first (exit 2); the policy is the backstop", async (_name, mutate, key) => {
    const raw = structuredClone(readStackConfig("dev")) as Record<string, any>;
    mutate(raw);
    const r = await plan("dev", { raw, outDir: tmpOut() });
    expect(r.exitCode).toBe(2);
    expect(r.text).toContain(key);
  });

  it("an invalid policy config stops the plan with exit 2", async () => {
    const r = await plan("dev", { outDir: tmpOut(), policyConfig: { "monthly-budget": { monthlyUsd: -1, spotDiscount: 0.6 } } });
    expect(r.exitCode).toBe(2);
    expect(r.text).toContain("monthly-budget.monthlyUsd: must be > 0");
  });
});
