/**
 * Cost guardrails: the monthly budget, allowed instance types, the GPU cap, spot or
 * scale-to-zero GPU capacity outside prod, NodePool limits, cost-allocation tags, the EKS
 * support tier and bounded log retention.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { INSTANCE_TYPES } from "llm-platform-infra/catalog/instances";
import { estimateCost, parseQuantity } from "llm-platform-infra/cost";
import { isTaggable, providerDefaultTags } from "./lib/aws";
import {
  AWS_EKS_CLUSTER,
  countableNodeGroups,
  EKS_COMPONENT_CLUSTER,
  hasGpu,
  NODE_GROUP_TYPES,
  nodeGroupView,
  nodePoolConfigKey,
  nodePoolGpus,
} from "./lib/capacity";
import { EC2_NODE_CLASS, isNodePool } from "./lib/k8s";
import { configOf, forTypes, propsOf } from "./lib/policy";
import { arr, get, isRecord, kindOf, num, plural, record, str, stringMap, strings, usd } from "./lib/props";

// ---------------------------------------------------------------------------------------------
// monthly-budget

export interface BudgetConfig {
  readonly monthlyUsd: number;
  readonly spotDiscount: number;
}

export const monthlyBudget: StackValidationPolicy = {
  name: "monthly-budget",
  description: "The stack's estimated maximum monthly cost (node groups at max size, NodePools at their limits, control plane, NAT and the rest) stays within the environment's budget.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["cost"],
  configSchema: {
    properties: {
      monthlyUsd: { type: "number", exclusiveMinimum: 0, description: "The budget in USD per month; keep equal to llm-platform:budget.monthlyUsd in the stack file." },
      spotDiscount: { type: "number", minimum: 0, maximum: 0.9, description: "Assumed spot discount off on-demand; keep equal to llm-platform:budget.spotDiscount." },
    },
    required: ["monthlyUsd", "spotDiscount"],
  },
  remediationSteps: "Lower gpuPools.<pool>.maxNodes or karpenter.<pool>.limits, move capacity to SPOT, or raise the budget in the stack file and in policies/config/<stack>.json together.",
  validateStack: (args, report) => {
    const { monthlyUsd, spotDiscount } = configOf<BudgetConfig>(args);
    const est = estimateCost(
      args.resources.map((r) => ({ type: r.type, name: r.name, inputs: propsOf(r) })),
      { spotDiscount },
    );
    if (est.unbounded.length > 0)
      report(`the maximum monthly cost has no upper bound: ${est.unbounded.join("; ")}. Give every NodePool cpu, memory and nvidia.com/gpu limits and use instance types from infra/catalog/instances.ts.`);
    if (est.maxMonthlyUsd > monthlyUsd) {
      const top = [...est.lines]
        .sort((a, b) => b.maxMonthlyUsd - a.maxMonthlyUsd)
        .slice(0, 3)
        .map((l) => `${l.item} ${usd(l.maxMonthlyUsd)}`)
        .join("; ");
      report(
        `estimated maximum ${usd(est.maxMonthlyUsd)}/month is over the budget of ${usd(monthlyUsd)} by ${usd(est.maxMonthlyUsd - monthlyUsd)} ` +
          `(${Math.round((est.maxMonthlyUsd / monthlyUsd) * 100)}%). Largest: ${top}. Lower maxNodes or NodePool limits, use SPOT, or raise budget.monthlyUsd.`,
      );
    }
  },
};

/**
 * One source of truth for the budget: the stack's `llm-platform:budget` and the pack config's
 * `monthly-budget` must say the same (the CLI runs the pack with the JSON file, the program
 * estimates against the stack file). Returns the disagreements, each naming both keys; the
 * offline plan turns them into a config error (exit 2) before anything runs.
 */
export function budgetAgreementProblems(stackBudget: BudgetConfig, packConfig: Readonly<Record<string, unknown>>, files = { stack: "the stack file", pack: "the policy pack config" }): string[] {
  const entry = packConfig["monthly-budget"];
  if (entry === "disabled" || (isRecord(entry) && entry.enforcementLevel === "disabled"))
    return [`monthly-budget is disabled in ${files.pack}; the budget is a mandatory guardrail: enable it with monthlyUsd ${stackBudget.monthlyUsd} and spotDiscount ${stackBudget.spotDiscount} (llm-platform:budget in ${files.stack})`];
  const pack = isRecord(entry) ? entry : {};
  const out: string[] = [];
  for (const k of ["monthlyUsd", "spotDiscount"] as const)
    if (pack[k] !== stackBudget[k])
      out.push(
        `monthly-budget.${k} is ${pack[k] === undefined ? "unset" : JSON.stringify(pack[k])} in ${files.pack} but llm-platform:budget.${k} is ${stackBudget[k]} in ${files.stack}; ` +
          `they are one budget: set both to the same value`,
      );
  return out;
}

