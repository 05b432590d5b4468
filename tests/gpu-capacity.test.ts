import { describe, expect, it } from "vitest";
import { requireInstanceType } from "../infra/catalog/instances";
import { CHARTS } from "../infra/catalog/versions";
import { releaseArgs } from "../components/helm";
import {
  controllerPolicy,
  ec2NodeClass,
  eventPattern,
  INTERRUPTION_EVENTS,
  karpenterValues,
  nodePool,
  queuePolicy,
} from "../components/karpenter";
import { gpuNodeGroupSpec, gpuNodeLabels, launchTemplateArgs, nodeGroupArgs, systemNodeGroupSpec } from "../components/node-groups";
import { DEVICE_PLUGIN_DEFAULT_AFFINITY_TERMS, dcgmExporterValues, devicePluginValues } from "../components/nvidia";
import { HELM_RELEASE_TYPE } from "../stacks/plan/render";
import { get, ofType, one, stack, STACKS, type RunResult } from "./support/stacks";

const MNG = "eks:index:ManagedNodeGroup";
const NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool";
const NODECLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";

function releases(r: RunResult): Map<string, Record<string, any>> {
  return new Map(ofType(r, HELM_RELEASE_TYPE).map((x) => [x.inputs.name as string, x.inputs]));
}

/** Does a label set satisfy a nodeSelectorTerm list (ORed terms of In expressions)? */
function satisfies(labels: Record<string, string>, terms: readonly { key: string; values: readonly string[] }[]): boolean {
  return terms.some((t) => t.values.includes(labels[t.key] ?? "\u0000"));
}

