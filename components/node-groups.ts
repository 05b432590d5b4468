/**
 * NodeGroups: the EKS managed node groups.
 *
 * - A CPU system group for the controllers: Karpenter, CoreDNS, operators (on-demand; spot where
 *   `cluster.systemNodes.capacityType` says so, dev only).
 * - One GPU group per configured pool:
 *   - the AL2023 NVIDIA AMI (driver and container toolkit included; the device plugin is
 *     installed by NvidiaRuntime);
 *   - the taint nvidia.com/gpu=true:NoSchedule;
 *   - labels naming the pool and the GPU model, plus nvidia.com/gpu.present=true, which the
 *     NVIDIA device plugin's default node affinity requires;
 *   - desired size starts at minNodes and is then left to operators (ignoreScalingChanges).
 *     No cluster-autoscaler grows a managed group: the groups hold the baseline that every
 *     replicas.min must fit, and Karpenter provides the burst (infra/capacity.ts).
 * - Every group launches from a launch template that requires IMDSv2 (hop limit 1: pods get AWS
 *   credentials from Pod Identity, never from the node) and has an encrypted gp3 root volume.
 *   EFA pools also get EFA interfaces, a cluster placement group and one subnet.
 * - GPU groups carry the warm start of their family (config `warmStart.families`,
 *   components/warm-start.ts): nodeadm's FastImagePull NodeConfig (SOCI parallel pull) or a data
 *   volume restored from an image snapshot, in the launch template's user data and block devices,
 *   with the root volume's throughput and IOPS from `warmStart.imageVolume`.
 */
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as pulumi from "@pulumi/pulumi";
import { requireInstanceType, type InstanceType } from "../infra/catalog/instances";
import type { GpuPoolConfig, PlatformConfig } from "../infra/config";
import { warmStartFor, type WarmStartConfig, type WarmStartFamilyConfig } from "../infra/config/warm-start";
import { MANAGED_POLICY, serviceTrustPolicy } from "./iam";
import { launchTemplateSnapshotVolume, warmStartUserData, type ImageVolume } from "./warm-start";

export const POOL_LABEL = "llm-platform.io/pool";
export const GPU_LABEL = "llm-platform.io/gpu";
export const GPU_PRESENT_LABEL = "nvidia.com/gpu.present";
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "true" } as const;
export const SYSTEM_POOL = "system";
/** The pool label value of the Karpenter CPU NodePool's nodes (components/karpenter.ts). */
export const CPU_POOL = "cpu";

/**
 * Required node affinity for CPU workloads: the system group or Karpenter's CPU NodePool, never a
 * GPU node (the scheduling check in tests/cluster proves where each lands).
 */
export function cpuNodeAffinity(): { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchExpressions: { key: string; operator: string; values: string[] }[] }[] } } {
  return { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: POOL_LABEL, operator: "In", values: [CPU_POOL, SYSTEM_POOL] }] }] } };
}

export const AMI_TYPE = { gpu: "AL2023_x86_64_NVIDIA", cpu: "AL2023_x86_64_STANDARD" } as const;

/** Root device of the EKS AL2023 AMIs. */
export const ROOT_DEVICE = "/dev/xvda";

export interface NodeGroupsArgs {
  readonly clusterName: string;
  readonly cluster: eks.Cluster;
  readonly systemNodes: PlatformConfig["cluster"]["systemNodes"];
  readonly gpuPools: PlatformConfig["gpuPools"];
  readonly vpcId: pulumi.Input<string>;
  readonly privateSubnetIds: pulumi.Input<string>[];
  /** The EKS-managed cluster security group, which managed node groups attach by default. */
  readonly clusterSecurityGroupId: pulumi.Input<string>;
  readonly tags: Record<string, string>;
  readonly warmStart: WarmStartConfig;
}

export function gpuOf(pool: GpuPoolConfig): InstanceType {
  return requireInstanceType(pool.instanceTypes[0]!);
}

/** Kubernetes labels of a GPU pool's nodes. */
export function gpuNodeLabels(poolName: string, pool: GpuPoolConfig): Record<string, string> {
  return { [POOL_LABEL]: poolName, [GPU_LABEL]: gpuOf(pool).gpu!.model, [GPU_PRESENT_LABEL]: "true" };
}