// ---------------------------------------------------------------------------------------------
// allowed-instance-types

export interface InstanceTypesConfig {
  readonly allowedFamilies: readonly string[];
  readonly allowedTypes: readonly string[];
}

function instanceTypeProblem(name: string, c: InstanceTypesConfig): string | undefined {
  const t = INSTANCE_TYPES.get(name);
  if (!t) return `${name} is not in infra/catalog/instances.ts, so it cannot be priced`;
  if (c.allowedTypes.includes(name) || c.allowedFamilies.includes(t.family)) return undefined;
  return `${name} is not allowed here (allowed families: ${c.allowedFamilies.join(", ") || "none"}${c.allowedTypes.length ? `; types: ${c.allowedTypes.join(", ")}` : ""})`;
}

/** Requirement keys that, with operator In, bound what a NodePool may launch. */
const FAMILY_KEY = "karpenter.k8s.aws/instance-family";
const SIZE_KEY = "karpenter.k8s.aws/instance-size";
const TYPE_KEY = "node.kubernetes.io/instance-type";

function nodePoolTypeProblems(props: Record<string, unknown>, c: InstanceTypesConfig): string[] {
  const reqs = arr(get(props, "spec", "template", "spec", "requirements")).filter(isRecord);
  const inValues = (key: string): string[] | undefined => {
    const r = reqs.find((x) => x.key === key && x.operator === "In");
    return r ? strings(r.values) : undefined;
  };
  const families = inValues(FAMILY_KEY);
  const sizes = inValues(SIZE_KEY);
  const names = inValues(TYPE_KEY);
  if (!families && !names) return [`has no "${FAMILY_KEY}" or "${TYPE_KEY}" requirement with operator In, so any instance type may launch`];
  const problems: string[] = [];
  for (const n of names ?? []) {
    const p = instanceTypeProblem(n, c);
    if (p) problems.push(p);
  }
  if (families && !sizes) problems.push(`has no "${SIZE_KEY}" requirement, so sizes outside infra/catalog/instances.ts may launch unpriced`);
  for (const f of families ?? []) {
    const known = [...INSTANCE_TYPES.values()].filter((t) => t.family === f);
    if (known.length === 0) {
      problems.push(`family ${f} is not in infra/catalog/instances.ts, so it cannot be priced`);
      continue;
    }
    for (const s of sizes ?? []) if (!INSTANCE_TYPES.has(`${f}.${s}`)) problems.push(`${f}.${s} is not in infra/catalog/instances.ts, so it cannot be priced`);
    const launchable = known.filter((t) => !sizes || sizes.includes(t.size));
    const familyAllowed = c.allowedFamilies.includes(f) || (launchable.length > 0 && launchable.every((t) => c.allowedTypes.includes(t.name)));
    if (!familyAllowed) problems.push(`family ${f} is not allowed here (allowed families: ${c.allowedFamilies.join(", ") || "none"})`);
  }
  return problems;
}

