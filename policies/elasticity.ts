/**
 * Elasticity guardrails (issue 16): in prod, a model's replica starts within the seed's targets,
 * by the cold-start model (infra/coldstart.ts), read from what the stack renders:
 * - on a warm node, within the model's cold-start goal (60 s gpt-oss-20b, 120 s gpt-oss-120b);
 * - on a new node, within 5 minutes (the seed's scale-up target; policy config newNodeMaxSeconds).
 * A miss names the phase that breaks it and the key that shortens it.
 *
 * What it reads: each vLLM Deployment (model label, --tensor-parallel-size, --load-format, the
 * compile-cache init container, its pool from the preferred node affinity), the pool's managed
 * node group (the instance type), and the Karpenter "gpu" EC2NodeClass (new nodes: FastImagePull in
 * its userData = soci, a snapshotID data volume = snapshot, else none) or, without one, the
 * pool's launch template.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { INSTANCE_TYPES } from "llm-platform-infra/catalog/instances";
import { LLM_MODEL_KEYS, llmModel, type LlmModelKey } from "llm-platform-infra/catalog/models";
import { breakingPhase, coldStartEstimate, NEW_NODE_LIMIT_SECONDS, PHASE_REMEDY, type ColdStartEstimate, type ColdStartOptions, type WarmStartMode } from "llm-platform-infra/coldstart";
import { providerDefaultTags } from "./lib/aws";
import { countableNodeGroups, nodeGroupView, POOL_LABEL } from "./lib/capacity";
import { COMPONENT_LABEL, containersOf, workloadOf } from "./lib/k8s";
import { configOf, propsOf } from "./lib/policy";
import { arr, get, isRecord, num, str, type Props } from "./lib/props";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const MODEL_LABEL = "llm-platform.io/model";
/** The init container components/compile-cache.ts adds to seed the cache. */
const COMPILE_CACHE_INIT = "compile-cache";

function environmentOf(resources: readonly PolicyResource[]): string | undefined {
  for (const r of resources.filter((x) => x.type === "pulumi:providers:aws")) {
    const env = providerDefaultTags(propsOf(r)).environment;
    if (env) return env;
  }
  return undefined;
}

/** The warm start a node gets from its user data and block devices (components/warm-start.ts). */
export function warmStartOf(userData: string | undefined, blockDeviceMappings: unknown): Pick<ColdStartOptions, "warmStart" | "volumeThroughputMiBps" | "volumeInitializationRateMiBps"> {
  const devices = arr(blockDeviceMappings).filter(isRecord);
  const snapshot = devices.find((d) => str(get(d, "ebs", "snapshotID")) ?? str(get(d, "ebs", "snapshotId")));
  const root = devices.find((d) => d.deviceName === "/dev/xvda");
  const throughput = num(get(root, "ebs", "throughput"));
  const mode: WarmStartMode = snapshot ? "snapshot" : userData && /FastImagePull:\s*true/.test(userData) ? "soci" : "none";
  const rate = num(get(snapshot, "ebs", "volumeInitializationRate"));
  return { warmStart: mode, ...(throughput !== undefined ? { volumeThroughputMiBps: throughput } : {}), ...(rate !== undefined ? { volumeInitializationRateMiBps: rate } : {}) };
}

function decodeUserData(v: unknown): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  return /^[A-Za-z0-9+/=\s]+$/.test(s) ? Buffer.from(s, "base64").toString("utf8") : s;
}

function argValue(args: unknown, flag: string): string | undefined {
  const a = arr(args);
  const i = a.indexOf(flag);
  return i >= 0 ? str(a[i + 1]) : undefined;
}

function preferredPool(podSpec: Record<string, unknown>): string | undefined {
  for (const pref of arr(get(podSpec, "affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution")).filter(isRecord))
    for (const e of arr(get(pref, "preference", "matchExpressions")).filter(isRecord)) if (e.key === POOL_LABEL && e.operator === "In") return str(arr(e.values)[0]);
  return undefined;
}

function describePhases(e: ColdStartEstimate): string {
  return e.phases.map((p) => `${p.name} ${p.seconds}`).join(", ");
}

