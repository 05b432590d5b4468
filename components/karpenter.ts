/**
 * Karpenter v1: spot and burst capacity.
 *
 * Follows the upstream v1.14 getting-started CloudFormation
 * (aws/karpenter-provider-aws website/content/en/v1.14/getting-started/getting-started-with-karpenter/cloudformation.yaml):
 * - the node role (KarpenterNodeRole-<cluster>) with its four managed policies, and an EC2_LINUX
 *   access entry so its nodes can join;
 * - the controller's IAM (node lifecycle, IAM integration, EKS integration, interruption and
 *   resource discovery statements), scoped to this cluster by tag, bound to the `karpenter`
 *   service account through EKS Pod Identity;
 * - the interruption queue: SQS with SSE, 300 s retention, TLS-only, fed by EventBridge rules
 *   for spot interruption warnings, rebalance recommendations, instance state changes, AWS Health
 *   events and capacity-reservation interruptions.
 * The karpenter-crd chart installs the CRDs (so they upgrade with the version); the karpenter
 * chart runs in kube-system on the system node group. Then two EC2NodeClasses (gpu, default)
 * and three NodePools (gpu-spot, gpu-on-demand, cpu).
 *
 * The gpu EC2NodeClass carries the warm start of its GPU families (config `warmStart`,
 * components/warm-start.ts): SOCI parallel pull through nodeadm's FastImagePull NodeConfig in
 * `userData`, or a data volume restored from an image snapshot (`blockDeviceMappings[].ebs.snapshotID`
 * and `volumeInitializationRate`, both in the v1.14.1 CRD), and a root volume fast enough to
 * unpack into. One class serves both GPU NodePools, so their families share one mode
 * (infra/config/warm-start.ts `warmStartProblems`).
 *
 * Managed node groups hold the baseline; nothing grows them (no cluster-autoscaler). Burst is
 * Karpenter's: each NodePool launches exactly the instance types its config lists
 * (`karpenter.<pool>.instanceTypes`), within its `limits`. The config's capacity cross-check
 * (infra/capacity.ts) requires the GPU pools to offer every GPU a model or GPU encoder is placed
 * on, with limits that reach every `replicas.max`.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { IEC2NodeClass } from "@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass";
import type { INodePool } from "@kubernetes-models/karpenter/karpenter.sh/v1/NodePool";
import { CHARTS } from "../infra/catalog/versions";
import type { NodePoolConfig, PlatformConfig } from "../infra/config";
import { karpenterGpuWarmStart, type WarmStartConfig, type WarmStartFamilyConfig } from "../infra/config/warm-start";
import { release } from "./helm";
import { MANAGED_POLICY, policyDocument, podIdentityTrustPolicy, serviceTrustPolicy, type PolicyDocument } from "./iam";
import { recommendedLabels } from "./labels";
import { GPU_PRESENT_LABEL, GPU_TAINT, POOL_LABEL, ROOT_DEVICE, SYSTEM_POOL } from "./node-groups";
import { karpenterSnapshotVolume, warmStartUserData, type ImageVolume } from "./warm-start";

export const KARPENTER_NAMESPACE = "kube-system";
export const KARPENTER_SERVICE_ACCOUNT = "karpenter";
export const DISCOVERY_TAG = "karpenter.sh/discovery";

/** The EventBridge events Karpenter handles (upstream cloudformation.yaml), keyed by rule suffix. */
export const INTERRUPTION_EVENTS = [
  { rule: "health", source: "aws.health", detailType: "AWS Health Event" },
  { rule: "spot-interruption", source: "aws.ec2", detailType: "EC2 Spot Instance Interruption Warning" },
  { rule: "rebalance", source: "aws.ec2", detailType: "EC2 Instance Rebalance Recommendation" },
  { rule: "state-change", source: "aws.ec2", detailType: "EC2 Instance State-change Notification" },
  { rule: "capacity-reservation", source: "aws.ec2", detailType: "EC2 Capacity Reservation Instance Interruption Warning" },
] as const;

/** EventBridge pattern: the key is `detail-type`, as EventBridge matches it. */
export function eventPattern(e: (typeof INTERRUPTION_EVENTS)[number]): string {
  return JSON.stringify({ source: [e.source], "detail-type": [e.detailType] });
}