export const allowedInstanceTypes: ResourceValidationPolicy = {
  name: "allowed-instance-types",
  description: "Node groups, launch templates, instances and Karpenter NodePools use only the instance types or families allowed in this environment, all from the priced catalog.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["cost"],
  configSchema: {
    properties: {
      allowedFamilies: { type: "array", items: { type: "string" }, default: [], description: "Allowed instance families, e.g. g5, m6i." },
      allowedTypes: { type: "array", items: { type: "string" }, default: [], description: "Allowed individual instance types, e.g. p5.4xlarge." },
    },
  },
  validateResource: forTypes(
    (t) => NODE_GROUP_TYPES.includes(t) || isNodePool(t) || t === "aws:ec2/launchTemplate:LaunchTemplate" || t === "aws:ec2/instance:Instance",
    (r, report) => {
      const c = configOf<InstanceTypesConfig>(r.args);
      if (isNodePool(r.type)) {
        const name = str(get(r.props, "metadata", "name")) ?? r.name;
        for (const p of nodePoolTypeProblems(r.props, c)) report(`NodePool ${name}: ${p}.`);
        return;
      }
      if (NODE_GROUP_TYPES.includes(r.type)) {
        const v = nodeGroupView(r.name, r.props);
        if (v.instanceTypes.length === 0) report(`node group ${v.pool} (${r.name}) sets no instanceTypes, so EKS picks its default type; list types from infra/catalog/instances.ts.`);
        for (const t of v.instanceTypes) {
          const p = instanceTypeProblem(t, c);
          if (p) report(`node group ${v.pool} (${r.name}): ${p}; change ${v.pool === "system" ? "cluster.systemNodes" : `gpuPools.${v.pool}`}.instanceTypes.`);
        }
        return;
      }
      const t = str(r.props.instanceType);
      if (t === undefined) return;
      const p = instanceTypeProblem(t, c);
      if (p) report(`${kindOf(r.type)} ${r.name}: ${p}.`);
    },
  ),
};

// ---------------------------------------------------------------------------------------------
// gpu-count-cap

export interface GpuCapConfig {
  readonly maxGpus: number;
}

export const gpuCountCap: StackValidationPolicy = {
  name: "gpu-count-cap",
  description: "The total GPUs the stack may run (node groups at max size plus every NodePool's nvidia.com/gpu limit) stay under the environment's cap.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["cost"],
  configSchema: {
    properties: { maxGpus: { type: "integer", minimum: 0, description: "The cap on GPUs across node groups and NodePools." } },
    required: ["maxGpus"],
  },
  validateStack: (args, report) => {
    const { maxGpus } = configOf<GpuCapConfig>(args);
    const parts: string[] = [];
    let total = 0;
    for (const r of countableNodeGroups(args.resources)) {
      const v = nodeGroupView(r.name, propsOf(r));
      if (!hasGpu(v) && v.catalog.every((t) => t !== undefined)) continue;
      if (v.catalog.some((t) => t === undefined)) {
        report(`node group ${v.pool} has instance types outside infra/catalog/instances.ts (${v.instanceTypes.join(", ")}), so its GPUs cannot be counted.`, r.urn);
        continue;
      }
      const perNode = Math.max(...v.catalog.map((t) => t?.gpu?.count ?? 0));
      const n = (v.maxSize ?? 0) * perNode;
      total += n;
      parts.push(`node group ${v.pool} ${v.maxSize ?? 0} x ${perNode} = ${n}`);
    }
    for (const r of args.resources.filter((x) => isNodePool(x.type))) {
      const p = nodePoolGpus(r.name, propsOf(r));
      if (p.limit === undefined) {
        if (p.mayLaunchGpus) report(`NodePool ${p.name} may launch GPU instances but sets no nvidia.com/gpu limit, so the GPU count is unbounded.`, r.urn);
        continue;
      }
      if (p.limit > 0) parts.push(`NodePool ${p.name} ${p.limit}`);
      total += p.limit;
    }
    if (total > maxGpus)
      report(`the stack may run ${plural(total, "GPU")}, over the cap of ${maxGpus}: ${parts.join(", ")}. Lower gpuPools.<pool>.maxNodes or karpenter.<pool>.limits.gpus.`);
  },
};

// ---------------------------------------------------------------------------------------------
// gpu-spot-or-scale-to-zero

export const gpuSpotOrScaleToZero: ResourceValidationPolicy = {
  name: "gpu-spot-or-scale-to-zero",
  description: "Outside prod, GPU node groups run on spot or scale to zero (minimum size 0). Karpenter NodePools launch nothing at baseline, so they always pass. Disabled in prod's policy config.",
  enforcementLevel: "mandatory",
  severity: "medium",
  tags: ["cost"],
  validateResource: forTypes(NODE_GROUP_TYPES, (r, report) => {
    const v = nodeGroupView(r.name, r.props);
    if (!hasGpu(v) || v.capacityType === "SPOT") return;
    const min = v.minSize ?? 0;
    const desired = v.desiredSize ?? min;
    if (min > 0 || desired > 0)
      report(
        `GPU node group ${v.pool} (${r.name}) is ${v.capacityType} with minSize ${min} and desiredSize ${desired}: outside prod GPU capacity must be SPOT or scale to zero. ` +
          `Set gpuPools.${v.pool}.capacityType: SPOT or gpuPools.${v.pool}.minNodes: 0.`,
      );
  }),
};

