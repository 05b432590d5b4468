/**
 * Crafted resources for the policy tests, shaped like the harness records them, and a runner for
 * one policy at a time (through stacks/plan/policies.ts, never PolicyPack).
 */
import type { Policies } from "@pulumi/policy";
import type { RecordedResource } from "../../stacks/plan/harness";
import { runPolicies, type PolicyVerdict } from "../../stacks/plan/policies";
import { policies } from "../../policies/policies";

export const PREFIX = "urn:pulumi:test::llm-platform::";
export const AWS_PROVIDER_URN = `${PREFIX}pulumi:providers:aws::aws`;
export const COST_TAGS = { environment: "dev", project: "llm-platform", "cost-center": "ml", owner: "team@example.com" };

export interface ResOptions {
  readonly provider?: string;
  readonly parent?: string;
  readonly protect?: boolean;
  readonly retainOnDelete?: boolean;
  readonly dependsOn?: readonly string[];
  readonly custom?: boolean;
  readonly remote?: boolean;
}

export function urnOf(type: string, name: string): string {
  return `${PREFIX}${type}::${name}`;
}

export function res(type: string, name: string, inputs: Record<string, unknown>, o: ResOptions = {}): RecordedResource {
  const custom = o.custom ?? !(type.startsWith("eks:index:") || type.startsWith("llm-platform:"));
  return {
    urn: urnOf(type, name),
    type,
    name,
    ...(o.parent ? { parent: o.parent } : {}),
    custom,
    remote: o.remote ?? type.startsWith("eks:index:"),
    ...(o.provider ? { provider: o.provider } : type.startsWith("aws:") ? { provider: AWS_PROVIDER_URN } : {}),
    inputs,
    secretPaths: [],
    options: {
      protect: o.protect ?? false,
      retainOnDelete: o.retainOnDelete ?? false,
      deleteBeforeReplace: false,
      ignoreChanges: [],
      dependsOn: o.dependsOn ?? [],
    },
  };
}

/** The AWS provider, with defaultTags serialized as the Node.js SDK does (a JSON string). */
export function awsProvider(tags: Record<string, string> = COST_TAGS): RecordedResource {
  return { ...res("pulumi:providers:aws", "aws", { region: "us-east-1", defaultTags: JSON.stringify({ tags }) }), urn: AWS_PROVIDER_URN };
}

export function policyNamed(name: string): Policies[number] {
  const p = policies.find((x) => x.name === name);
  if (!p) throw new Error(`no policy ${name}`);
  return p;
}

/** Runs one policy of the pack on the resources (plus the AWS provider) with its config. */
export async function check(policy: string, resources: readonly RecordedResource[], config: Record<string, unknown> = {}): Promise<PolicyVerdict[]> {
  const withProvider = resources.some((r) => r.type === "pulumi:providers:aws") ? resources : [awsProvider(), ...resources];
  const run = await runPolicies(withProvider, { [policy]: { enforcementLevel: "mandatory", ...config } }, { policies: [policyNamed(policy)] });
  return [...run.verdicts];
}

// --- Kubernetes objects -------------------------------------------------------------------------

export interface PodOptions {
  readonly image?: string;
  readonly container?: Record<string, unknown>;
  readonly pod?: Record<string, unknown>;
  readonly labels?: Record<string, string>;
}

export const SERVING_LABELS = { "app.kubernetes.io/name": "vllm", "app.kubernetes.io/component": "inference", "app.kubernetes.io/part-of": "llm-platform" };

/** A container that passes every container policy. */
export function goodContainer(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "server",
    image: "vllm/vllm-openai:v0.11.0",
    resources: { requests: { cpu: "4", memory: "32Gi", "nvidia.com/gpu": "1" }, limits: { memory: "32Gi", "nvidia.com/gpu": "1" } },
    startupProbe: { httpGet: { path: "/health", port: 8000 }, failureThreshold: 60, periodSeconds: 5 },
    readinessProbe: { httpGet: { path: "/health", port: 8000 } },
    env: [{ name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: "hf", key: "token" } } }],
    ...extra,
  };
}

export function deployment(name: string, o: PodOptions & { namespace?: string; replicas?: number; kind?: "Deployment" | "StatefulSet" } = {}): RecordedResource {
  const labels = o.labels ?? SERVING_LABELS;
  const kind = o.kind ?? "Deployment";
  return res(`kubernetes:apps/v1:${kind}`, name, {
    apiVersion: "apps/v1",
    kind,
    metadata: { name, namespace: o.namespace ?? "inference", labels },
    spec: {
      ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
      selector: { matchLabels: { "app.kubernetes.io/name": labels["app.kubernetes.io/name"] ?? name } },
      template: {
        metadata: { labels },
        spec: {
          containers: [goodContainer({ ...(o.image ? { image: o.image } : {}), ...o.container })],
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } }],
          ...o.pod,
        },
      },
    },
  });
}

export function pdb(name: string, namespace: string, matchLabels: Record<string, string>): RecordedResource {
  return res("kubernetes:policy/v1:PodDisruptionBudget", name, { metadata: { name, namespace }, spec: { maxUnavailable: 1, selector: { matchLabels } } });
}

export function scaledObject(name: string, namespace: string, target: string, minReplicaCount?: number): RecordedResource {
  return res("kubernetes:keda.sh/v1alpha1:ScaledObject", name, {
    metadata: { name, namespace },
    spec: { scaleTargetRef: { name: target }, ...(minReplicaCount !== undefined ? { minReplicaCount } : {}), maxReplicaCount: 4, triggers: [] },
  });
}

export function bucket(name: string, inputs: Record<string, unknown> = {}): RecordedResource {
  return res("aws:s3/bucket:Bucket", name, { bucket: name, ...inputs });
}

export function helmRelease(name: string, values: Record<string, unknown>): RecordedResource {
  return res("kubernetes:helm.sh/v3:Release", name, { name, namespace: "monitoring", chart: "x", version: "1.0.0", values });
}

export function nodePool(name: string, limits: Record<string, unknown>, families = ["g5"], sizes: string[] | null = ["xlarge", "2xlarge"]): RecordedResource {
  return res("kubernetes:karpenter.sh/v1:NodePool", `karpenter-nodepool-${name}`, {
    apiVersion: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: { name },
    spec: {
      limits,
      template: {
        spec: {
          requirements: [
            { key: "karpenter.sh/capacity-type", operator: "In", values: ["spot"] },
            { key: "karpenter.k8s.aws/instance-family", operator: "In", values: families },
            ...(sizes ? [{ key: "karpenter.k8s.aws/instance-size", operator: "In", values: sizes }] : []),
          ],
        },
      },
    },
  });
}

export function managedNodeGroup(pool: string, o: { instanceTypes?: string[]; capacityType?: string; min?: number; max?: number; launchTemplate?: boolean; child?: boolean } = {}): RecordedResource {
  const inputs = {
    nodeGroupName: `c-${pool}`,
    instanceTypes: o.instanceTypes ?? ["g5.2xlarge"],
    capacityType: o.capacityType ?? "SPOT",
    scalingConfig: { minSize: o.min ?? 0, desiredSize: o.min ?? 0, maxSize: o.max ?? 2 },
    labels: { "llm-platform.io/pool": pool },
    ...(o.launchTemplate === false ? {} : { launchTemplate: { id: `lt-${pool}`, version: "1" } }),
  };
  return o.child ? res("aws:eks/nodeGroup:NodeGroup", `c-${pool}-ng`, { ...inputs, tags: {} }) : res("eks:index:ManagedNodeGroup", `nodegroups-${pool}`, inputs);
}