export interface LaunchTemplateSpec {
  readonly name: string;
  readonly diskSizeGiB: number;
  /** Cost-allocation tags: the provider's defaultTags never reach instances EKS launches. */
  readonly tags: Record<string, string>;
  readonly efa?: { readonly interfaces: number; readonly securityGroupIds: pulumi.Input<string>[]; readonly placementGroup: pulumi.Input<string> };
  /** GPU groups: how new nodes get the vLLM image, and the root volume's speed. */
  readonly warmStart?: { readonly family: Readonly<WarmStartFamilyConfig>; readonly imageVolume: ImageVolume };
}

/** A GPU pool's warm start: its family's settings (`warmStart.families.<family>` or the default mode). */
export function poolWarmStart(pool: GpuPoolConfig, ws: WarmStartConfig): NonNullable<LaunchTemplateSpec["warmStart"]> {
  return { family: warmStartFor(ws, pool.instanceTypes[0]!), imageVolume: ws.imageVolume };
}

/** Launch template: IMDSv2 required (hop limit 1), encrypted gp3 root, optional EFA interfaces. */
export function launchTemplateArgs(spec: LaunchTemplateSpec): aws.ec2.LaunchTemplateArgs {
  const ws = spec.warmStart;
  const userData = ws ? warmStartUserData(ws.family.mode) : undefined;
  return {
    name: spec.name,
    description: `EKS managed node group ${spec.name}: IMDSv2, encrypted gp3 root`,
    updateDefaultVersion: true,
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
    blockDeviceMappings: [
      {
        deviceName: ROOT_DEVICE,
        ebs: { volumeSize: spec.diskSizeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true", iops: ws?.imageVolume.iops ?? 3000, throughput: ws?.imageVolume.throughputMiBps ?? 250 },
      },
      ...(ws?.family.mode === "snapshot" ? [launchTemplateSnapshotVolume(ws.family, ws.imageVolume)] : []),
    ],
    // EC2 takes launch template user data base64-encoded.
    ...(userData ? { userData: Buffer.from(userData, "utf8").toString("base64") } : {}),
    ...(spec.efa
      ? {
          // EFA: the first interface is the primary ENI on network card 0, the others device index 1.
          networkInterfaces: Array.from({ length: spec.efa.interfaces }, (_, i) => ({
            deviceIndex: i === 0 ? 0 : 1,
            networkCardIndex: i,
            interfaceType: "efa",
            securityGroups: spec.efa!.securityGroupIds,
            deleteOnTermination: "true",
          })),
          placement: { groupName: spec.efa.placementGroup },
        }
      : {}),
    tagSpecifications: [
      { resourceType: "instance", tags: { ...spec.tags, Name: spec.name } },
      { resourceType: "volume", tags: { ...spec.tags, Name: spec.name } },
      { resourceType: "network-interface", tags: { ...spec.tags, Name: spec.name } },
    ],
  };
}

export interface NodeGroupSpec {
  readonly name: string;
  readonly instanceTypes: readonly string[];
  readonly capacityType: "ON_DEMAND" | "SPOT";
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
  readonly amiType: string;
  readonly labels: Record<string, string>;
  readonly gpu: boolean;
}

/** eks.ManagedNodeGroup arguments, minus the cluster, role, subnets and launch template. */
export function nodeGroupArgs(spec: NodeGroupSpec): Omit<eks.ManagedNodeGroupArgs, "cluster"> {
  return {
    nodeGroupName: spec.name,
    amiType: spec.amiType,
    instanceTypes: [...spec.instanceTypes],
    capacityType: spec.capacityType,
    scalingConfig: { minSize: spec.minSize, desiredSize: spec.desiredSize, maxSize: spec.maxSize },
    // Desired size belongs to autoscalers and operators after creation.
    ignoreScalingChanges: true,
    labels: spec.labels,
    ...(spec.gpu ? { taints: [{ key: GPU_TAINT.key, value: GPU_TAINT.value, effect: "NO_SCHEDULE" }] } : {}),
  };
}

export function gpuNodeGroupSpec(clusterName: string, poolName: string, pool: GpuPoolConfig): NodeGroupSpec {
  return {
    name: `${clusterName}-${poolName}`,
    instanceTypes: pool.instanceTypes,
    capacityType: pool.capacityType,
    minSize: pool.minNodes,
    desiredSize: pool.minNodes,
    maxSize: pool.maxNodes,
    amiType: AMI_TYPE.gpu,
    labels: gpuNodeLabels(poolName, pool),
    gpu: true,
  };
}

export function systemNodeGroupSpec(clusterName: string, cfg: PlatformConfig["cluster"]["systemNodes"]): NodeGroupSpec {
  return {
    name: `${clusterName}-${SYSTEM_POOL}`,
    instanceTypes: cfg.instanceTypes,
    // cluster.systemNodes.capacityType: SPOT only in dev (infra/config/cross-checks.ts).
    capacityType: cfg.capacityType,
    minSize: cfg.minSize,
    desiredSize: cfg.desiredSize,
    maxSize: cfg.maxSize,
    amiType: AMI_TYPE.cpu,
    labels: { [POOL_LABEL]: SYSTEM_POOL },
    gpu: false,
  };
}

export class NodeGroups extends pulumi.ComponentResource {
  public readonly nodeRole: aws.iam.Role;
  public readonly groups: Readonly<Record<string, eks.ManagedNodeGroup>>;

  constructor(name: string, args: NodeGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:gpu:NodeGroups", name, {}, opts);
    const child = { parent: this };

    this.nodeRole = new aws.iam.Role(`${name}-node`, { assumeRolePolicy: JSON.stringify(serviceTrustPolicy("ec2.amazonaws.com")), description: `Managed node groups of ${args.clusterName}` }, child);
    for (const [key, arn] of Object.entries({ worker: MANAGED_POLICY.eksWorkerNode, cni: MANAGED_POLICY.eksCni, ecr: MANAGED_POLICY.ecrPullOnly, ssm: MANAGED_POLICY.ssmCore })) {
      new aws.iam.RolePolicyAttachment(`${name}-node-${key}`, { role: this.nodeRole.name, policyArn: arn }, child);
    }

    const groups: Record<string, eks.ManagedNodeGroup> = {};
    const make = (key: string, spec: NodeGroupSpec, diskSizeGiB: number, efa?: { interfaces: number; subnetIndex: number }, warmStart?: LaunchTemplateSpec["warmStart"]) => {
      let efaSpec: LaunchTemplateSpec["efa"];
      let subnetIds = args.privateSubnetIds;
      if (efa) {
        const sg = new aws.ec2.SecurityGroup(
          `${name}-${key}-efa`,
          {
            vpcId: args.vpcId,
            description: `EFA traffic between ${spec.name} nodes`,
            ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true, description: "EFA within the group" }],
            egress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true, description: "EFA within the group" }],
          },
          child,
        );
        const pg = new aws.ec2.PlacementGroup(`${name}-${key}`, { name: spec.name, strategy: "cluster" }, child);
        efaSpec = { interfaces: efa.interfaces, securityGroupIds: [args.clusterSecurityGroupId, sg.id], placementGroup: pg.name };
        // A cluster placement group lives in one AZ: EFA pools use one subnet.
        subnetIds = [args.privateSubnetIds[efa.subnetIndex]!];
      }
      const lt = new aws.ec2.LaunchTemplate(`${name}-${key}`, launchTemplateArgs({ name: spec.name, diskSizeGiB, tags: args.tags, ...(efaSpec ? { efa: efaSpec } : {}), ...(warmStart ? { warmStart } : {}) }), child);
      groups[key] = new eks.ManagedNodeGroup(
        `${name}-${key}`,
        {
          ...nodeGroupArgs(spec),
          cluster: args.cluster,
          nodeRole: this.nodeRole,
          subnetIds,
          launchTemplate: { id: lt.id, version: pulumi.interpolate`${lt.latestVersion}` },
        },
        child,
      );
    };

    make(SYSTEM_POOL, systemNodeGroupSpec(args.clusterName, args.systemNodes), args.systemNodes.diskSizeGiB);
    for (const [poolName, pool] of Object.entries(args.gpuPools)) {
      const t = gpuOf(pool);
      make(poolName, gpuNodeGroupSpec(args.clusterName, poolName, pool), pool.diskSizeGiB, pool.efa ? { interfaces: t.efaInterfaces, subnetIndex: 0 } : undefined, poolWarmStart(pool, args.warmStart));
    }
    this.groups = groups;

    this.registerOutputs({ nodeRoleArn: this.nodeRole.arn, nodeGroups: Object.keys(groups) });
  }
}
