/**
 * GpuCapacity: the cluster's compute. Managed node groups (system + one per GPU pool) hold the
 * baseline, Karpenter NodePools the spot and burst capacity, and the NVIDIA runtime makes GPUs
 * schedulable. The config's capacity cross-check (infra/capacity.ts) keeps the two coherent with
 * the models' replicas; the cluster model checks the rendered result (tests/cluster/scheduling.ts).
 */
import type * as eks from "@pulumi/eks";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../infra/config";
import { Karpenter } from "./karpenter";
import { NodeGroups, SYSTEM_POOL } from "./node-groups";
import { NvidiaRuntime } from "./nvidia";

export interface GpuCapacityArgs {
  readonly config: Pick<PlatformConfig, "cluster" | "gpuPools" | "karpenter" | "region" | "warmStart">;
  readonly clusterName: string;
  readonly cluster: eks.Cluster;
  readonly clusterEndpoint: pulumi.Input<string>;
  readonly clusterSecurityGroupId: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  readonly privateSubnetIds: pulumi.Input<string>[];
  readonly tags: Record<string, string>;
  readonly k8sProvider: k8s.Provider;
  readonly monitoringCrds: pulumi.Resource;
  readonly nvidiaNamespace: k8s.core.v1.Namespace;
}

/** Root volume of Karpenter GPU nodes: the largest configured for a GPU pool, 300 GiB at least. */
export function karpenterGpuDiskGiB(gpuPools: PlatformConfig["gpuPools"]): number {
  return Math.max(300, ...Object.values(gpuPools).map((p) => p.diskSizeGiB));
}

export class GpuCapacity extends pulumi.ComponentResource {
  public readonly nodeGroups: NodeGroups;
  public readonly karpenter: Karpenter;
  public readonly nvidia: NvidiaRuntime;

  constructor(name: string, args: GpuCapacityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-platform:gpu:GpuCapacity", name, {}, opts);
    const { config } = args;

    this.nodeGroups = new NodeGroups(
      `${name}-nodegroups`,
      {
        clusterName: args.clusterName,
        cluster: args.cluster,
        systemNodes: config.cluster.systemNodes,
        gpuPools: config.gpuPools,
        vpcId: args.vpcId,
        privateSubnetIds: args.privateSubnetIds,
        clusterSecurityGroupId: args.clusterSecurityGroupId,
        tags: args.tags,
        warmStart: config.warmStart,
      },
      { parent: this },
    );

    this.karpenter = new Karpenter(
      `${name}-karpenter`,
      {
        config: config.karpenter,
        clusterName: args.clusterName,
        region: config.region,
        clusterEndpoint: args.clusterEndpoint,
        clusterSecurityGroupId: args.clusterSecurityGroupId,
        tags: args.tags,
        gpuDiskSizeGiB: karpenterGpuDiskGiB(config.gpuPools),
        warmStart: config.warmStart,
        k8sProvider: args.k8sProvider,
        dependsOn: [this.nodeGroups.groups[SYSTEM_POOL]!, args.monitoringCrds],
      },
      { parent: this },
    );

    this.nvidia = new NvidiaRuntime(
      `${name}-nvidia`,
      { k8sProvider: args.k8sProvider, namespace: args.nvidiaNamespace, efa: Object.values(config.gpuPools).some((p) => p.efa), monitoringCrds: args.monitoringCrds },
      { parent: this },
    );

    this.registerOutputs({ karpenterQueue: this.karpenter.queueName });
  }
}
