/**
 * Runs the offline plan of every committed stack once per test run, in vitest's main process,
 * and hands the results (plain data) to every test file through `inject("plans")`. Test files
 * that need a modified config still run the program themselves.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TestProject } from "vitest/node";
import type { RunResult } from "../../stacks/plan/harness";
import type { PlanResult } from "../../stacks/plan/plan";

export interface ProvidedPlans {
  readonly outDir: string;
  readonly results: Record<string, Omit<PlanResult, "run"> & { run: RunResult }>;
}

declare module "vitest" {
  export interface ProvidedContext {
    plans: ProvidedPlans;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const { listStacks } = await import("../../stacks/plan/harness");
  const { plan } = await import("../../stacks/plan/plan");
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-plan-"));
  const results: ProvidedPlans["results"] = {};
  for (const stack of listStacks()) {
    const r = await plan(stack, { outDir });
    if (!r.run) throw new Error(`the committed stack ${stack} does not plan:\n${r.text}`);
    results[stack] = { ...r, run: r.run };
  }
  project.provide("plans", JSON.parse(JSON.stringify({ outDir, results })) as ProvidedPlans);
  return () => fs.rmSync(outDir, { recursive: true, force: true });
}
