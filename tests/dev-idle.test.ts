/**
 * Dev idle cost (issue 14 section 7): what dev costs with nothing serving, counted honestly.
 *
 * - The baseline counts the Karpenter CPU nodes that CPU workloads' minimum replicas need when
 *   no managed node group admits them (infra/cost.ts `cpuPoolMinReplicaLines`); which workloads
 *   those are must agree with the cluster model's placement (tests/cluster/scheduling.ts).
 * - cluster.systemNodes.capacityType and embeddings.<role>.cpuNodes / cpuResources reach the
 *   rendered node group and TEI Deployments, and bad values are refused naming the key.
 * - dev's committed config: TEI on the system nodes, nothing on Karpenter's CPU pool at idle,
 *   baseline at most $300 a month.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { allocatable } from "../infra/capacity";
import { HOURS_PER_MONTH, requireInstanceType } from "../infra/catalog/instances";
import { cpuPoolMinReplicaLines, estimateCost, parseQuantity } from "../infra/cost";
import { plan } from "../stacks/plan/plan";
import { buildModel } from "./cluster/model";
import { admittingShapes, nodeSources, podRequests } from "./cluster/scheduling";
import { one, planOf, readStackConfig, stack, stackWith, STACKS, type RunResult } from "./support/stacks";
import { problems } from "./support/config";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const MNG = "eks:index:ManagedNodeGroup";
const monthly = (hourly: number) => Math.round(hourly * HOURS_PER_MONTH * 100) / 100;

/** The stack file's config map as parsePlatformConfig takes it. */

/** Dev as it was before issue 14 section 7: TEI on Karpenter's CPU pool at 2 CPU / 4 GiB, system nodes on demand. */
const devBefore = (raw: Record<string, any>) => {
  for (const role of ["embed", "rerank"]) {
    delete raw["llm-platform:embeddings"][role].cpuNodes;
    delete raw["llm-platform:embeddings"][role].cpuResources;
  }
  delete raw["llm-platform:cluster"].systemNodes.capacityType;
};

const costOf = (r: RunResult) => estimateCost(r.resources, { spotDiscount: r.config.budget.spotDiscount });

/**
 * The program's CPU workloads (Deployments and StatefulSets requesting no GPU) that the cluster
 * model admits only to Karpenter NodePools: the reference for what the cost model counts.
 */
function onlyOnNodePools(r: RunResult): string[] {
  const m = buildModel(r);
  const sources = nodeSources(m);
  return m.pods
    .filter((p) => /^(Deployment|StatefulSet) /.test(p.origin) && podRequests(p.spec).gpus === 0)
    .filter((p) => {
      const shapes = admittingShapes(p, sources);
      return shapes.length > 0 && shapes.every((s) => s.source.kind === "nodePool");
    })
    .map((p) => p.origin)
    .sort();
}

/** The workloads a cost line's basis names ("... of Deployment a/b, Deployment c/d packed ..."). */
const counted = (basis: string) => [...basis.matchAll(/(Deployment|StatefulSet) [\w-]+\/[\w.-]+/g)].map((x) => x[0]).sort();

