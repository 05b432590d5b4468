/**
 * The offline plan: runs the real program for a stack on the mock runtime, then writes the
 * inventory, manifests, cost estimate and the policy pack's verdicts. Exit codes: 0 clean,
 * 2 invalid config (stack or policy config), 1 mandatory policy violations.
 */
import * as path from "node:path";
import { ConfigError } from "../../infra/config";
import { estimateCost } from "../../infra/cost";
import { simulationReport } from "../../infra/scaling-sim";
import { coldStartReport } from "../../infra/coldstart";
import { minReplicaKarpenterNodes, unitEconomicsReport } from "../../infra/unit-economics";
import { readStackConfig, readStackConfigFile, runStack, StackFileError, type RawStackConfig, type RunResult } from "./harness";
import { budgetAgreementProblems } from "../../policies/cost";
import { policies } from "../../policies/policies";
import { PolicyConfigError, policyConfigFile as policyConfigFileOf, readPolicyConfig, resolvePolicyConfig, runPolicies, type PolicyPackConfig } from "./policies";
import { helmReleases, kubernetesObjects, notVisible, summary, writePlan, type PlanDocument } from "./render";

export interface PlanResult {
  readonly exitCode: 0 | 1 | 2;
  readonly text: string;
  readonly doc?: PlanDocument;
  /** The recorded run behind the plan (absent on invalid config). */
  readonly run?: RunResult;
}

const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const DEFAULT_OUT_DIR = path.join(REPO_ROOT, "out");

export interface PlanOptions {
  /** Overrides the stack file's config map (deliberately broken configs in tests). */
  readonly raw?: RawStackConfig;
  /** Plans this stack file instead of stacks/Pulumi.<stack>.yaml (`--config <file>`). */
  readonly configFile?: string;
  readonly outDir?: string;
  /** Overrides policies/config/<stack>.json. */
  readonly policyConfig?: PolicyPackConfig;
}

export async function plan(stack: string, opts: PlanOptions = {}): Promise<PlanResult> {
  // The stack file first: a missing or malformed one is reported as <file>:<line>:<column>.
  let raw: RawStackConfig;
  try {
    raw = opts.raw ?? (opts.configFile !== undefined ? readStackConfigFile(opts.configFile) : readStackConfig(stack));
  } catch (e) {
    if (e instanceof StackFileError) return { exitCode: 2, text: e.message };
    throw e;
  }

  // Then the policy config: it is cheap to check, and an invalid one should not wait for a run.
  let policyConfig: PolicyPackConfig;
  const policyConfigFile = opts.policyConfig ? "(policy config given)" : path.relative(REPO_ROOT, policyConfigFileOf(stack));
  try {
    policyConfig = opts.policyConfig ?? readPolicyConfig(stack);
    resolvePolicyConfig(policyConfig, policies, policyConfigFile);
  } catch (e) {
    if (e instanceof PolicyConfigError) return { exitCode: 2, text: e.message };
    throw e;
  }

  let run;
  try {
    run = await runStack(stack, raw);
  } catch (e) {
    if (e instanceof ConfigError) return { exitCode: 2, text: e.message };
    throw e;
  }
  const { config, resources, outputs } = run;
  // One budget: the stack's llm-platform:budget and the pack's monthly-budget must agree (issue 12).
  if (config && !opts.policyConfig) {
    const problems = budgetAgreementProblems(config.budget, policyConfig, { stack: opts.configFile ?? `stacks/Pulumi.${stack}.yaml`, pack: policyConfigFile });
    if (problems.length) return { exitCode: 2, text: new PolicyConfigError(policyConfigFile, problems).message };
  }
  const cost = estimateCost(resources, { spotDiscount: config?.budget.spotDiscount ?? 0, minReplicaNodes: config ? minReplicaKarpenterNodes(config) : [] });
  // Capacity and $/token per model (issue 14): the same rows the capacity policies and the gateway prices use.
  const unitEconomics = config ? unitEconomicsReport(config) : undefined;
  const policyRun = await runPolicies(resources, policyConfig, { configFile: policyConfigFile });
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
    ...(config ? { coldStart: coldStartReport(config) } : {}),
    ...(unitEconomics ? { unitEconomics } : {}),
    ...(config ? { scaling: simulationReport(config) } : {}),
    policies: policyRun.verdicts,
    policyRun: {
      pack: policyRun.pack,
      ...(policyRun.configFile ? { configFile: policyRun.configFile } : {}),
      policies: policyRun.policies,
      notCheckedOffline: policyRun.blindSpots,
    },
    outputs,
    resources,
  };
  const written = writePlan(opts.outDir ?? DEFAULT_OUT_DIR, doc);
  const mandatory = policyRun.verdicts.some((v) => v.enforcementLevel === "mandatory");
  return { exitCode: mandatory ? 1 : 0, text: summary(doc, config, written), doc, run };
}