/** Queue policy: EventBridge and SQS may send; anything over plain HTTP is denied. */
export function queuePolicy(queueArn: string): PolicyDocument {
  return policyDocument(
    { Sid: "AllowEventBridge", Effect: "Allow", Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] }, Action: "sqs:SendMessage", Resource: queueArn },
    { Sid: "DenyHTTP", Effect: "Deny", Principal: { AWS: "*" }, Action: "sqs:*", Resource: queueArn, Condition: { Bool: { "aws:SecureTransport": "false" } } },
  );
}

export interface ControllerPolicyInputs {
  readonly clusterName: string;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly nodeRoleArn: string;
  readonly queueArn: string;
}

/** The controller's permissions: the upstream v1.14 policies, scoped to this cluster by tag. */
export function controllerPolicy(i: ControllerPolicyInputs): PolicyDocument {
  const ec2 = (res: string, account = "*") => `arn:${i.partition}:ec2:${i.region}:${account}:${res}`;
  const owned = { [`aws:ResourceTag/kubernetes.io/cluster/${i.clusterName}`]: "owned" };
  const requestOwned = { [`aws:RequestTag/kubernetes.io/cluster/${i.clusterName}`]: "owned", "aws:RequestTag/eks:eks-cluster-name": i.clusterName };
  const taggedResources = ["fleet/*", "instance/*", "volume/*", "network-interface/*", "launch-template/*", "spot-instances-request/*"].map((r) => ec2(r));
  const profiles = `arn:${i.partition}:iam::${i.accountId}:instance-profile/*`;
  return policyDocument(
    {
      Sid: "AllowScopedEC2InstanceAccessActions",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Resource: [ec2("image/*", ""), ec2("snapshot/*", ""), ec2("security-group/*"), ec2("subnet/*"), ec2("capacity-reservation/*"), ec2("placement-group/*")],
    },
    {
      Sid: "AllowScopedEC2LaunchTemplateAccessActions",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Resource: ec2("launch-template/*"),
      Condition: { StringEquals: owned, StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" } },
    },
    {
      Sid: "AllowScopedEC2InstanceActionsWithTags",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
      Resource: taggedResources,
      Condition: { StringEquals: requestOwned, StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" } },
    },
    {
      Sid: "AllowScopedResourceCreationTagging",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: taggedResources,
      Condition: {
        StringEquals: { ...requestOwned, "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"] },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedResourceTagging",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: ec2("instance/*"),
      Condition: {
        StringEquals: owned,
        StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
        StringEqualsIfExists: { "aws:RequestTag/eks:eks-cluster-name": i.clusterName },
        "ForAllValues:StringEquals": { "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"] },
      },
    },
    {
      Sid: "AllowScopedDeletion",
      Effect: "Allow",
      Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
      Resource: [ec2("instance/*"), ec2("launch-template/*")],
      Condition: { StringEquals: owned, StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" } },
    },
    {
      Sid: "AllowPassingInstanceRole",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: i.nodeRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"] } },
    },
    {
      Sid: "AllowScopedInstanceProfileCreationActions",
      Effect: "Allow",
      Action: ["iam:CreateInstanceProfile"],
      Resource: profiles,
      Condition: {
        StringEquals: { ...requestOwned, "aws:RequestTag/topology.kubernetes.io/region": i.region },
        StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileTagActions",
      Effect: "Allow",
      Action: ["iam:TagInstanceProfile"],
      Resource: profiles,
      Condition: {
        StringEquals: { ...owned, "aws:ResourceTag/topology.kubernetes.io/region": i.region, ...requestOwned, "aws:RequestTag/topology.kubernetes.io/region": i.region },
        StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileActions",
      Effect: "Allow",
      Action: ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
      Resource: profiles,
      Condition: { StringEquals: { ...owned, "aws:ResourceTag/topology.kubernetes.io/region": i.region }, StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" } },
    },
    { Sid: "AllowAPIServerEndpointDiscovery", Effect: "Allow", Action: "eks:DescribeCluster", Resource: `arn:${i.partition}:eks:${i.region}:${i.accountId}:cluster/${i.clusterName}` },
    { Sid: "AllowInterruptionQueueActions", Effect: "Allow", Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], Resource: i.queueArn },
    {
      Sid: "AllowRegionalReadActions",
      Effect: "Allow",
      Action: [
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceStatus",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribePlacementGroups",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeSubnets",
      ],
      Resource: "*",
      Condition: { StringEquals: { "aws:RequestedRegion": i.region } },
    },
    { Sid: "AllowSSMReadActions", Effect: "Allow", Action: "ssm:GetParameter", Resource: `arn:${i.partition}:ssm:${i.region}::parameter/aws/service/*` },
    { Sid: "AllowPricingReadActions", Effect: "Allow", Action: "pricing:GetProducts", Resource: "*" },
    { Sid: "AllowUnscopedInstanceProfileListAction", Effect: "Allow", Action: "iam:ListInstanceProfiles", Resource: "*" },
    { Sid: "AllowInstanceProfileReadActions", Effect: "Allow", Action: "iam:GetInstanceProfile", Resource: profiles },
  );
}

export interface ControllerValues {
  readonly clusterName: string;
  readonly clusterEndpoint: pulumi.Input<string>;
  readonly queueName: pulumi.Input<string>;
}

/** Helm values of the karpenter chart. */
export function karpenterValues(v: ControllerValues): Record<string, unknown> {
  return {
    settings: { clusterName: v.clusterName, clusterEndpoint: v.clusterEndpoint, interruptionQueue: v.queueName },
    serviceAccount: { create: true, name: KARPENTER_SERVICE_ACCOUNT },
    // Two replicas (hostname anti-affinity and zone spread are chart defaults) on the system group,
    // never on nodes Karpenter manages itself.
    replicas: 2,
    nodeSelector: { "kubernetes.io/os": "linux", [POOL_LABEL]: SYSTEM_POOL },
    controller: { resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } } },
    serviceMonitor: { enabled: true },
    logLevel: "info",
  };
}

export interface NodeClassSpec {
  readonly name: string;
  readonly clusterName: string;
  readonly amiAlias: string;
  readonly nodeRoleName: string;
  readonly diskSizeGiB: number;
  /** Cost-allocation tags: provider default tags do not reach instances Karpenter launches. */
  readonly tags: Record<string, string>;
  /** GPU classes: how new nodes get the vLLM image, and the root volume's speed. */
  readonly warmStart?: { readonly family: Readonly<WarmStartFamilyConfig>; readonly imageVolume: ImageVolume };
}

export function ec2NodeClass(s: NodeClassSpec): IEC2NodeClass {
  const discovery = { [DISCOVERY_TAG]: s.clusterName };
  const ws = s.warmStart;
  const userData = ws ? warmStartUserData(ws.family.mode) : undefined;
  return {
    apiVersion: "karpenter.k8s.aws/v1",
    kind: "EC2NodeClass",
    metadata: { name: s.name, labels: recommendedLabels(s.name, "karpenter") },
    spec: {
      role: s.nodeRoleName,
      amiSelectorTerms: [{ alias: s.amiAlias }],
      subnetSelectorTerms: [{ tags: discovery }],
      securityGroupSelectorTerms: [{ tags: discovery }],
      metadataOptions: { httpEndpoint: "enabled", httpProtocolIPv6: "disabled", httpPutResponseHopLimit: 1, httpTokens: "required" },
      blockDeviceMappings: [
        {
          deviceName: ROOT_DEVICE,
          ebs: { volumeSize: `${s.diskSizeGiB}Gi`, volumeType: "gp3", encrypted: true, deleteOnTermination: true, iops: ws?.imageVolume.iops ?? 3000, throughput: ws?.imageVolume.throughputMiBps ?? 250 },
        },
        ...(ws?.family.mode === "snapshot" ? [karpenterSnapshotVolume(ws.family, ws.imageVolume)] : []),
      ],
      ...(userData ? { userData } : {}),
      tags: { ...s.tags, [DISCOVERY_TAG]: s.clusterName },
    },
  };
}

/** The gpu EC2NodeClass's warm start: the mode of the families its GPU NodePools launch. */
export function gpuClassWarmStart(k: PlatformConfig["karpenter"], ws: WarmStartConfig): NonNullable<NodeClassSpec["warmStart"]> {
  const types = [k.gpuSpot, k.gpuOnDemand].filter((p) => p.enabled).flatMap((p) => p.instanceTypes);
  return { family: karpenterGpuWarmStart(ws, types), imageVolume: ws.imageVolume };
}

export type NodePoolKind = "gpu-spot" | "gpu-on-demand" | "cpu";

/** A Karpenter v1 NodePool from its config. */
export function nodePool(kind: NodePoolKind, cfg: NodePoolConfig, nodeClassName: string): INodePool {
  const gpu = kind !== "cpu";
  const capacity = kind === "gpu-spot" ? "spot" : "on-demand";
  return {
    apiVersion: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: { name: kind, labels: recommendedLabels(kind, "karpenter") },
    spec: {
      weight: cfg.weight,
      limits: { cpu: String(cfg.limits.cpu), memory: `${cfg.limits.memoryGiB}Gi`, "nvidia.com/gpu": String(cfg.limits.gpus) },
      disruption: { consolidationPolicy: cfg.consolidationPolicy, consolidateAfter: cfg.consolidateAfter, budgets: [{ nodes: cfg.disruptionBudgetNodes }] },
      template: {
        metadata: { labels: { [POOL_LABEL]: kind, ...(gpu ? { [GPU_PRESENT_LABEL]: "true" } : {}) } },
        spec: {
          nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: nodeClassName },
          requirements: [
            { key: "karpenter.sh/capacity-type", operator: "In", values: [capacity] },
            // Exactly the configured, priced types (config checks each against infra/catalog/instances.ts).
            { key: "node.kubernetes.io/instance-type", operator: "In", values: [...cfg.instanceTypes] },
            { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
            { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
          ],
          ...(gpu ? { taints: [{ key: GPU_TAINT.key, value: GPU_TAINT.value, effect: "NoSchedule" as const }] } : {}),
          expireAfter: cfg.expireAfter,
        },
      },
    },
  };
}

export interface KarpenterArgs {
  readonly config: PlatformConfig["karpenter"];
  readonly clusterName: string;
  readonly region: string;
  readonly clusterEndpoint: pulumi.Input<string>;
  /** The EKS-managed cluster security group: tagged for discovery, attached to Karpenter nodes. */
  readonly clusterSecurityGroupId: pulumi.Input<string>;
  readonly tags: Record<string, string>;
  readonly gpuDiskSizeGiB: number;
  readonly warmStart: WarmStartConfig;
  readonly k8sProvider: k8s.Provider;
  /** What the controller pods need first: the system node group, the monitoring CRDs. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class Karpenter extends pulumi.ComponentResource {
  public readonly queueName: pulumi.Output<string>;
  public readonly nodeRole: aws.iam.Role;
  public readonly controllerRole: aws.iam.Role;
  public readonly release: k8s.helm.v3.Release;
  public readonly nodePools: Readonly<Record<NodePoolKind, k8s.apiextensions.CustomResource | undefined>>;

  constructor(name: string, args: KarpenterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:gpu:Karpenter", name, {}, opts);
    const child = { parent: this };
    const k8sOpts = { parent: this, provider: args.k8sProvider };
    const { clusterName } = args;

    // Node role and its access entry.
    const nodeRoleName = `KarpenterNodeRole-${clusterName}`;
    this.nodeRole = new aws.iam.Role(
      `${name}-node`,
      { name: nodeRoleName, assumeRolePolicy: JSON.stringify(serviceTrustPolicy("ec2.amazonaws.com")), description: "Nodes launched by Karpenter" },
      child,
    );
    for (const [key, arn] of Object.entries({ cni: MANAGED_POLICY.eksCni, worker: MANAGED_POLICY.eksWorkerNode, ecr: MANAGED_POLICY.ecrPullOnly, ssm: MANAGED_POLICY.ssmCore })) {
      new aws.iam.RolePolicyAttachment(`${name}-node-${key}`, { role: this.nodeRole.name, policyArn: arn }, child);
    }
    const accessEntry = new aws.eks.AccessEntry(`${name}-node`, { clusterName, principalArn: this.nodeRole.arn, type: "EC2_LINUX" }, child);

    // Interruption queue and the rules that feed it.
    const queue = new aws.sqs.Queue(`${name}-interruption`, { name: clusterName, messageRetentionSeconds: 300, sqsManagedSseEnabled: true }, child);
    new aws.sqs.QueuePolicy(`${name}-interruption`, { queueUrl: queue.url, policy: queue.arn.apply((arn) => JSON.stringify(queuePolicy(arn))) }, child);
    for (const e of INTERRUPTION_EVENTS) {
      const rule = new aws.cloudwatch.EventRule(`${name}-${e.rule}`, { description: `Karpenter interruption handling: ${e.detailType}`, eventPattern: eventPattern(e) }, child);
      new aws.cloudwatch.EventTarget(`${name}-${e.rule}`, { rule: rule.name, arn: queue.arn, targetId: "KarpenterInterruptionQueueTarget" }, child);
    }
    this.queueName = queue.name;

    // Controller identity through Pod Identity.
    const account = aws.getCallerIdentityOutput({}, child);
    const partition = aws.getPartitionOutput({}, child);
    this.controllerRole = new aws.iam.Role(`${name}-controller`, { assumeRolePolicy: JSON.stringify(podIdentityTrustPolicy()), description: `Karpenter controller of ${clusterName}` }, child);
    const controllerRolePolicy = new aws.iam.RolePolicy(
      `${name}-controller`,
      {
        role: this.controllerRole.id,
        policy: pulumi
          .all([account.accountId, partition.partition, this.nodeRole.arn, queue.arn])
          .apply(([accountId, p, nodeRoleArn, queueArn]) => JSON.stringify(controllerPolicy({ clusterName, region: args.region, accountId, partition: p, nodeRoleArn, queueArn }))),
      },
      child,
    );
    const podIdentity = new aws.eks.PodIdentityAssociation(
      `${name}-controller`,
      { clusterName, namespace: KARPENTER_NAMESPACE, serviceAccount: KARPENTER_SERVICE_ACCOUNT, roleArn: this.controllerRole.arn },
      // The controller (which waits for this association) must start with its permissions.
      { ...child, dependsOn: [controllerRolePolicy] },
    );

    // Karpenter discovers the node security group by tag.
    new aws.ec2.Tag(`${name}-cluster-sg-discovery`, { resourceId: args.clusterSecurityGroupId, key: DISCOVERY_TAG, value: clusterName }, child);

    const crds = release(`${name}-crd`, { name: "karpenter-crd", namespace: KARPENTER_NAMESPACE, pin: CHARTS.karpenterCrd, values: {} }, k8sOpts);
    this.release = release(
      `${name}-controller`,
      {
        name: "karpenter",
        namespace: KARPENTER_NAMESPACE,
        pin: CHARTS.karpenter,
        skipCrds: true,
        values: karpenterValues({ clusterName, clusterEndpoint: args.clusterEndpoint, queueName: queue.name }),
      },
      { ...k8sOpts, dependsOn: [crds, podIdentity, accessEntry, ...args.dependsOn] },
    );

    const crOpts = { ...k8sOpts, dependsOn: [crds, this.release] };
    const nodeClass = (spec: NodeClassSpec) => new k8s.apiextensions.CustomResource(`${name}-nodeclass-${spec.name}`, ec2NodeClass(spec), crOpts);
    const common = { clusterName, amiAlias: args.config.amiAlias, nodeRoleName, tags: args.tags };
    const gpuClass = nodeClass({ ...common, name: "gpu", diskSizeGiB: args.gpuDiskSizeGiB, warmStart: gpuClassWarmStart(args.config, args.warmStart) });
    const cpuClass = nodeClass({ ...common, name: "default", diskSizeGiB: 100 });

    const pool = (kind: NodePoolKind, cfg: NodePoolConfig, cls: k8s.apiextensions.CustomResource, clsName: string) =>
      cfg.enabled ? new k8s.apiextensions.CustomResource(`${name}-nodepool-${kind}`, nodePool(kind, cfg, clsName), { ...crOpts, dependsOn: [...crOpts.dependsOn, cls] }) : undefined;
    this.nodePools = {
      "gpu-spot": pool("gpu-spot", args.config.gpuSpot, gpuClass, "gpu"),
      "gpu-on-demand": pool("gpu-on-demand", args.config.gpuOnDemand, gpuClass, "gpu"),
      cpu: pool("cpu", args.config.cpu, cpuClass, "default"),
    };

    this.registerOutputs({ queueName: this.queueName, nodeRoleArn: this.nodeRole.arn, controllerRoleArn: this.controllerRole.arn });
  }
}