describe("the baseline counts CPU replicas.min on Karpenter's CPU pool", () => {
  it("dev before: TEI embed and rerank at 2 CPU / 4 GiB need 2 x m5.xlarge on demand, which the baseline now counts", async () => {
    const r = await stackWith("dev", devBefore);
    const lines = cpuPoolMinReplicaLines(r.resources, { spotDiscount: r.config.budget.spotDiscount });
    expect(lines).toHaveLength(1);
    const l = lines[0]!;
    // m5.large allocates 1.43 CPU (< 2); m5.xlarge allocates 3.42: one 2-CPU replica each.
    expect(allocatable(requireInstanceType("m5.large")).cpu).toBeLessThan(2);
    expect(allocatable(requireInstanceType("m5.xlarge")).cpu).toBeLessThan(4);
    expect(l.item).toBe("Karpenter NodePool cpu: 2 x m5.xlarge (on-demand) for CPU replicas.min no node group admits");
    expect(l.baselineMonthlyUsd).toBe(monthly(2 * 0.192));
    expect(l.baselineMonthlyUsd).toBe(280.32);
    expect(l.maxMonthlyUsd).toBe(0);
    expect(counted(l.basis)).toEqual(["Deployment embeddings/tei-embed", "Deployment embeddings/tei-rerank"]);
    // The honest idle cost of dev before this change: $431.30 counted + $280.32 hidden.
    expect(costOf(r).baselineMonthlyUsd).toBe(711.62);
  });

  it("counts what the cluster model places only on Karpenter NodePools, in dev before and in every committed stack", async () => {
    const runs: [string, RunResult][] = [["dev before", await stackWith("dev", devBefore)], ...(await Promise.all(STACKS.map(async (s) => [s, await stack(s)] as [string, RunResult])))];
    for (const [name, r] of runs) {
      const fromCost = cpuPoolMinReplicaLines(r.resources, { spotDiscount: r.config.budget.spotDiscount }).flatMap((l) => counted(l.basis)).sort();
      expect(fromCost, name).toEqual(onlyOnNodePools(r));
    }
    expect(onlyOnNodePools(runs[0]![1])).toEqual(["Deployment embeddings/tei-embed", "Deployment embeddings/tei-rerank"]);
  });

  it("packs small replicas together, and a replica at replicas.min 0 costs nothing", async () => {
    const small = await stackWith("dev", (raw) => {
      devBefore(raw);
      for (const role of ["embed", "rerank"]) raw["llm-platform:embeddings"][role].cpuResources = { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "3Gi" } };
    });
    const [l] = cpuPoolMinReplicaLines(small.resources, { spotDiscount: 0.6 });
    // Two 0.5-CPU / 2-GiB replicas fit one m5.large (1.43 CPU, 5.05 GiB allocatable).
    expect(l?.item).toBe("Karpenter NodePool cpu: 1 x m5.large (on-demand) for CPU replicas.min no node group admits");
    expect(l?.baselineMonthlyUsd).toBeCloseTo(monthly(0.096), 2);

    const zero = await stackWith("dev", (raw) => {
      devBefore(raw);
      for (const role of ["embed", "rerank"]) raw["llm-platform:embeddings"][role].replicas = { min: 0, max: 2 };
    });
    expect(cpuPoolMinReplicaLines(zero.resources, { spotDiscount: 0.6 })).toEqual([]);
  });
});

describe("cpuPoolMinReplicaLines on hand-made resources", () => {
  const pool = (capacity: string[], cpuLimit: string) => ({
    type: "kubernetes:karpenter.sh/v1:NodePool",
    name: "np",
    inputs: {
      metadata: { name: "cpu" },
      spec: {
        limits: { cpu: cpuLimit, memory: "64Gi", "nvidia.com/gpu": "0" },
        template: {
          metadata: { labels: { "llm-platform.io/pool": "cpu" } },
          spec: { requirements: [{ key: "karpenter.sh/capacity-type", operator: "In", values: capacity }, { key: "node.kubernetes.io/instance-type", operator: "In", values: ["m5.large", "m5.xlarge"] }] },
        },
      },
    },
  });
  const group = { type: MNG, name: "system", inputs: { instanceTypes: ["t3.xlarge"], labels: { "llm-platform.io/pool": "system" }, scalingConfig: { minSize: 2, desiredSize: 2, maxSize: 3 } } };
  const deployment = (name: string, replicas: number, affinityPools: string[], cpu = "2") => ({
    type: DEPLOYMENT,
    name,
    inputs: {
      metadata: { name, namespace: "ns" },
      spec: {
        replicas,
        template: {
          spec: {
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "llm-platform.io/pool", operator: "In", values: affinityPools }] }] } } },
            containers: [{ name: "c", resources: { requests: { cpu, memory: "1Gi" } } }],
          },
        },
      },
    },
  });

  it("prices a spot-only pool at the discount, skips pods a node group admits, and says what its limits leave pending", () => {
    const resources = [group, pool(["spot"], "8"), deployment("only-cpu", 3, ["cpu"]), deployment("either", 4, ["cpu", "system"])];
    const [l, ...rest] = cpuPoolMinReplicaLines(resources, { spotDiscount: 0.6 });
    expect(rest).toEqual([]);
    // 3 replicas of 2 CPU: one m5.xlarge each (3.42 CPU allocatable); the 8-CPU limit stops at two nodes.
    expect(l!.item).toBe("Karpenter NodePool cpu: 2 x m5.xlarge (spot) for CPU replicas.min no node group admits");
    expect(l!.baselineMonthlyUsd).toBeCloseTo(monthly(2 * 0.192 * 0.4), 2);
    expect(l!.basis).toContain("3 replica(s) of Deployment ns/only-cpu");
    expect(l!.basis).toContain("1 replica(s) do not fit within the pool's limits and stay pending");
    expect(l!.basis).not.toContain("either");
  });

  it("prices a pool that may launch on-demand at on-demand, and counts nothing without such pods", () => {
    expect(cpuPoolMinReplicaLines([group, pool(["spot", "on-demand"], "16"), deployment("only-cpu", 1, ["cpu"], "1")], { spotDiscount: 0.6 })[0]!.baselineMonthlyUsd).toBeCloseTo(monthly(0.096), 2);
    expect(cpuPoolMinReplicaLines([group, pool(["on-demand"], "16"), deployment("either", 2, ["cpu", "system"])], { spotDiscount: 0.6 })).toEqual([]);
  });
});

