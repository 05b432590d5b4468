/**
 * Crafted resources for the capacity policies (policies/capacity-slo.ts): a managed GPU node
 * group, a vLLM Deployment placed on it by node affinity, and its KEDA ScaledObject. Used by
 * tests/unit-economics.test.ts, and shaped for tests/policies.test.ts's CASES table.
 */
import type { RecordedResource } from "../../stacks/plan/harness";
import { SLO_ANNOTATIONS } from "../../infra/unit-economics";
import { res } from "./policy-harness";

/** A model's SLO as models.<k>.slo states it. */
export interface Slo {
  readonly ttftP95Ms: number;
  readonly throughputTokensPerSecond?: number;
}

/** The Deployment annotations the program renders from models.<k>.slo (components/model-server.ts). */
export function sloAnnotations(slo: Slo): Record<string, string> {
  return {
    [SLO_ANNOTATIONS.ttftP95Ms]: String(slo.ttftP95Ms),
    ...(slo.throughputTokensPerSecond !== undefined ? { [SLO_ANNOTATIONS.throughputTokensPerSecond]: String(slo.throughputTokensPerSecond) } : {}),
  };
}

/** Copies of resources with one model's SLO annotations replaced (a stack file that says otherwise). */
export function withSlo(resources: readonly RecordedResource[], model: string, slo: Slo): RecordedResource[] {
  return resources.map((r) => {
    const inputs = r.inputs as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } };
    if (r.type !== "kubernetes:apps/v1:Deployment" || inputs.metadata?.labels?.["llm-platform.io/model"] !== model) return r;
    const annotations = Object.fromEntries(Object.entries(inputs.metadata.annotations ?? {}).filter(([k]) => !k.startsWith("llm-platform.io/slo-")));
    return { ...r, inputs: { ...r.inputs, metadata: { ...inputs.metadata, annotations: { ...annotations, ...sloAnnotations(slo) } } } };
  });
}

export interface CapacityCase {
  readonly name: string;
  readonly resources: RecordedResource[];
  readonly config?: Record<string, unknown>;
  readonly violations: RegExp[];
}

/** One model server: `model` on `pool` (instance type, capacity type), TP, min-max replicas. */
export function servedModel(o: { model: string; pool: string; instanceType: string; capacityType?: "ON_DEMAND" | "SPOT"; tp?: number; min: number; max: number; slo?: Slo }): RecordedResource[] {
  const name = `vllm-${o.model}`;
  return [
    res("eks:index:ManagedNodeGroup", `${o.pool}-group`, {
      instanceTypes: [o.instanceType],
      capacityType: o.capacityType ?? "ON_DEMAND",
      labels: { "llm-platform.io/pool": o.pool },
      scalingConfig: { minSize: 1, desiredSize: 1, maxSize: 1 },
    }),
    res("kubernetes:apps/v1:Deployment", `${name}-deployment`, {
      metadata: { name, namespace: "inference", labels: { "llm-platform.io/model": o.model }, ...(o.slo ? { annotations: sloAnnotations(o.slo) } : {}) },
      spec: {
        template: {
          spec: {
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "llm-platform.io/pool", operator: "In", values: [o.pool] }] }] } } },
            containers: [{ name: "vllm", args: ["--model", o.model, "--tensor-parallel-size", String(o.tp ?? 1)] }],
          },
        },
      },
    }),
    res("kubernetes:keda.sh/v1alpha1:ScaledObject", `${name}-scaler`, {
      metadata: { name, namespace: "inference" },
      spec: { scaleTargetRef: { name }, minReplicaCount: o.min, maxReplicaCount: o.max },
    }),
  ];
}

const slo20 = (t20: number): Slo => ({ ttftP95Ms: 150, throughputTokensPerSecond: t20 });
const onH100 = (min: number, max: number, t20: number) => servedModel({ model: "gpt-oss-20b", pool: "p5", instanceType: "p5.4xlarge", min, max, slo: slo20(t20) });

/** 20b on one H100 sustains 9,064.4 x (1 - 33.4/150) = 7,047 tok/s at 150 ms (estimate). */
export const CAPACITY_SLO_CASES: Record<string, CapacityCase[]> = {
  "capacity-slo-at-max": [
    { name: "20b on H100, 2 replicas at max for 10,000 tok/s", resources: onH100(1, 2, 10000), violations: [] },
    { name: "20b on H100, 2 replicas at max for 20,000 tok/s", resources: onH100(1, 2, 20000), violations: [/maximum 2 replica\(s\) x 7,047 tok\/s .*below 20,000 .*raise models\.gpt-oss-20b\.replicas\.max to 3/] },
    {
      name: "20b on A10G at 150 ms: no replica count suffices",
      resources: servedModel({ model: "gpt-oss-20b", pool: "g5", instanceType: "g5.2xlarge", min: 1, max: 12, slo: slo20(500) }),
      violations: [/no replica count suffices on a10g/],
    },
  ],
  "capacity-slo-baseline": [
    { name: "1 replica covers half of 10,000 tok/s", resources: onH100(1, 4, 10000), config: { baselineShare: 0.5 }, violations: [] },
    { name: "1 replica does not cover all of 10,000 tok/s", resources: onH100(1, 4, 10000), config: { baselineShare: 1 }, violations: [/baseline \(100% of the SLO throughput\): 1 replica\(s\) .*raise models\.gpt-oss-20b\.replicas\.min to 2/] },
  ],
  "token-cost-vs-hosted": [
    // $6.88/h over 7,047 tok/s x 100% x 3600 = $0.271 per 1M; at 2 input tokens per output token the reference is $0.25 + 2 x $0.06 = $0.37.
    { name: "20b on H100 at full use against a $0.37 all-in reference", resources: onH100(1, 2, 5000), config: { targetUtilization: 1, inputTokensPerOutputToken: 2 }, violations: [] },
    { name: "20b on H100 at 60% use", resources: onH100(1, 2, 5000), config: { targetUtilization: 0.6, inputTokensPerOutputToken: 1.1 }, violations: [/\$0\.452 per 1M output tokens .*above the hosted reference \$0\.316/] },
  ],
};
