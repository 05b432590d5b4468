/**
 * Runs the CrossGuard policies in-process on a recorded run: the offline plan and the tests use
 * it instead of `PolicyPack`, which would start a gRPC server.
 *
 * It does what the Pulumi CLI's analyzer host does with a pack:
 * - reads the pack config (policies/config/<stack>.json): `all` and per-policy enforcement
 *   levels, per-policy settings, schema defaults applied, validated against each policy's
 *   configSchema (stricter than the CLI: unknown policies and keys are errors);
 * - builds ResourceValidationArgs for each registered resource (inputs as props, options, the
 *   provider resource with its inputs) and StackValidationArgs for the stack (parents and
 *   dependencies resolved), then calls validateResource / validateStack;
 * - collects every violation with its policy, enforcement level and resource.
 *
 * Differences from the CLI, by construction: props are the inputs the program registered
 * (secrets redacted to "[secret]"), also for the stack policies, which the CLI runs on outputs;
 * `opts.retainOnDelete` is passed (the CLI does not pass it); remote components' children do
 * not exist here (see `policyBlindSpots`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type {
  EnforcementLevel,
  Policies,
  PolicyConfigSchema,
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import Ajv from "ajv";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, policies as packPolicies } from "../../policies/policies";
import type { RecordedResource } from "./harness";
import { HELM_RELEASE_TYPE } from "./resource-types";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const POLICY_CONFIG_DIR = path.join(REPO_ROOT, "policies", "config");

export interface PolicyVerdict {
  readonly policy: string;
  readonly enforcementLevel: "mandatory" | "advisory";
  readonly message: string;
  /** The resource in violation; absent for a verdict on the whole stack. */
  readonly resource?: { readonly urn: string; readonly name: string; readonly type: string };
}

export interface PolicyRun {
  readonly pack: string;
  /** The config file read, relative to the repository root (absent when the caller passed config). */
  readonly configFile?: string;
  /** Policies that ran, with their effective enforcement level. */
  readonly policies: readonly { readonly name: string; readonly enforcementLevel: EnforcementLevel }[];
  readonly verdicts: readonly PolicyVerdict[];
  /** notApplicable() calls: (policy, resource, reason). */
  readonly notApplicable: readonly { readonly policy: string; readonly resource?: string; readonly reason: string }[];
  /** Checks the offline plan cannot make because remote components hide their children. */
  readonly blindSpots: readonly string[];
}

/** The pack config file format: `{ "all": level, "<policy>": level | { enforcementLevel?, ...config } }`. */
export type PolicyPackConfig = Record<string, unknown>;

export class PolicyConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid policy pack config ${file} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}\nSee docs/policies.md.`);
    this.name = "PolicyConfigError";
  }
}

export function policyConfigFile(stack: string): string {
  return path.join(POLICY_CONFIG_DIR, `${stack}.json`);
}

/** Reads policies/config/<stack>.json. */
export function readPolicyConfig(stack: string): PolicyPackConfig {
  const file = policyConfigFile(stack);
  const rel = path.relative(REPO_ROOT, file);
  if (!fs.existsSync(file)) throw new PolicyConfigError(rel, [`no policy config for stack "${stack}": create ${rel} (copy another stack's and set its budget and limits)`]);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PolicyPackConfig;
  } catch (e) {
    throw new PolicyConfigError(rel, [`not valid JSON: ${(e as Error).message}`]);
  }
}

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