describe("dev's committed config", () => {
  it("runs TEI on CPU on the system node group only, at its configured requests, with the CPU image", async () => {
    const r = await stack("dev");
    const m = buildModel(r);
    const sources = nodeSources(m);
    for (const role of ["embed", "rerank"] as const) {
      const cfg = r.config.embeddings[role];
      expect(cfg.placement).toBe("cpu");
      expect(cfg.cpuNodes).toBe("system");
      const pod = m.pods.find((p) => p.origin === `Deployment embeddings/tei-${role}`)!;
      expect([...new Set(admittingShapes(pod, sources).map((s) => `${s.source.kind} ${s.source.name}`))]).toEqual(["nodeGroup system"]);
      const tei = pod.spec.containers.find((c: any) => c.name === "tei");
      expect(tei.resources).toEqual({ requests: { ...cfg.cpuResources.requests }, limits: { ...cfg.cpuResources.limits } });
      expect(tei.image).toMatch(/text-embeddings-inference:cpu-/);
    }
    expect(r.config.embeddings.embed.cpuResources.requests).toEqual({ cpu: "250m", memory: "2Gi" });
    expect(r.config.embeddings.rerank.cpuResources.requests).toEqual({ cpu: "250m", memory: "2Gi" });
  });

  it("keeps TEI on Karpenter's CPU pool by default (cpuNodes karpenter), at today's 2 CPU / 4 GiB", async () => {
    const r = await stackWith("dev", devBefore);
    const d = r.resources.find((x) => x.type === DEPLOYMENT && (x.inputs as any).metadata.name === "tei-embed")!.inputs as any;
    expect(d.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: "llm-platform.io/pool", operator: "In", values: ["cpu"] }] },
    ]);
    expect(d.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: "2", memory: "4Gi" }, limits: { cpu: "4", memory: "6Gi" } });
  });

  it("runs its system group on spot; staging and prod on demand", async () => {
    for (const s of STACKS) {
      const g = one(await stack(s), MNG, "gpu-nodegroups-system").inputs;
      expect(g.capacityType, s).toBe(s === "dev" ? "SPOT" : "ON_DEMAND");
    }
  });

  it("costs at most $300 a month at baseline, with no Karpenter CPU node, and the plan's table shows it", () => {
    const p = planOf("dev");
    expect(p.exitCode).toBe(0);
    const lines = p.doc.cost.lines;
    expect(lines.filter((l) => l.item.includes("for CPU replicas.min"))).toEqual([]);
    const system = lines.find((l) => l.item.startsWith("CPU node group system"))!;
    expect(system.item).toBe("CPU node group system (SPOT, 2-3 x t3.xlarge)");
    expect(system.baselineMonthlyUsd).toBe(monthly(2 * 0.1664 * (1 - 0.6)));
    expect(p.doc.cost.baselineMonthlyUsd).toBe(285.54);
    expect(p.doc.cost.baselineMonthlyUsd).toBeLessThanOrEqual(300);
    expect(p.text).toMatch(/CPU node group system \(SPOT, 2-3 x t3\.xlarge\)\s+\$97\.18/);
    expect(p.text).toMatch(/Total\s+\$285\.54/);
  });
});

// ---------------------------------------------------------------------------------------------
// What the system group holds at idle

/**
 * Chart pods that run at idle, with where their requests and replicas are in the release's
 * values (merged over the pinned chart's defaults, ../shared/reference/charts). Chart pods in the
 * cluster model carry no requests, so they are read here. DaemonSets are in the per-node
 * allowance of infra/capacity.ts `allocatable`.
 */