describe("managed node group builders", () => {
  const pool = { instanceTypes: ["g5.xlarge", "g5.2xlarge"], capacityType: "SPOT", minNodes: 0, maxNodes: 3, diskSizeGiB: 200, efa: false } as const;

  it("GPU groups: NVIDIA AMI, GPU taint, pool and GPU labels, min 0 allowed, scaling left to autoscalers", () => {
    const a = nodeGroupArgs(gpuNodeGroupSpec("c", "g5", pool));
    expect(a.amiType).toBe("AL2023_x86_64_NVIDIA");
    expect(a.taints).toEqual([{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }]);
    expect(a.labels).toEqual({ "llm-platform.io/pool": "g5", "llm-platform.io/gpu": "a10g", "nvidia.com/gpu.present": "true" });
    expect(a.scalingConfig).toEqual({ minSize: 0, desiredSize: 0, maxSize: 3 });
    expect(a.ignoreScalingChanges).toBe(true);
    expect(a.capacityType).toBe("SPOT");
    expect(a.nodeGroupName).toBe("c-g5");
  });

  it.each(["ON_DEMAND", "SPOT"] as const)("the system group is CPU, untainted, and takes cluster.systemNodes.capacityType (%s)", (capacityType) => {
    const a = nodeGroupArgs(systemNodeGroupSpec("c", { instanceTypes: ["m6i.xlarge"], capacityType, minSize: 2, desiredSize: 2, maxSize: 3, diskSizeGiB: 50 }));
    expect(a.amiType).toBe("AL2023_x86_64_STANDARD");
    expect(a.capacityType).toBe(capacityType);
    expect(a.taints).toBeUndefined();
  });

  it.each([
    [undefined, undefined, undefined],
    [{ interfaces: 4, securityGroupIds: ["sg-a", "sg-efa"], placementGroup: "pg" }, 4, "pg"],
  ])("launch template: IMDSv2 required, encrypted gp3 root; EFA %#", (efa, interfaces, pg) => {
    const lt = launchTemplateArgs({ name: "c-p4d", diskSizeGiB: 500, tags: { owner: "o" }, ...(efa ? { efa } : {}) });
    expect(get(lt, "tagSpecifications", 0)).toEqual({ resourceType: "instance", tags: { owner: "o", Name: "c-p4d" } });
    expect(lt.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
    expect(get(lt, "blockDeviceMappings", 0)).toMatchObject({ deviceName: "/dev/xvda", ebs: { volumeSize: 500, volumeType: "gp3", encrypted: "true" } });
    const nis = lt.networkInterfaces as any[] | undefined;
    expect(nis?.length).toBe(interfaces);
    if (nis) {
      expect(nis.every((n) => n.interfaceType === "efa")).toBe(true);
      expect(nis.map((n) => n.networkCardIndex)).toEqual([0, 1, 2, 3]);
      expect(nis.map((n) => n.deviceIndex)).toEqual([0, 1, 1, 1]);
    }
    expect(get(lt, "placement", "groupName")).toBe(pg);
  });
});

describe("Karpenter builders", () => {
  it("EventBridge patterns use the detail-type key and upstream's five events", () => {
    expect(INTERRUPTION_EVENTS.map((e) => e.detailType)).toEqual([
      "AWS Health Event",
      "EC2 Spot Instance Interruption Warning",
      "EC2 Instance Rebalance Recommendation",
      "EC2 Instance State-change Notification",
      "EC2 Capacity Reservation Instance Interruption Warning",
    ]);
    expect(JSON.parse(eventPattern(INTERRUPTION_EVENTS[1]))).toEqual({ source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] });
    expect(JSON.parse(eventPattern(INTERRUPTION_EVENTS[0]))).toEqual({ source: ["aws.health"], "detail-type": ["AWS Health Event"] });
  });

  it("the queue accepts EventBridge and denies plain HTTP", () => {
    const p = queuePolicy("arn:q");
    expect(p.Statement[0]).toMatchObject({ Effect: "Allow", Action: "sqs:SendMessage", Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] } });
    expect(p.Statement[1]).toMatchObject({ Effect: "Deny", Action: "sqs:*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });

  const policy = controllerPolicy({ clusterName: "c1", region: "us-east-1", accountId: "123456789012", partition: "aws", nodeRoleArn: "arn:node", queueArn: "arn:q" });

  it("the controller policy never allows every action, and scopes writes to this cluster by tag", () => {
    for (const s of policy.Statement) {
      const actions = ([] as string[]).concat(s.Action);
      expect(actions).not.toContain("*");
      expect(actions.every((a) => !a.endsWith(":*"))).toBe(true);
    }
    const byId = new Map(policy.Statement.map((s) => [s.Sid, s]));
    for (const sid of ["AllowScopedEC2LaunchTemplateAccessActions", "AllowScopedResourceTagging", "AllowScopedDeletion"])
      expect(get(byId.get(sid), "Condition", "StringEquals", "aws:ResourceTag/kubernetes.io/cluster/c1")).toBe("owned");
    expect(get(byId.get("AllowScopedEC2InstanceActionsWithTags"), "Condition", "StringEquals", "aws:RequestTag/eks:eks-cluster-name")).toBe("c1");
    expect(byId.get("AllowPassingInstanceRole")?.Resource).toBe("arn:node");
    expect(byId.get("AllowInterruptionQueueActions")?.Resource).toBe("arn:q");
    expect(byId.get("AllowAPIServerEndpointDiscovery")?.Resource).toBe("arn:aws:eks:us-east-1:123456789012:cluster/c1");
    // Resource "*" only for read-only, region-scoped or list actions.
    const star = policy.Statement.filter((s) => s.Resource === "*").map((s) => s.Sid);
    expect(star).toEqual(["AllowRegionalReadActions", "AllowPricingReadActions", "AllowUnscopedInstanceProfileListAction"]);
  });

  it("the chart values carry the cluster, endpoint and interruption queue, and run on the system group", () => {
    const v = karpenterValues({ clusterName: "c1", clusterEndpoint: "https://x", queueName: "c1" });
    expect(v.settings).toEqual({ clusterName: "c1", clusterEndpoint: "https://x", interruptionQueue: "c1" });
    expect(get(v, "nodeSelector", "llm-platform.io/pool")).toBe("system");
    expect(get(v, "serviceAccount", "name")).toBe("karpenter");
  });

  const cfg = {
    enabled: true,
    instanceTypes: ["g5.xlarge"],
    limits: { cpu: 16, memoryGiB: 64, gpus: 2 },
    weight: 50,
    consolidationPolicy: "WhenEmptyOrUnderutilized",
    consolidateAfter: "5m",
    expireAfter: "168h",
    disruptionBudgetNodes: "10%",
  } as const;

  it.each([
    ["gpu-spot", "spot", true],
    ["gpu-on-demand", "on-demand", true],
    ["cpu", "on-demand", false],
  ] as const)("NodePool %s: limits incl. GPUs, v1 disruption, expireAfter on the template, capacity %s", (kind, capacity, gpu) => {
    const np = nodePool(kind, cfg, "gpu");
    expect(np.spec.limits).toEqual({ cpu: "16", memory: "64Gi", "nvidia.com/gpu": "2" });
    expect(np.spec.disruption).toEqual({ consolidationPolicy: "WhenEmptyOrUnderutilized", consolidateAfter: "5m", budgets: [{ nodes: "10%" }] });
    expect(np.spec.template.spec.expireAfter).toBe("168h");
    expect(np.spec.template.spec.nodeClassRef).toEqual({ group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: "gpu" });
    expect(np.spec.template.spec.requirements).toContainEqual({ key: "karpenter.sh/capacity-type", operator: "In", values: [capacity] });
    expect(np.spec.template.spec.requirements).toContainEqual({ key: "node.kubernetes.io/instance-type", operator: "In", values: ["g5.xlarge"] });
    expect(np.spec.template.spec.requirements.map((q) => q.key)).not.toContain("karpenter.k8s.aws/instance-family");
    expect(np.spec.template.spec.taints ?? []).toEqual(gpu ? [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }] : []);
    expect(np.spec.template.metadata?.labels?.["nvidia.com/gpu.present"]).toBe(gpu ? "true" : undefined);
  });

  it("EC2NodeClass: pinned alias, tag discovery, encrypted gp3, IMDSv2, cost tags", () => {
    const nc = ec2NodeClass({ name: "gpu", clusterName: "c1", amiAlias: "al2023@v20260724", nodeRoleName: "KarpenterNodeRole-c1", diskSizeGiB: 300, tags: { owner: "o" } });
    expect(nc.spec?.amiSelectorTerms).toEqual([{ alias: "al2023@v20260724" }]);
    expect(nc.spec?.subnetSelectorTerms).toEqual([{ tags: { "karpenter.sh/discovery": "c1" } }]);
    expect(nc.spec?.securityGroupSelectorTerms).toEqual([{ tags: { "karpenter.sh/discovery": "c1" } }]);
    expect(nc.spec?.metadataOptions).toMatchObject({ httpTokens: "required" });
    expect(nc.spec?.blockDeviceMappings?.[0]?.ebs).toMatchObject({ volumeSize: "300Gi", volumeType: "gp3", encrypted: true });
    expect(nc.spec?.role).toBe("KarpenterNodeRole-c1");
    expect(nc.spec?.tags).toMatchObject({ owner: "o", "karpenter.sh/discovery": "c1" });
  });
});

describe("NVIDIA runtime", () => {
  it("the device plugin's default affinity matches the labels of our GPU nodes, managed and Karpenter", () => {
    const pool = { instanceTypes: ["p5.4xlarge"], capacityType: "ON_DEMAND", minNodes: 1, maxNodes: 2, diskSizeGiB: 500, efa: false } as const;
    expect(satisfies(gpuNodeLabels("p5", pool), DEVICE_PLUGIN_DEFAULT_AFFINITY_TERMS)).toBe(true);
    const np = nodePool("gpu-spot", { enabled: true, instanceTypes: ["g5.xlarge"], limits: { cpu: 4, memoryGiB: 16, gpus: 1 }, weight: 1, consolidationPolicy: "WhenEmpty", consolidateAfter: "1m", expireAfter: "720h", disruptionBudgetNodes: "1" }, "gpu");
    expect(satisfies(np.spec.template.metadata!.labels!, DEVICE_PLUGIN_DEFAULT_AFFINITY_TERMS)).toBe(true);
    // A CPU node would not get the plugin.
    expect(satisfies({ "llm-platform.io/pool": "system" }, DEVICE_PLUGIN_DEFAULT_AFFINITY_TERMS)).toBe(false);
    // And we keep that default: no override of the chart's affinity.
    expect(devicePluginValues()).not.toHaveProperty("affinity");
  });

  it("DCGM runs on GPU nodes only, tolerates the GPU taint, and ships a ServiceMonitor", () => {
    const v = dcgmExporterValues();
    expect(v.serviceMonitor).toMatchObject({ enabled: true });
    expect(v.nodeSelector).toEqual({ "nvidia.com/gpu.present": "true" });
    expect(v.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
  });

  it("charts come from the versions catalog, OCI or repository", () => {
    expect(releaseArgs({ name: "karpenter", namespace: "kube-system", pin: CHARTS.karpenter, values: {} })).toMatchObject({ chart: "oci://public.ecr.aws/karpenter/karpenter", version: "1.14.1" });
    const dp = releaseArgs({ name: "nvidia-device-plugin", namespace: "nvidia", pin: CHARTS.nvidiaDevicePlugin, values: {} });
    expect(dp).toMatchObject({ chart: "nvidia-device-plugin", version: "0.20.0", repositoryOpts: { repo: "https://nvidia.github.io/k8s-device-plugin" }, atomic: true });
  });
});

describe.each(STACKS)("GPU capacity in %s", (name) => {
  it("has the system group and one GPU group per pool, with the right types, taints, labels and AMI", async () => {
    const r = await stack(name);
    const groups = ofType(r, MNG);
    const pools = r.config.gpuPools;
    expect(groups.map((g) => g.inputs.labels["llm-platform.io/pool"]).sort()).toEqual(["system", ...Object.keys(pools)].sort());
    for (const [pool, p] of Object.entries(pools)) {
      const g = groups.find((x) => x.inputs.labels["llm-platform.io/pool"] === pool)!;
      expect(g.inputs.instanceTypes).toEqual(p.instanceTypes);
      expect(g.inputs.amiType).toBe("AL2023_x86_64_NVIDIA");
      expect(g.inputs.capacityType).toBe(p.capacityType);
      expect(g.inputs.taints).toEqual([{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }]);
      expect(g.inputs.scalingConfig).toEqual({ minSize: p.minNodes, desiredSize: p.minNodes, maxSize: p.maxNodes });
      expect(g.inputs.ignoreScalingChanges).toBe(true);
      expect(g.inputs.launchTemplate.id).toBe(`gpu-nodegroups-${pool}-id`);
    }
    const system = groups.find((x) => x.inputs.labels["llm-platform.io/pool"] === "system")!;
    // cluster.systemNodes.capacityType: dev runs its system nodes on spot, staging and prod on demand.
    expect(system.inputs.capacityType).toBe(r.config.cluster.systemNodes.capacityType);
    expect(system.inputs.capacityType).toBe(name === "dev" ? "SPOT" : "ON_DEMAND");
  });

  it("launches every group from an IMDSv2 launch template with an encrypted gp3 root", async () => {
    const r = await stack(name);
    const lts = ofType(r, "aws:ec2/launchTemplate:LaunchTemplate");
    expect(lts).toHaveLength(Object.keys(r.config.gpuPools).length + 1);
    for (const lt of lts) {
      expect(lt.inputs.metadataOptions.httpTokens).toBe("required");
      expect(lt.inputs.blockDeviceMappings[0].ebs).toMatchObject({ volumeType: "gp3", encrypted: "true" });
    }
  });

  it("keeps non-prod GPU capacity on spot or able to scale to zero", async () => {
    const r = await stack(name);
    if (r.config.environment === "prod") return;
    for (const g of ofType(r, MNG).filter((x) => x.inputs.amiType === "AL2023_x86_64_NVIDIA"))
      expect(g.inputs.capacityType === "SPOT" || g.inputs.scalingConfig.minSize === 0).toBe(true);
    for (const np of ofType(r, NODEPOOL).filter((x) => x.inputs.spec.template.spec.taints)) {
      const capacity = np.inputs.spec.template.spec.requirements.find((q: any) => q.key === "karpenter.sh/capacity-type").values;
      expect(capacity.includes("spot") || np.inputs.metadata.name === "gpu-on-demand").toBe(true);
    }
  });

  it("every NodePool has cpu, memory and GPU limits and a valid v1 disruption block", async () => {
    const r = await stack(name);
    const pools = ofType(r, NODEPOOL);
    const expected = [r.config.karpenter.gpuSpot.enabled && "gpu-spot", r.config.karpenter.gpuOnDemand.enabled && "gpu-on-demand", "cpu"].filter(Boolean);
    expect(pools.map((p) => p.inputs.metadata.name).sort()).toEqual([...expected].sort());
    for (const p of pools) {
      expect(Object.keys(p.inputs.spec.limits).sort()).toEqual(["cpu", "memory", "nvidia.com/gpu"]);
      expect(["WhenEmpty", "WhenEmptyOrUnderutilized"]).toContain(p.inputs.spec.disruption.consolidationPolicy);
      expect(p.inputs.spec.disruption.consolidateAfter).toMatch(/^(([0-9]+(s|m|h))+|Never)$/);
      expect(p.inputs.spec.disruption.budgets.length).toBeGreaterThan(0);
      expect(p.inputs.spec.template.spec.expireAfter).toBeDefined();
    }
    const spot = pools.find((p) => p.inputs.metadata.name === "gpu-spot")!;
    const onDemand = pools.find((p) => p.inputs.metadata.name === "gpu-on-demand");
    if (onDemand) expect(onDemand.inputs.spec.weight).toBeLessThan(spot.inputs.spec.weight);
  });

  it("each NodePool launches exactly its configured instance types, and the GPU pools offer every GPU a workload is placed on", async () => {
    const r = await stack(name);
    const keys = { "gpu-spot": "gpuSpot", "gpu-on-demand": "gpuOnDemand", cpu: "cpu" } as const;
    for (const p of ofType(r, NODEPOOL)) {
      const cfg = r.config.karpenter[keys[p.inputs.metadata.name as keyof typeof keys]];
      const reqs = p.inputs.spec.template.spec.requirements;
      expect(reqs.find((q: any) => q.key === "node.kubernetes.io/instance-type")).toEqual({ key: "node.kubernetes.io/instance-type", operator: "In", values: cfg.instanceTypes });
    }
    const offered = new Set(
      ofType(r, NODEPOOL)
        .filter((p) => p.inputs.metadata.name !== "cpu")
        .flatMap((p) => p.inputs.spec.template.spec.requirements.find((q: any) => q.key === "node.kubernetes.io/instance-type").values as string[])
        .map((n) => requireInstanceType(n).gpu!.model),
    );
    const placed = [...Object.values(r.config.models).map((m) => m.pool), ...Object.values(r.config.embeddings).filter((e) => e.enabled && e.placement !== "cpu").map((e) => e.placement)];
    for (const pool of placed) expect(offered).toContain(requireInstanceType(r.config.gpuPools[pool]!.instanceTypes[0]!).gpu!.model);
  });

  it("EC2NodeClasses use the env's AMI alias, pinned in prod", async () => {
    const r = await stack(name);
    const classes = ofType(r, NODECLASS);
    expect(classes.map((c) => c.inputs.metadata.name).sort()).toEqual(["default", "gpu"]);
    for (const c of classes) expect(c.inputs.spec.amiSelectorTerms).toEqual([{ alias: r.config.karpenter.amiAlias }]);
    if (name === "prod") expect(r.config.karpenter.amiAlias).not.toMatch(/@latest$/);
  });

  it("the interruption queue's name reaches the Karpenter Helm values, and five rules feed the queue", async () => {
    const r = await stack(name);
    const q = one(r, "aws:sqs/queue:Queue");
    expect(q.inputs).toMatchObject({ name: `llm-platform-${name}`, sqsManagedSseEnabled: true, messageRetentionSeconds: 300 });
    const karpenter = releases(r).get("karpenter")!;
    expect(karpenter.values.settings.interruptionQueue).toBe(q.inputs.name);
    expect(karpenter.values.settings.clusterName).toBe(r.config.cluster.name);
    expect(karpenter).toMatchObject({ chart: "oci://public.ecr.aws/karpenter/karpenter", version: CHARTS.karpenter.version, namespace: "kube-system", skipCrds: true });
    const rules = ofType(r, "aws:cloudwatch/eventRule:EventRule");
    expect(rules.map((x) => JSON.parse(x.inputs.eventPattern)["detail-type"][0]).sort()).toEqual(INTERRUPTION_EVENTS.map((e) => e.detailType).sort());
    const targets = ofType(r, "aws:cloudwatch/eventTarget:EventTarget");
    expect(targets).toHaveLength(5);
    const policy = JSON.parse(one(r, "aws:sqs/queuePolicy:QueuePolicy").inputs.policy);
    expect(policy.Statement.some((s: any) => s.Effect === "Deny" && s.Condition.Bool["aws:SecureTransport"] === "false")).toBe(true);
  });

  it("binds the controller through Pod Identity and lets Karpenter nodes join through an EC2_LINUX access entry", async () => {
    const r = await stack(name);
    const pia = ofType(r, "aws:eks/podIdentityAssociation:PodIdentityAssociation").find((x) => x.inputs.serviceAccount === "karpenter")!;
    expect(pia.inputs).toMatchObject({ namespace: "kube-system", clusterName: r.config.cluster.name });
    const entry = one(r, "aws:eks/accessEntry:AccessEntry");
    expect(entry.inputs.type).toBe("EC2_LINUX");
    const tag = one(r, "aws:ec2/tag:Tag");
    expect(tag.inputs).toMatchObject({ key: "karpenter.sh/discovery", value: r.config.cluster.name, resourceId: "sg-0mockeksmanaged" });
    const policy = JSON.parse(ofType(r, "aws:iam/rolePolicy:RolePolicy").find((x) => x.name === "gpu-karpenter-controller")!.inputs.policy);
    expect(policy.Statement.find((s: any) => s.Sid === "AllowInterruptionQueueActions").Resource).toMatch(/:sqs:us-east-1:123456789012:/);
  });

  it("installs the device plugin and DCGM from pinned charts, after the monitoring CRDs", async () => {
    const r = await stack(name);
    const rel = releases(r);
    expect(rel.get("nvidia-device-plugin")).toMatchObject({ version: CHARTS.nvidiaDevicePlugin.version, namespace: "nvidia" });
    expect(rel.get("dcgm-exporter")).toMatchObject({ version: CHARTS.dcgmExporter.version, namespace: "nvidia" });
    expect(rel.get("prometheus-operator-crds")).toMatchObject({ version: CHARTS.prometheusOperatorCrds.version });
    const dcgm = ofType(r, HELM_RELEASE_TYPE).find((x) => x.inputs.name === "dcgm-exporter")!;
    const crds = ofType(r, HELM_RELEASE_TYPE).find((x) => x.inputs.name === "prometheus-operator-crds")!;
    expect(dcgm.options.dependsOn).toContain(crds.urn);
    expect(rel.has("aws-efa-k8s-device-plugin")).toBe(Object.values(r.config.gpuPools).some((p) => p.efa));
  });
});

describe("EFA in prod", () => {
  it("the p4d pool gets 4 EFA interfaces, a cluster placement group and one subnet", async () => {
    const r = await stack("prod");
    const lt = ofType(r, "aws:ec2/launchTemplate:LaunchTemplate").find((x) => x.name === "gpu-nodegroups-p4d")!;
    expect(lt.inputs.networkInterfaces).toHaveLength(4);
    expect(lt.inputs.networkInterfaces.every((n: any) => n.interfaceType === "efa")).toBe(true);
    expect(lt.inputs.placement.groupName).toBe("llm-platform-prod-p4d");
    expect(one(r, "aws:ec2/placementGroup:PlacementGroup").inputs.strategy).toBe("cluster");
    expect(ofType(r, MNG).find((x) => x.name === "gpu-nodegroups-p4d")!.inputs.subnetIds).toHaveLength(1);
  });
});