interface Resolved {
  readonly level: EnforcementLevel;
  readonly config: Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Each policy's effective enforcement level and config, as the CLI would configure the pack. */
export function resolvePolicyConfig(config: PolicyPackConfig, policies: Policies, file = "(policy config)"): Map<string, Resolved> {
  const problems: string[] = [];
  const names = new Set(policies.map((p) => p.name));
  for (const key of Object.keys(config)) if (key !== "all" && !names.has(key)) problems.push(`${key}: no such policy in ${PACK_NAME}`);

  const levelOf = (key: string, v: unknown): EnforcementLevel | undefined => {
    const l = isObject(v) ? v.enforcementLevel : v;
    if (l === undefined) return undefined;
    if (typeof l === "string" && (LEVELS as readonly string[]).includes(l)) return l as EnforcementLevel;
    problems.push(`${key}: enforcementLevel must be one of ${LEVELS.join(", ")}, got ${JSON.stringify(l)}`);
    return undefined;
  };
  const all = config.all;
  if (isObject(all) && Object.keys(all).some((k) => k !== "enforcementLevel")) problems.push("all: only enforcementLevel can be set for all policies");
  const allLevel = all === undefined ? undefined : levelOf("all", all);

  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
  const out = new Map<string, Resolved>();
  for (const p of policies) {
    const raw = config[p.name];
    if (raw !== undefined && !isObject(raw) && typeof raw !== "string") {
      problems.push(`${p.name}: expected an enforcement level or an object, got ${JSON.stringify(raw)}`);
      continue;
    }
    const level = levelOf(p.name, raw) ?? allLevel ?? p.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL;
    const { enforcementLevel: _ignored, ...settings } = isObject(raw) ? raw : {};
    const schema: PolicyConfigSchema = p.configSchema ?? { properties: {} };
    const validate = ajv.compile({ type: "object", properties: schema.properties, required: schema.required ?? [], additionalProperties: false });
    const cfg = structuredClone(settings);
    if (!validate(cfg))
      for (const e of validate.errors ?? [])
        problems.push(`${p.name}${e.instancePath ? e.instancePath.replace(/\//g, ".") : ""}: ${e.message ?? "invalid"}${e.keyword === "additionalProperties" ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ""}`);
    out.set(p.name, { level, config: cfg });
  }
  if (problems.length > 0) throw new PolicyConfigError(file, problems);
  return out;
}

class NotApplicable extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function typeOfClass(cls: unknown): string | undefined {
  const c = cls as { __pulumiType?: unknown; isInstance?: (o: unknown) => boolean };
  return typeof c.__pulumiType === "string" ? c.__pulumiType : undefined;
}

function isTypeOf(type: string, cls: unknown): boolean {
  const t = typeOfClass(cls);
  if (t) return t === type;
  const isInstance = (cls as { isInstance?: (o: unknown) => boolean }).isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function optionsOf(r: RecordedResource): PolicyResourceOptions & { retainOnDelete: boolean } {
  return {
    protect: r.options.protect,
    retainOnDelete: r.options.retainOnDelete,
    ignoreChanges: [...r.options.ignoreChanges],
    deleteBeforeReplace: r.options.deleteBeforeReplace,
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(r.parent ? { parent: r.parent } : {}),
  };
}

const isResourcePolicy = (p: Policies[number]): p is ResourceValidationPolicy => !("validateStack" in p);
const isStackPolicy = (p: Policies[number]): p is StackValidationPolicy => "validateStack" in p;

/**
 * Runs `policies` (the pack's by default) on the recorded resources with the given pack config.
 * Throws PolicyConfigError on invalid config.
 */
export async function runPolicies(
  resources: readonly RecordedResource[],
  config: PolicyPackConfig,
  opts: { policies?: Policies; configFile?: string } = {},
): Promise<PolicyRun> {
  const policies = opts.policies ?? packPolicies;
  const resolved = resolvePolicyConfig(config, policies, opts.configFile);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const verdicts: PolicyVerdict[] = [];
  const notApplicable: { policy: string; resource?: string; reason: string }[] = [];
  const stackTags: ReadonlyMap<string, string> = new Map();

  const providerOf = (r: RecordedResource): PolicyProviderResource | undefined => {
    const p = r.provider ? byUrn.get(r.provider) : undefined;
    return p ? { type: p.type, name: p.name, urn: p.urn, props: p.inputs } : undefined;
  };
  const subject = (r: RecordedResource | undefined) => (r ? { resource: { urn: r.urn, name: r.name, type: r.type } } : {});

  // The stack's resources as PolicyResource, parents and dependencies linked.
  const policyResources = new Map<string, PolicyResource>();
  for (const r of resources) {
    const provider = providerOf(r);
    policyResources.set(r.urn, {
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: r.inputs,
      opts: optionsOf(r),
      ...(provider ? { provider } : {}),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls),
      asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? r.inputs : undefined)) as PolicyResource["asType"],
    });
  }
  for (const r of resources) {
    const pr = policyResources.get(r.urn)!;
    const parent = r.parent ? policyResources.get(r.parent) : undefined;
    if (parent) pr.parent = parent;
    pr.dependencies = r.options.dependsOn.map((u) => policyResources.get(u)).filter((x): x is PolicyResource => x !== undefined);
  }
  const stackResources = [...policyResources.values()];

  const ran: { name: string; enforcementLevel: EnforcementLevel }[] = [];
  for (const p of policies) {
    const { level, config: policyConfig } = resolved.get(p.name)!;
    if (level === "disabled") continue;
    ran.push({ name: p.name, enforcementLevel: level });
    const reportLevel: PolicyVerdict["enforcementLevel"] = level === "advisory" ? "advisory" : "mandatory";
    const getConfig = <T extends object>(): T => structuredClone(policyConfig) as T;
    const notApplicableFn = (reason?: string): never => {
      throw new NotApplicable(reason ?? "Policy does not apply");
    };
    const handle = (e: unknown, r?: RecordedResource) => {
      if (e instanceof NotApplicable) notApplicable.push({ policy: p.name, ...(r ? { resource: r.name } : {}), reason: e.reason });
      else throw new Error(`policy ${p.name} failed${r ? ` on ${r.type} ${r.name}` : ""}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    };

    if (isResourcePolicy(p)) {
      const validations = p.validateResource === undefined ? [] : Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
      for (const r of resources) {
        if (r.type === "pulumi:pulumi:Stack") continue;
        const provider = providerOf(r);
        const args: ResourceValidationArgs = {
          type: r.type,
          props: r.inputs,
          urn: r.urn,
          name: r.name,
          opts: optionsOf(r),
          ...(provider ? { provider } : {}),
          stackTags,
          isType: (cls) => isTypeOf(r.type, cls),
          asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? r.inputs : undefined)) as ResourceValidationArgs["asType"],
          getConfig,
          notApplicable: notApplicableFn,
        };
        for (const validate of validations) {
          try {
            await validate(args, (message) => verdicts.push({ policy: p.name, enforcementLevel: reportLevel, message, ...subject(r) }));
          } catch (e) {
            handle(e, r);
          }
        }
      }
    } else if (isStackPolicy(p)) {
      const args: StackValidationArgs = { resources: stackResources, stackTags, getConfig, notApplicable: notApplicableFn };
      try {
        await p.validateStack(args, (message, urn) => verdicts.push({ policy: p.name, enforcementLevel: reportLevel, message, ...subject(urn ? byUrn.get(urn) : undefined) }));
      } catch (e) {
        handle(e);
      }
    }
  }

  return {
    pack: PACK_NAME,
    ...(opts.configFile ? { configFile: opts.configFile } : {}),
    policies: ran,
    verdicts,
    notApplicable,
    blindSpots: policyBlindSpots(resources, new Set(ran.map((r) => r.name))),
  };
}

/** Runs the pack on a stack's recorded resources with policies/config/<stack>.json. */
export function runStackPolicies(stack: string, resources: readonly RecordedResource[]): Promise<PolicyRun> {
  return runPolicies(resources, readPolicyConfig(stack), { configFile: path.relative(REPO_ROOT, policyConfigFile(stack)) });
}

/**
 * What the policies cannot check offline, for the components present: remote components'
 * children do not register on the mock runtime, and Helm charts render in the cluster. Under
 * `pulumi preview --policy-pack policies` the children are visible (Helm charts are not).
 */
const BLIND_SPOTS: readonly { type: string; policy: string; text: string }[] = [
  {
    type: "eks:index:Cluster",
    policy: "required-cost-tags",
    text: "eks.Cluster's children (aws.eks.Cluster, IAM role, security groups, OIDC provider): their tags and the cluster role's policies; endpoint, support tier and log types are read from the component's inputs",
  },
  {
    type: "eks:index:ManagedNodeGroup",
    policy: "required-cost-tags",
    text: "eks.ManagedNodeGroup's aws.eks.NodeGroups: their tags (instance tags are checked on the launch templates); types, sizes, capacity type and launch template are read from the component's inputs",
  },
  {
    type: HELM_RELEASE_TYPE,
    policy: "k8s-images-pinned",
    text: "Helm charts' own workloads render in the cluster: only release values are checked (images, literal secrets), here and under the CLI",
  },
];

export function policyBlindSpots(resources: readonly RecordedResource[], enabled: ReadonlySet<string>): string[] {
  const types = new Set(resources.map((r) => r.type));
  return BLIND_SPOTS.filter((b) => types.has(b.type) && enabled.has(b.policy)).map((b) => b.text);
}