const CHART_IDLE: Readonly<Record<string, readonly { resources: string; replicas?: string }[]>> = {
  karpenter: [{ resources: "controller.resources", replicas: "replicas" }],
  "aws-load-balancer-controller": [{ resources: "resources", replicas: "replicaCount" }],
  jaeger: [{ resources: "jaeger.resources", replicas: "jaeger.replicas" }],
  "external-secrets": [
    { resources: "resources", replicas: "replicaCount" },
    { resources: "webhook.resources", replicas: "webhook.replicaCount" },
    { resources: "certController.resources", replicas: "certController.replicaCount" },
  ],
  keda: [
    { resources: "resources.operator", replicas: "operator.replicaCount" },
    { resources: "resources.metricServer", replicas: "metricsServer.replicaCount" },
    { resources: "resources.webhooks", replicas: "webhooks.replicaCount" },
  ],
  "opentelemetry-collector": [{ resources: "resources", replicas: "replicaCount" }],
  "kube-prometheus-stack": [
    { resources: "prometheus.prometheusSpec.resources", replicas: "prometheus.prometheusSpec.replicas" },
    { resources: "alertmanager.alertmanagerSpec.resources", replicas: "alertmanager.alertmanagerSpec.replicas" },
    { resources: "grafana.resources", replicas: "grafana.replicas" },
    { resources: "prometheusOperator.resources" },
    { resources: "kube-state-metrics.resources" },
  ],
  // Standalone mode (dev): one standalone pod and etcd.
  milvus: [{ resources: "standalone.resources" }, { resources: "etcd.resources", replicas: "etcd.replicaCount" }],
  "litellm-helm": [{ resources: "resources", replicas: "replicaCount" }],
};

/** CoreDNS as the EKS add-on runs it by default: 2 replicas of 100m / 70Mi (its Deployment's requests). */
const COREDNS = { replicas: 2, cpu: 0.1, memoryGiB: 70 / 1024 };

const at = (o: any, dotted: string) => dotted.split(".").reduce((c, k) => c?.[k], o);

/** Requests at idle of every pod the system group admits (program pods at replicas.min, chart pods at their replicas, CoreDNS), and of the transient Jobs pinned there. */
function systemIdle(r: RunResult): { cpu: number; memoryGiB: number; tei: { cpu: number; memoryGiB: number }; jobs: { cpu: number; memoryGiB: number }[] } {
  const m = buildModel(r);
  const sources = nodeSources(m);
  const system = sources.find((s) => s.source.kind === "nodeGroup" && s.source.name === "system")!;
  const onSystem = (p: (typeof m.pods)[number]) => admittingShapes(p, [system]).length > 0;
  let cpu = COREDNS.replicas * COREDNS.cpu;
  let memoryGiB = COREDNS.replicas * COREDNS.memoryGiB;
  const tei = { cpu: 0, memoryGiB: 0 };
  const jobs: { cpu: number; memoryGiB: number }[] = [];
  for (const p of m.pods.filter((x) => !x.release && x.urn)) {
    const req = podRequests(p.spec);
    if (!onSystem(p) || req.gpus > 0) continue;
    if (p.origin.startsWith("Job ")) {
      jobs.push({ cpu: req.cpu, memoryGiB: req.memoryGiB });
      continue;
    }
    if (!/^(Deployment|StatefulSet) /.test(p.origin)) continue;
    const res = r.resources.find((x) => x.urn === p.urn)!;
    const min = cpuPoolMinReplicas(res, r);
    cpu += req.cpu * min;
    memoryGiB += req.memoryGiB * min;
    if (p.origin.startsWith("Deployment embeddings/tei-")) {
      tei.cpu += req.cpu * min;
      tei.memoryGiB += req.memoryGiB * min;
    }
  }
  for (const rel of m.releases) {
    for (const row of CHART_IDLE[rel.chart] ?? []) {
      const requests = at(rel.effective, row.resources)?.requests ?? {};
      const n = row.replicas ? Number(at(rel.effective, row.replicas) ?? 1) : 1;
      cpu += (parseQuantity(requests.cpu) ?? 0) * n;
      memoryGiB += ((parseQuantity(requests.memory) ?? 0) / 1024 ** 3) * n;
    }
  }
  return { cpu, memoryGiB, tei, jobs };
}

