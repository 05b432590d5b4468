import { describe, expect, it } from "vitest";
import { configCapacityProblems, configDemands, gpuReplicaRequests, allocatable } from "../../infra/capacity";
import { requireInstanceType } from "../../infra/catalog/instances";
import { resourcesFor } from "../../components/model-server";
import { stack, STACKS, type RunResult } from "../support/stacks";
import { buildModel, type ClusterModel } from "./model";
import { gpuIsolationProblems, matchesRequirement, renderedCapacityProblems, renderedDemands, schedulingProblems, scheduledPods, tolerates, unschedulablePods } from "./scheduling";

/** The model of a copy of a recorded run, after `mutate` edits its resources' inputs. */
function mutated(run: RunResult, mutate: (find: (type: string, name: string) => any) => void): ClusterModel {
  const copy = structuredClone<RunResult>(run);
  mutate((type, name) => {
    const r = copy.resources.find((x) => x.type === type && ((x.inputs as any)?.metadata?.name === name || (x.inputs as any)?.name === name || x.name === name));
    if (!r) throw new Error(`no ${type} ${name}`);
    return r.inputs;
  });
  return buildModel(copy);
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const MNG = "eks:index:ManagedNodeGroup";
const NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool";
const SCALED = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const RELEASE = "kubernetes:helm.sh/v3:Release";

describe("node selection semantics", () => {
  const labels = { a: "1", gpu: "a10g", count: "4" };
  it.each([
    [{ key: "gpu", operator: "In", values: ["a10g", "l4"] }, true],
    [{ key: "gpu", operator: "NotIn", values: ["a10g"] }, false],
    [{ key: "missing", operator: "NotIn", values: ["x"] }, true],
    [{ key: "a", operator: "Exists" }, true],
    [{ key: "karpenter.sh/nodepool", operator: "DoesNotExist" }, true],
    [{ key: "count", operator: "Gt", values: ["3"] }, true],
    [{ key: "count", operator: "Gt", values: ["4"] }, false],
    [{ key: "count", operator: "Lt", values: ["5"] }, true],
    [{ key: "gpu", operator: "Gt", values: ["1"] }, false],
  ])("%j -> %s", (req, want) => {
    expect(matchesRequirement(labels, req)).toBe(want);
  });

  it("tolerations: Exists with no key tolerates everything of its effect; Equal needs key and value", () => {
    const taint = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" };
    expect(tolerates([{ operator: "Exists", effect: "NoSchedule" }], taint)).toBe(true);
    expect(tolerates([{ key: "nvidia.com/gpu", operator: "Exists" }], taint)).toBe(true);
    expect(tolerates([{ key: "nvidia.com/gpu", operator: "Equal", value: "false" }], taint)).toBe(false);
    expect(tolerates([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoExecute" }], taint)).toBe(false);
    expect(tolerates(undefined, taint)).toBe(false);
  });
});

describe("capacity arithmetic", () => {
  it("a GPU replica's requests are those components/model-server.ts renders, for every GPU type and TP", () => {
    for (const types of [["g5.xlarge", "g5.2xlarge"], ["g5.2xlarge"], ["p4d.24xlarge"], ["p5.4xlarge"], ["p5.48xlarge"], ["g6e.12xlarge"]]) {
      const t = requireInstanceType(types[0]!);
      for (const tp of [1, 2, 4, 8].filter((n) => n <= t.gpu!.count)) {
        const r = resourcesFor({ instanceTypes: types, capacityType: "SPOT", minNodes: 0, maxNodes: 1, diskSizeGiB: 300, efa: false }, tp).requests;
        const g = gpuReplicaRequests(types, tp);
        expect({ cpu: String(g.cpu), memory: `${g.memoryGiB}Gi`, "nvidia.com/gpu": String(g.gpus) }).toEqual(r);
      }
    }
  });

  it("allocatable is the instance minus kube-reserved, eviction, an OS share and the node daemons", () => {
    const a = allocatable(requireInstanceType("g5.2xlarge"));
    // CPU: 8 - (0.06 + 0.01 + 2 x 0.005 + 4 x 0.0025) - 0.5; memory: 32 x 0.95 - (11 x 110 + 255) MiB - 100 MiB - 1 GiB.
    expect(a.cpu).toBeCloseTo(8 - 0.09 - 0.5, 6);
    expect(a.memoryGiB).toBeCloseTo(32 * 0.95 - 1465 / 1024 - 100 / 1024 - 1, 6);
    expect(a.gpus).toBe(1);
  });
});

describe.each(STACKS)("check 6, schedulability and capacity, in %s", (name) => {
  it("finds nothing to report", async () => {
    const m = buildModel(await stack(name));
    expect(schedulingProblems(m)).toEqual([]);
  });

  it("covers the program's pods and the GPU charts' pods", async () => {
    const m = buildModel(await stack(name));
    const origins = scheduledPods(m).map((p) => p.origin);
    expect(origins).toContain("Deployment safety/safety");
    expect(origins).toContain("chart karpenter: controller Deployment");
    expect(origins).toContain("chart nvidia-device-plugin: device plugin DaemonSet");
    expect(origins).toContain("chart dcgm-exporter: exporter DaemonSet");
  });

  it("reads the same GPU demands from the rendered objects as the config cross-check reads from the config", async () => {
    const run = await stack(name);
    const m = buildModel(run);
    const view = (ds: readonly { gpu: string; replicas: object; requests: object }[]) => ds.map((d) => JSON.stringify({ gpu: d.gpu, replicas: d.replicas, requests: d.requests })).sort();
    expect(view(renderedDemands(m))).toEqual(view(configDemands(run.config)));
    expect(renderedDemands(m)).toHaveLength(configDemands(run.config).length);
    expect(configCapacityProblems(run.config)).toEqual([]);
  });
});

describe("check 6 seeded mutations", () => {
  it("a pod no node source admits (affinity to a pool that does not exist)", async () => {
    const m = mutated(await stack("dev"), (find) => {
      find(DEPLOYMENT, "safety").spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values = ["gpu-xl"];
    });
    expect(unschedulablePods(m)).toEqual([
      "Deployment safety/safety: no node source admits it (node group system: required node affinity; node group g5: required node affinity; NodePool cpu: required node affinity; NodePool gpu-spot: required node affinity)",
    ]);
  });

  it("a pod whose requests fit no node's allocatable resources", async () => {
    const m = mutated(await stack("dev"), (find) => {
      find(DEPLOYMENT, "vllm-gpt-oss-20b").spec.template.spec.containers[0].resources.requests.cpu = "12";
    });
    expect(unschedulablePods(m)).toEqual([
      "Deployment inference/vllm-gpt-oss-20b: no node source admits it (node group system: required node affinity; node group g5: requests 12 CPU, g5.xlarge allocates 3.42; NodePool cpu: required node affinity; NodePool gpu-spot: requests 12 CPU, g5.xlarge allocates 3.42)",
    ]);
  });

  it("a chart pod placed where it cannot go (Karpenter's controller on a GPU pool)", async () => {
    const m = mutated(await stack("dev"), (find) => {
      find(RELEASE, "karpenter").values.nodeSelector["llm-platform.io/pool"] = "g5";
    });
    expect(unschedulablePods(m)).toEqual([
      "chart karpenter: controller Deployment: no node source admits it (node group system: nodeSelector llm-platform.io/pool=g5; node group g5: taint nvidia.com/gpu=true:NoSchedule not tolerated; NodePool cpu: nodeSelector llm-platform.io/pool=g5; NodePool gpu-spot: nodeSelector llm-platform.io/pool=g5)",
    ]);
  });

  it("a GPU pod that does not tolerate the GPU taint", async () => {
    const m = mutated(await stack("dev"), (find) => {
      delete find(DEPLOYMENT, "vllm-gpt-oss-20b").spec.template.spec.tolerations;
    });
    expect(gpuIsolationProblems(m)).toEqual(["Deployment inference/vllm-gpt-oss-20b: requests nvidia.com/gpu but does not tolerate the GPU taint nvidia.com/gpu"]);
  });

  it("a non-GPU pod that may land on GPU nodes", async () => {
    const m = mutated(await stack("dev"), (find) => {
      const spec = find(DEPLOYMENT, "safety").spec.template.spec;
      delete spec.affinity;
      spec.tolerations = [{ operator: "Exists" }];
    });
    expect(gpuIsolationProblems(m)).toEqual([
      "Deployment safety/safety: tolerates the GPU taint but requests no nvidia.com/gpu",
      "Deployment safety/safety: requests no GPU but may land on GPU nodes of node group g5, NodePool gpu-spot",
    ]);
  });

  it("a GPU node group without the GPU taint lets every untolerating pod onto GPU nodes", async () => {
    const m = mutated(await stack("dev"), (find) => {
      delete find(MNG, "gpu-nodegroups-g5").taints;
    });
    const problems = gpuIsolationProblems(m);
    expect(problems[0]).toBe("node group g5: GPU nodes (g5.xlarge, g5.2xlarge) without the taint nvidia.com/gpu=true:NoSchedule");
    expect(problems).toContain("chart kube-prometheus-stack: grafana Deployment: requests no GPU but may land on GPU nodes of node group g5");
  });

  it("replicas.min beyond the node groups at minNodes", async () => {
    const m = mutated(await stack("prod"), (find) => {
      find(MNG, "gpu-nodegroups-p5").scalingConfig.minSize = 3;
    });
    expect(renderedCapacityProblems(m)).toEqual([
      "Deployment inference/vllm-gpt-oss-20b: replicas.min: 2 replicas need 2 H100 GPUs without an autoscaler; node group p5 holds 3 at minNodes, shared with vllm-gpt-oss-120b; only 1 fit beside them — raise gpuPools.p5.minNodes or lower replicas.min",
    ]);
  });

  it("replicas.max with no Karpenter NodePool offering the GPU (prod's 120b before issue 11)", async () => {
    const m = mutated(await stack("prod"), (find) => {
      for (const pool of ["gpu-spot", "gpu-on-demand"]) {
        const req = find(NODEPOOL, pool).spec.template.spec.requirements.find((r: any) => r.key === "node.kubernetes.io/instance-type");
        req.values = req.values.filter((v: string) => !v.startsWith("p5"));
      }
    });
    expect(renderedCapacityProblems(m)).toEqual([
      "Deployment inference/vllm-gpt-oss-120b: node affinity: no Karpenter NodePool offers h100 for burst or replacement capacity beside node group p5 — add p5.4xlarge to karpenter.gpuSpot.instanceTypes",
      "Deployment inference/vllm-gpt-oss-20b: replicas.max: 3 replicas need 3 H100 GPUs; node group p5 holds 4 at minNodes, shared with vllm-gpt-oss-120b and no Karpenter NodePool offers h100 — add p5.4xlarge to karpenter.gpuSpot.instanceTypes or lower replicas.max",
    ]);
  });

  it("replicas.max past the NodePools' limits", async () => {
    const m = mutated(await stack("prod"), (find) => {
      find(SCALED, "vllm-gpt-oss-20b").spec.maxReplicaCount = 30;
    });
    // 20b on H100 (pool p5, shared with 120b): the managed p5 group and the NodePools' limits
    // place only 5 of 30.
    expect(renderedCapacityProblems(m)).toEqual([
      "Deployment inference/vllm-gpt-oss-20b: replicas.max: 30 replicas need 30 H100 GPUs; node group p5 holds 4 at minNodes, shared with vllm-gpt-oss-120b and Karpenter NodePools gpu-spot, gpu-on-demand reach their limits with only 5 placed — raise karpenter.gpuSpot.limits or karpenter.gpuOnDemand.limits or lower replicas.max",
    ]);
  });

  it("a GPU node group kept up that no workload's affinity admits", async () => {
    const m = mutated(await stack("prod"), (find) => {
      find(MNG, "gpu-nodegroups-p4d").scalingConfig.minSize = 1;
    });
    expect(renderedCapacityProblems(m)).toEqual([
      "gpuPools.p4d: minNodes: 1 node of p4d.24xlarge that no model or GPU encoder is placed on: idle money — place a workload on the pool or set minNodes: 0",
    ]);
  });

  it("staging as it was: 120b on a p4d group at 0 nodes, and NodePools that offer only g5", async () => {
    const m = mutated(await stack("staging"), (find) => {
      find(MNG, "gpu-nodegroups-p4d").scalingConfig.minSize = 0;
      const req = find(NODEPOOL, "gpu-spot").spec.template.spec.requirements.find((r: any) => r.key === "node.kubernetes.io/instance-type");
      req.values = req.values.filter((v: string) => v.startsWith("g5"));
    });
    expect(renderedCapacityProblems(m)).toEqual([
      "Deployment inference/vllm-gpt-oss-120b: replicas.min: 1 replica needs 2 A100 GPUs without an autoscaler; node group p4d holds 0 at minNodes; only 0 fit — raise gpuPools.p4d.minNodes or lower replicas.min",
      "Deployment inference/vllm-gpt-oss-120b: replicas.max: 4 replicas need 8 A100 GPUs; node group p4d holds 0 at minNodes and no Karpenter NodePool offers a100 — add p4d.24xlarge to karpenter.gpuSpot.instanceTypes or lower replicas.max",
    ]);
  });
});
