/**
 * The offline plan: runs the real program for a stack on the mock runtime, then writes the
 * inventory, manifests and cost estimate. Exit codes: 0 clean, 2 invalid config, 1 mandatory
 * policy violations.
 */
import * as path from "node:path";
import { ConfigError } from "../config";
import { estimateCost } from "./cost";
import { runStack, type RawStackConfig, type RunResult } from "./harness";
import { helmReleases, kubernetesObjects, notVisible, summary, writePlan, type PlanDocument } from "./render";

export interface PlanResult {
  readonly exitCode: 0 | 1 | 2;
  readonly text: string;
  readonly doc?: PlanDocument;
  /** The recorded run behind the plan (absent on invalid config). */
  readonly run?: RunResult;
}

export const DEFAULT_OUT_DIR = path.resolve(__dirname, "..", "..", "out");

export async function plan(stack: string, opts: { raw?: RawStackConfig; outDir?: string } = {}): Promise<PlanResult> {
  let run;
  try {
    run = await runStack(stack, opts.raw);
  } catch (e) {
    if (e instanceof ConfigError) return { exitCode: 2, text: e.message };
    throw e;
  }
  const { config, resources, outputs } = run;
  const cost = estimateCost(resources, { spotDiscount: config?.budget.spotDiscount ?? 0 });
  const doc: PlanDocument = {
    stack,
    ...(config ? { environment: config.environment, region: config.region } : {}),
    summary: {
      resources: resources.length,
      kubernetesObjects: kubernetesObjects(resources).length,
      helmReleases: helmReleases(resources).length,
      remoteComponents: resources.filter((r) => r.remote).length,
    },
    notVisible: notVisible(resources),
    cost: { ...cost, ...(config ? { budgetMonthlyUsd: config.budget.monthlyUsd } : {}) },
    policies: [],
    outputs,
    resources,
  };
  const written = writePlan(opts.outDir ?? DEFAULT_OUT_DIR, doc);
  return { exitCode: 0, text: summary(doc, config, written), doc, run };
}
