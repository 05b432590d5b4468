import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MOCK_SECRET_VALUE } from "../stacks/plan/mocks";
import { plan } from "../stacks/plan/plan";
import { planOf, readStackConfig, STACKS } from "./support/stacks";

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe.each(STACKS)("npm run plan -- %s", (stack) => {
  const r = planOf(stack);
  const outDir = r.outDir;

  it("exits 0 and writes plan.json with every resource and the cost estimate", () => {
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(fs.readFileSync(path.join(outDir, stack, "plan.json"), "utf8"));
    expect(doc.stack).toBe(stack);
    expect(doc.resources.length).toBe(r.doc.summary.resources);
    for (const res of doc.resources) {
      expect(res).toHaveProperty("type");
      expect(res).toHaveProperty("name");
      expect(res).toHaveProperty("inputs");
    }
    expect(doc.resources.some((x: { parent?: string }) => x.parent)).toBe(true);
    // The cost lines add up to the totals.
    const sum = (k: "baselineMonthlyUsd" | "maxMonthlyUsd") => doc.cost.lines.reduce((a: number, l: Record<string, number>) => a + l[k]!, 0);
    expect(sum("maxMonthlyUsd")).toBeCloseTo(doc.cost.maxMonthlyUsd, 1);
    expect(sum("baselineMonthlyUsd")).toBeCloseTo(doc.cost.baselineMonthlyUsd, 1);
    expect(doc.cost.budgetMonthlyUsd).toBe((readStackConfig(stack)["llm-platform:budget"] as { monthlyUsd: number }).monthlyUsd);
  });

  it("writes every Kubernetes object as YAML under manifests/", () => {
    const files = filesUnder(path.join(outDir, stack, "manifests"));
    expect(files.length).toBe(r.doc.summary.kubernetesObjects + r.doc.summary.helmReleases);
    expect(files.some((f) => f.endsWith(path.join("_cluster", "StorageClass.gp3.yaml")))).toBe(true);
  });

  it("says which remote components hide their children", () => {
    expect(r.doc.notVisible.map((n) => n.type)).toContain("eks:index:Cluster");
    expect(r.text).toContain("Not visible offline");
    expect(r.text).toMatch(/Total\s+\$[\d,.]+\s+\$[\d,.]+/);
    // The cold-start block prints the same figures plan.json carries (infra/coldstart.ts).
    const cs = (r.doc as any).coldStart.find((c: any) => c.model === "gpt-oss-20b");
    expect(cs.warm.totalSeconds).toBeLessThanOrEqual(cs.warmGoalSeconds);
    expect(r.text).toMatch(new RegExp(`gpt-oss-20b\\s+${cs.instanceType} TP${cs.tensorParallelSize}\\s+warm node\\s+${cs.warm.totalSeconds} \\(goal <= 60\\)\\s+new node\\s+${cs.new.totalSeconds} \\(limit 300\\)`));
  });

  it("keeps secrets out of the output: the kubeconfig and generated secrets are redacted", () => {
    const all = filesUnder(path.join(outDir, stack)).map((f) => fs.readFileSync(f, "utf8")).join("\n");
    expect(all).not.toContain(MOCK_SECRET_VALUE);
    expect(all).not.toContain("certificate-authority-data");
    const doc = JSON.parse(fs.readFileSync(path.join(outDir, stack, "plan.json"), "utf8"));
    expect(doc.outputs.kubeconfig).toBe("[secret]");
  });
});

describe("invalid config", () => {
  it("exits 2 and prints every problem with its key path, before any resource registers", async () => {
    const raw = structuredClone(readStackConfig("dev")) as Record<string, any>;
    raw["llm-platform:gpuPools"].g5.maxNodes = -1;
    raw["llm-platform:network"].natGateways = "many";
    raw["llm-platform:budget"].monthlyUsd = 0;
    const r = await plan("dev", { raw, outDir: fs.mkdtempSync(path.join(os.tmpdir(), "llm-plan-bad-")) });
    expect(r.exitCode).toBe(2);
    expect(r.doc).toBeUndefined();
    expect(r.text).toContain("gpuPools.g5.maxNodes");
    expect(r.text).toContain("network.natGateways");
    expect(r.text).toContain("budget.monthlyUsd");
    expect(r.text).toMatch(/3 problems/);
  });
});