/** replicas.min of a rendered workload, as the cost model reads it (ScaledObject, HPA, spec.replicas). */
function cpuPoolMinReplicas(res: RunResult["resources"][number], r: RunResult): number {
  const i = res.inputs as any;
  const target = (type: string) => r.resources.find((x) => x.type === type && (x.inputs as any).metadata?.namespace === i.metadata.namespace && (x.inputs as any).spec?.scaleTargetRef?.name === i.metadata.name)?.inputs as any;
  const so = target("kubernetes:keda.sh/v1alpha1:ScaledObject");
  if (so) return so.spec.minReplicaCount ?? 0;
  const hpa = target("kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
  if (hpa) return hpa.spec.minReplicas ?? 1;
  return i.spec?.replicas ?? 1;
}

describe("dev's system group holds what lands there at idle", () => {
  it("two t3.xlarge allocate more than every pod the system group admits requests at idle, TEI included", async () => {
    const r = await stack("dev");
    const g = r.config.cluster.systemNodes;
    const t = requireInstanceType(g.instanceTypes[0]!);
    const have = { cpu: allocatable(t).cpu * g.desiredSize, memoryGiB: allocatable(t).memoryGiB * g.desiredSize };
    const idle = systemIdle(r);
    expect(idle.tei).toEqual({ cpu: 0.5, memoryGiB: 4 });
    expect(idle.cpu).toBeLessThanOrEqual(have.cpu);
    expect(idle.memoryGiB).toBeLessThanOrEqual(have.memoryGiB);
    // The figures docs/runbooks.md "Dev idle cost" states: 6.19 of 6.84 CPU, 15.4 of 25.3 GiB.
    expect([Number(idle.cpu.toFixed(2)), Number(idle.memoryGiB.toFixed(1))]).toEqual([6.19, 15.4]);
    expect([Number(have.cpu.toFixed(2)), Number(have.memoryGiB.toFixed(1))]).toEqual([6.84, 25.3]);
    // The weight-sync Jobs are pinned to the system group and request 1 CPU each: more than the
    // 0.65 CPU left beside TEI (the runbook says what this means and what would change it).
    expect(idle.jobs.map((j) => j.cpu)).toEqual([1, 1, 1]);
    expect(have.cpu - idle.cpu).toBeLessThan(1);
    expect(have.cpu - (idle.cpu - idle.tei.cpu)).toBeGreaterThanOrEqual(1);
  });

  it("TEI at today's 2 CPU each would not fit beside the rest", async () => {
    const r = await stackWith("dev", (raw) => {
      for (const role of ["embed", "rerank"]) raw["llm-platform:embeddings"][role].cpuResources = { requests: { cpu: "2", memory: "4Gi" }, limits: { cpu: "4", memory: "6Gi" } };
    });
    const t = requireInstanceType("t3.xlarge");
    expect(systemIdle(r).cpu).toBeGreaterThan(allocatable(t).cpu * 2);
  });
});

describe("config checks", () => {
  it.each(["staging", "prod"])("%s refuses system nodes on spot, naming the key and why", (s) => {
    const found = problems(s, (raw) => {
      raw.cluster.systemNodes.capacityType = "SPOT";
    });
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe("cluster.systemNodes.capacityType");
    expect(found[0]!.message).toMatch(/keeps its system nodes ON_DEMAND: one spot reclaim can take every system node at once.*set ON_DEMAND/);
  });

  it("refuses cpuNodes with a GPU placement", () => {
    const found = problems("staging", (raw) => {
      raw.embeddings.embed.cpuNodes = "system";
    });
    expect(found).toEqual([{ path: "embeddings.embed.cpuNodes", message: expect.stringMatching(/applies to placement "cpu" only; placement "g5" is a GPU pool/) }]);
  });

  it("refuses a memory request that cannot hold the model, and a request above its limit", () => {
    const found = problems("dev", (raw) => {
      raw.embeddings.embed.cpuResources = { requests: { cpu: "250m", memory: "1536Mi" }, limits: { cpu: "2", memory: "3Gi" } };
      raw.embeddings.rerank.cpuResources = { requests: { cpu: "4", memory: "1536Mi" }, limits: { cpu: "2", memory: "1Gi" } };
    });
    expect(found.map((p) => p.path).sort()).toEqual(["embeddings.embed.cpuResources.requests.memory", "embeddings.rerank.cpuResources.limits.cpu", "embeddings.rerank.cpuResources.limits.memory"]);
    // bge-large-en-v1.5: 1.25 GiB of weights + 0.5 GiB runtime.
    expect(found.find((p) => p.path === "embeddings.embed.cpuResources.requests.memory")!.message).toMatch(/needs at least 1\.75 GiB .* got 1536Mi/);
  });

  it("the plan exits 2 on staging with spot system nodes, naming the key", async () => {
    const raw = structuredClone(readStackConfig("staging")) as Record<string, any>;
    raw["llm-platform:cluster"].systemNodes.capacityType = "SPOT";
    const r = await plan("staging", { raw, outDir: fs.mkdtempSync(path.join(os.tmpdir(), "llm-plan-dev-idle-")) });
    expect(r.exitCode).toBe(2);
    expect(r.text).toContain("cluster.systemNodes.capacityType");
  });
});