export const coldStartWithinTargets: StackValidationPolicy = {
  name: "cold-start-within-targets",
  description:
    "In prod every model's estimated cold start (infra/coldstart.ts) meets the seed's targets: on a warm node within the model's goal (60 s gpt-oss-20b, 120 s gpt-oss-120b), on a new node within 5 minutes; a miss names the phase that breaks it.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["reliability", "elasticity"],
  configSchema: { properties: { newNodeMaxSeconds: { type: "number", default: NEW_NODE_LIMIT_SECONDS, description: "The new-node limit, seconds (the seed: 5 minutes)." } } },
  validateStack: (args, report) => {
    if (environmentOf(args.resources) !== "prod") return;
    const { newNodeMaxSeconds = NEW_NODE_LIMIT_SECONDS } = configOf<{ newNodeMaxSeconds?: number }>(args);
    const groups = countableNodeGroups(args.resources).map((r) => nodeGroupView(r.name, propsOf(r)));
    const gpuClass = args.resources.find((r) => r.type === EC2_NODE_CLASS && str(get(propsOf(r), "metadata", "name")) === "gpu");
    for (const r of args.resources.filter((x) => x.type === DEPLOYMENT)) {
      const w = workloadOf(r.type, propsOf(r), r.name);
      if (!w || { ...w.labels, ...w.podLabels }[COMPONENT_LABEL] !== "model-server") continue;
      const key = { ...w.labels, ...w.podLabels }[MODEL_LABEL] as LlmModelKey | undefined;
      if (!key || !LLM_MODEL_KEYS.includes(key)) continue;
      const where = `Deployment ${w.namespace}/${w.name}`;
      const vllm = containersOf(w.podSpec).find((c) => c.role === "container");
      const vllmArgs = vllm?.spec.args;
      const tp = Number(argValue(vllmArgs, "--tensor-parallel-size") ?? "1");
      const weightsSource = argValue(vllmArgs, "--load-format") === "runai_streamer" ? "s3" : "huggingface";
      const compileCache = containersOf(w.podSpec).some((c) => c.role === "initContainer" && c.name === COMPILE_CACHE_INIT);
      const pool = preferredPool(w.podSpec);
      const group = groups.find((g) => g.pool === pool);
      const types = (group?.instanceTypes ?? []).filter((t) => INSTANCE_TYPES.get(t)?.gpu);
      if (types.length === 0) {
        report(`${where}: no managed GPU node group for its pool "${pool ?? "(none)"}", so its cold start cannot be estimated.`, r.urn);
        continue;
      }
      const instanceType = types
        .map((t) => INSTANCE_TYPES.get(t)!)
        .reduce((a, b) => (b.vcpu / b.gpu!.count < a.vcpu / a.gpu!.count ? b : a)).name;
      let node: ReturnType<typeof warmStartOf>;
      if (gpuClass) node = warmStartOf(str(get(propsOf(gpuClass), "spec", "userData")), get(propsOf(gpuClass), "spec", "blockDeviceMappings"));
      else {
        const lt = args.resources.find((x) => x.type === LAUNCH_TEMPLATE && pool !== undefined && (str(propsOf(x).name) ?? "").endsWith(`-${pool}`));
        const p: Props | undefined = lt ? propsOf(lt) : undefined;
        node = warmStartOf(decodeUserData(p?.userData), p?.blockDeviceMappings);
      }
      const opts: ColdStartOptions = { ...node, compileCache, weightsSource };
      const placement = { instanceType, tensorParallelSize: tp };
      const warm = coldStartEstimate(key, placement, "warm", opts);
      const goal = llmModel(key).coldStartGoalSeconds;
      if (warm.totalSeconds > goal) {
        const b = breakingPhase(key, placement, "warm", opts);
        report(
          `${where}: ${key} on a warm ${instanceType} node starts in an estimated ${warm.totalSeconds} s, over its ${goal} s goal; ${b.name} (${b.seconds} s: ${b.source}) breaks it: ${PHASE_REMEDY[b.name]}. Phases: ${describePhases(warm)}.`,
          r.urn,
        );
      }
      const fresh = coldStartEstimate(key, placement, "new", opts);
      if (fresh.totalSeconds > newNodeMaxSeconds) {
        const b = breakingPhase(key, placement, "new", opts);
        report(
          `${where}: ${key} on a new ${instanceType} node (image: ${opts.warmStart}) starts in an estimated ${fresh.totalSeconds} s, over ${newNodeMaxSeconds} s; ${b.name} (${b.seconds} s: ${b.source}) breaks it: ${PHASE_REMEDY[b.name]}. Phases: ${describePhases(fresh)}.`,
          r.urn,
        );
      }
    }
  },
};

export const elasticityPolicies = [coldStartWithinTargets];