// ---------------------------------------------------------------------------------------------
// karpenter-nodepool-limits

const REQUIRED_LIMITS = [
  ["cpu", "limits.cpu"],
  ["memory", "limits.memoryGiB"],
  ["nvidia.com/gpu", "limits.gpus"],
] as const;

export const karpenterNodePoolLimits: ResourceValidationPolicy = {
  name: "karpenter-nodepool-limits",
  description: "Every Karpenter NodePool sets spec.limits for cpu, memory and nvidia.com/gpu (0 for CPU pools), so that it has a hard cap.",
  enforcementLevel: "mandatory",
  severity: "high",
  tags: ["cost"],
  validateResource: forTypes(isNodePool, (r, report) => {
    const name = str(get(r.props, "metadata", "name")) ?? r.name;
    const limits = record(get(r.props, "spec", "limits"));
    const key = nodePoolConfigKey(name);
    for (const [limit, configKey] of REQUIRED_LIMITS) {
      const v = limits[limit];
      if (v === undefined) report(`NodePool ${name}: spec.limits has no ${limit}; ${key ? `set ${key}.${configKey}` : `add spec.limits["${limit}"]`}.`);
      else if (parseQuantity(v) === undefined) report(`NodePool ${name}: spec.limits["${limit}"] is ${JSON.stringify(v)}, not a Kubernetes quantity.`);
    }
  }),
};

// ---------------------------------------------------------------------------------------------
// required-cost-tags

export interface TagsConfig {
  readonly requiredTags: readonly string[];
  readonly expectedTagValues: Readonly<Record<string, string>>;
}

function tagProblems(tags: Record<string, string>, c: TagsConfig): string[] {
  const missing = c.requiredTags.filter((t) => !tags[t]);
  const wrong = Object.entries(c.expectedTagValues)
    .filter(([k, v]) => tags[k] !== undefined && tags[k] !== v)
    .map(([k, v]) => `${k}=${tags[k]} (expected ${v})`);
  return [...(missing.length ? [`missing ${missing.join(", ")}`] : []), ...(wrong.length ? [`wrong ${wrong.join(", ")}`] : [])];
}

const LAUNCHED_RESOURCE_TYPES = ["instance", "volume"] as const;

export const requiredCostTags: ResourceValidationPolicy = {
  name: "required-cost-tags",
  description:
    "Every taggable AWS resource carries the cost-allocation tags (environment, project, cost-center, owner), from the provider's defaultTags or its own tags; so do the instances and volumes that launch templates and Karpenter EC2NodeClasses launch.",
  enforcementLevel: "mandatory",
  severity: "medium",
  tags: ["cost"],
  configSchema: {
    properties: {
      requiredTags: { type: "array", items: { type: "string" }, default: ["environment", "project", "cost-center", "owner"] },
      expectedTagValues: { type: "object", additionalProperties: { type: "string" }, default: {}, description: "Tags whose value is fixed for the stack, e.g. environment." },
    },
  },
  validateResource: (args, report) => {
    const c = configOf<TagsConfig>(args);
    const props = args.props as Record<string, unknown>;
    if (args.type === EC2_NODE_CLASS) {
      const name = str(get(props, "metadata", "name")) ?? args.name;
      const p = tagProblems(stringMap(get(props, "spec", "tags")), c);
      if (p.length) report(`EC2NodeClass ${name}: spec.tags (put on every instance, volume and launch template Karpenter creates) ${p.join("; ")}.`);
      return;
    }
    if (!isTaggable(args.type, props)) return;
    const defaults = providerDefaultTags(args.provider?.props as Record<string, unknown> | undefined);
    const effective = { ...defaults, ...stringMap(props.tags) };
    const p = tagProblems(effective, c);
    if (p.length)
      report(`${kindOf(args.type)} ${args.name}: cost-allocation tags ${p.join("; ")}. Set them in the AWS provider's defaultTags (llm-platform:tags) or on the resource.`);
    if (args.type === "aws:ec2/launchTemplate:LaunchTemplate") {
      // defaultTags tag the template itself, never the instances and volumes it launches.
      const specs = arr(props.tagSpecifications).filter(isRecord);
      const gaps = LAUNCHED_RESOURCE_TYPES.map((rt) => ({ rt, p: tagProblems(stringMap(specs.find((s) => s.resourceType === rt)?.tags), c) })).filter((g) => g.p.length > 0);
      if (gaps.length > 0)
        report(
          `LaunchTemplate ${args.name}: the provider's defaultTags never reach the ${gaps.map((g) => `${g.rt}s`).join(" and ")} it launches, and its tagSpecifications ${gaps
            .map((g) => `for ${g.rt} ${g.p.join(", ")}`)
            .join("; ")}. Add the cost tags to tagSpecifications.`,
        );
    }
  },
};

// ---------------------------------------------------------------------------------------------
// eks-standard-support

export const eksStandardSupport: ResourceValidationPolicy = {
  name: "eks-standard-support",
  description: "EKS clusters use the STANDARD upgrade policy: extended support bills the control plane at 6x ($0.60/h instead of $0.10/h).",
  enforcementLevel: "mandatory",
  severity: "medium",
  tags: ["cost"],
  validateResource: forTypes([EKS_COMPONENT_CLUSTER, AWS_EKS_CLUSTER], (r, report) => {
    const support = str(get(r.props, "upgradePolicy", "supportType"));
    if (support !== "STANDARD")
      report(`${kindOf(r.type)} ${r.name}: upgradePolicy.supportType is ${support ?? "unset (EKS defaults to EXTENDED)"}; set cluster.supportType: STANDARD and upgrade before standard support ends.`);
  }),
};

// ---------------------------------------------------------------------------------------------
// log-retention-bounded

export interface LogRetentionConfig {
  readonly maxRetentionDays: number;
}

const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";

/** EKS clusters that ship control-plane logs, with the log group name EKS writes to. */
function clustersWithLogs(resources: readonly PolicyResource[]): { r: PolicyResource; name: string }[] {
  const children = resources.filter((r) => r.type === AWS_EKS_CLUSTER);
  const clusters = children.length > 0 ? children : resources.filter((r) => r.type === EKS_COMPONENT_CLUSTER);
  return clusters
    .filter((r) => arr(propsOf(r).enabledClusterLogTypes).length > 0)
    .map((r) => ({ r, name: str(propsOf(r).name) ?? r.name }));
}

export const logRetentionBounded: StackValidationPolicy = {
  name: "log-retention-bounded",
  description:
    "Every CloudWatch log group has a retention period no longer than the environment's maximum (unset means never expire), and every EKS cluster that ships control-plane logs has its /aws/eks/<name>/cluster log group in the stack (else EKS creates it with no expiry).",
  enforcementLevel: "mandatory",
  severity: "low",
  tags: ["cost"],
  configSchema: {
    properties: { maxRetentionDays: { type: "integer", minimum: 1, maximum: 3653, default: 3653, description: "Longest retention allowed, in days." } },
  },
  validateStack: (args, report) => {
    const { maxRetentionDays } = configOf<LogRetentionConfig>(args);
    const groups = args.resources.filter((r) => r.type === LOG_GROUP);
    for (const g of groups) {
      const days = num(propsOf(g).retentionInDays);
      const name = str(propsOf(g).name) ?? g.name;
      if (days === undefined || days === 0) report(`LogGroup ${name}: retentionInDays is unset, so logs never expire; set a retention of at most ${maxRetentionDays} days.`, g.urn);
      else if (days > maxRetentionDays) report(`LogGroup ${name}: retentionInDays ${days} is longer than this environment's maximum of ${maxRetentionDays}.`, g.urn);
    }
    const names = new Set(groups.map((g) => str(propsOf(g).name)));
    for (const { r, name } of clustersWithLogs(args.resources)) {
      const expected = `/aws/eks/${name}/cluster`;
      if (!names.has(expected))
        report(`${kindOf(r.type)} ${r.name} ships control-plane logs, but the stack has no log group ${expected}: EKS would create it with no expiry. Create it (with retention) before the cluster.`, r.urn);
    }
  },
};

export const costPolicies = [
  monthlyBudget,
  allowedInstanceTypes,
  gpuCountCap,
  gpuSpotOrScaleToZero,
  karpenterNodePoolLimits,
  requiredCostTags,
  eksStandardSupport,
  logRetentionBounded,
] as const;
